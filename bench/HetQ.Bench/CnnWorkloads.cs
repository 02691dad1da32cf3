using HetQ.Nn;
using HetQ.Nn.Layers;
using HetQ.Numerics;

namespace HetQ.Bench;

/// <summary>The convolutional training workloads timed against PyTorch (bench/peer/torch_cnn.py builds the same ones),
/// both on Fashion-MNIST 28x28x1 with 3x3 "valid" convolutions and 2x2 max pooling.</summary>
internal static class CnnWorkloads
{
    /// <summary>examples/fashion-cnn.json: conv 16, pool, conv 32, pool, flatten, dense 64 relu, dense 10 (batch 128).</summary>
    public static Model FashionCnn(int seed = 42) => Model.Build(new[] { 28, 28, 1 }, new (Layer, string[]?)[]
    {
        (Conv2(16), null), (Pool2(), null), (Conv2(32), null), (Pool2(), null), (new Flatten(), null),
        (new Dense(64, new Activation(ActivationKind.Relu)), null), (new Dense(10), null),
    }, seed);

    /// <summary>The small CNN of the streaming issue: conv 8, pool, conv 16, pool, flatten, dense 10.</summary>
    public static Model SmallCnn(int seed = 42) => Model.Build(new[] { 28, 28, 1 }, new (Layer, string[]?)[]
    {
        (Conv2(8), null), (Pool2(), null), (Conv2(16), null), (Pool2(), null), (new Flatten(), null), (new Dense(10), null),
    }, seed);

    private static Conv Conv2(int filters) => new(2, filters, new[] { 3, 3 }, new[] { 1, 1 }, Padding.Valid, new Activation(ActivationKind.Relu));

    private static Pool Pool2() => new(true, 2, new[] { 2, 2 }, null, Padding.Valid);

    /// <summary>Multiply-add FLOPs (2 per MAC) of one training step per sample: forward, weight gradient and
    /// input gradient of every conv and dense layer (no input gradient for the first layer).</summary>
    public static double TrainFlopsPerSample(Model model)
    {
        double flops = 0;
        bool first = true;
        foreach (var node in model.Nodes)
        {
            double macs = node.Layer switch
            {
                Conv c => (double)c.OutputShape[0] * (c.OutputShape.Length > 2 ? c.OutputShape[1] : 1) * c.Kernel.Length,
                Dense d => d.Kernel.Length,
                _ => 0,
            };
            if (macs == 0) continue;
            flops += 2 * macs * (first ? 2 : 3);
            first = false;
        }
        return flops;
    }
}
