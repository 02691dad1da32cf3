using HetQ.Data;
using HetQ.Nn;
using HetQ.Nn.Layers;

namespace HetQ.Bench;

/// <summary>The training workloads timed against PyTorch (bench/peer/torch_mlp.py builds the same ones).</summary>
internal static class Workloads
{
    /// <summary>(a) 16-64-32-32-5 on 664,000 synthetic samples: Gaussian features, labels from a random linear teacher.</summary>
    public static Dataset Synthetic(int samples = 664_000, int features = 16, int classes = 5, int seed = 0)
    {
        var rng = new Random(seed);
        var teacher = new double[features * classes];
        for (int i = 0; i < teacher.Length; i++) teacher[i] = Initializers.Normal(rng);
        var x = new float[samples * features];
        var y = new int[samples];
        for (int s = 0; s < samples; s++)
        {
            for (int f = 0; f < features; f++) x[s * features + f] = (float)Initializers.Normal(rng);
            int best = 0;
            double bestScore = double.NegativeInfinity;
            for (int c = 0; c < classes; c++)
            {
                double score = 0;
                for (int f = 0; f < features; f++) score += x[s * features + f] * teacher[f * classes + c];
                if (score > bestScore) { bestScore = score; best = c; }
            }
            y[s] = best;
        }
        return new Dataset("synthetic-jets", new[] { features }, x, y, classes);
    }

    public static Model Mlp(int[] widths, bool quantized = false, int seed = 42)
    {
        var layers = new List<(Layer, string[]?)>();
        for (int i = 1; i < widths.Length; i++)
            layers.Add((new Dense(widths[i], i < widths.Length - 1 ? new Activation(ActivationKind.Relu) : default), null));
        var model = Model.Build(new[] { widths[0] }, layers, seed);
        if (quantized)
        {
            // The same 6-bit QAT as the PyTorch peer: quantized_bits(6,0,alpha=1) weights and biases,
            // quantized_relu(6) after each hidden ReLU, float logits.
            var w = HetQ.Quantization.QuantizerParser.Parse("quantized_bits(6,0,alpha=1)");
            var a = HetQ.Quantization.QuantizerParser.Parse("quantized_relu(6)");
            for (int i = 0; i < model.Nodes.Count; i++)
                model.Nodes[i].Layer.Quantizers = new LayerQuantizers(w, w, i < model.Nodes.Count - 1 ? a : null);
        }
        return model;
    }
}
