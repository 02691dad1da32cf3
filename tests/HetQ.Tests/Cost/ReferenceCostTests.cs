using HetQ.Cost;
using HetQ.Graph;
using HetQ.Nn;
using HetQ.Nn.Layers;
using HetQ.Numerics;

namespace HetQ.Tests.Cost;

/// <summary>The reference cost (AutoQKeras's forgiving-factor denominator): a model costed with int8 weights and
/// activations and int32 accumulators, or in floating point, whatever quantizers it has.</summary>
public class ReferenceCostTests
{
    private static readonly EnergyModel E = EnergyModel.Horowitz45nm;

    /// <summary>A float MLP 16-8-3 with softmax; weights i/100 - 0.3 (some exactly 0) so that counts are predictable.</summary>
    private static Model FloatMlp()
    {
        var model = Model.Build([16], new List<(Layer, string[]?)>
        {
            (new Dense(8, new Activation(ActivationKind.Relu)) { Name = "fc1" }, null),
            (new Dense(3) { Name = "fc2" }, null),
            (new ActivationLayer(new Activation(ActivationKind.Softmax)) { Name = "softmax" }, null),
        }, 1);
        foreach (var p in model.Parameters)
            for (int i = 0; i < p.Length; i++) p.Value[i] = (i % 61) / 100f - 0.3f;
        return model;
    }

    [Fact]
    public void A_float_model_without_quantizers_is_costed_with_int8_weights_and_activations_and_int32_accumulators()
    {
        var model = FloatMlp();
        var g = CostModel.Reference(model);
        Assert.Equal(["input", "fc1", "fc2"], g.Nodes.Select(n => n.Name));
        var fc1 = Assert.IsType<DenseOp>(g.Nodes[1].Op);
        Assert.Equal(8, fc1.WeightType.Width);
        Assert.Equal(32, fc1.AccType.Width);
        Assert.True(fc1.Output.Relu);                       // the ReLU stays the output stage
        Assert.Equal(8, g.Nodes[1].Output.Type.Width);
        Assert.Equal(8, g.Input.Output.Type.Width);

        var r = CostModel.EstimateReference(model);
        Assert.Equal(model.ParameterCount, r.Total.Parameters);
        Assert.Equal(model.ParameterCount * 8L, r.Total.ParameterBits);
        var l1 = r.Layers[1];
        // Weights (i % 61)/100 - 0.3 at i = 30 are 0: the kernel of fc1 has 128 values, i = 30 and 91 among them.
        Assert.Equal(2, l1.ZeroWeights);
        Assert.Equal(126, l1.Multiplications);
        double p = 2 / 128.0;
        Assert.Equal(8 * 16 * ((1 - p) * 8 * 8 + 8 + 8 + 4), l1.Bops, 1e-9);
        // 126 int8 × int8 products (g = 8) and 126 + 8 biases - 8 = 126 additions of 32 bits.
        Assert.Equal(126 * (0.002994791667 * 64 + 0.001041666667 * 8) + 126 * 0.003125 * 32, l1.OpEnergy, 1e-9);
        Assert.Equal(r.Total.Energy, r.Metric("energy"));
    }

    [Fact]
    public void A_floating_point_reference_costs_QTools_fp32_operations()
    {
        var r = CostModel.EstimateReference(FloatMlp(), ReferenceQuantization.Float32, E, new Placement());
        var l1 = r.Layers[1];
        Assert.Equal(MultiplierKind.Float, l1.Multiplier);
        Assert.Equal(l1.Multiplications * 3.7 + l1.Additions * 0.9, l1.OpEnergy, 1e-9);
        Assert.Equal(16 * 8 * 32 + 8 * 32, l1.ParameterBits);
        var fp16 = CostModel.EstimateReference(FloatMlp(), new ReferenceQuantization(16, 16, 16, FloatAccumulator: true)).Layers[1];
        Assert.Equal(fp16.Multiplications * 1.1 + fp16.Additions * 0.4, fp16.OpEnergy, 1e-9);
    }

    [Fact]
    public void The_reference_of_a_quantized_model_ignores_its_quantizers()
    {
        var q = FloatMlp();
        var quantizers = new LayerQuantizers(HetQ.Quantization.QuantizerParser.Parse("quantized_bits(4,0,alpha=1)"), HetQ.Quantization.QuantizerParser.Parse("quantized_bits(4,0,alpha=1)"));
        foreach (var n in q.Nodes.Where(n => n.Layer is Dense)) n.Layer.Quantizers = quantizers;
        Assert.Equal(CostModel.EstimateReference(FloatMlp()).Total.ParameterBits, CostModel.EstimateReference(q).Total.ParameterBits);
        Assert.Equal(CostModel.EstimateReference(FloatMlp()).Total.Energy, CostModel.EstimateReference(q).Total.Energy, 1e-9);
    }

    [Fact]
    public void Layers_the_freezer_refuses_still_have_a_reference_cost()
    {
        // Batch norm, tanh, a conv with padding, max pooling and a dense on a rank-2 input: none of them freezes.
        var model = Model.Build([8, 8, 1], new List<(Layer, string[]?)>
        {
            (new Conv(2, 4, [3, 3], [1, 1], Padding.Same) { Name = "c1" }, null),
            (new BatchNorm { Name = "bn" }, null),
            (new ActivationLayer(new Activation(ActivationKind.Tanh)) { Name = "tanh" }, null),
            (new Pool(true, 2, [2, 2], null, Padding.Valid) { Name = "pool" }, null),
            (new GlobalAveragePool { Name = "gap" }, null),
            (new Dense(3) { Name = "out" }, null),
        }, 2);
        var kernel = model.Nodes[0].Layer.Parameters[0];
        for (int i = 0; i < kernel.Length; i++) kernel.Value[i] = 0.05f + i / 1000f;
        var g = CostModel.Reference(model);
        Assert.Contains(g.Notes, n => n.Contains("'bn'", StringComparison.Ordinal));
        Assert.Contains(g.Nodes, n => n.Op is ConvOp);
        Assert.Contains(g.Nodes, n => n.Op is MaxPoolOp);
        Assert.Contains(g.Nodes, n => n.Op is AvgPoolOp);
        var r = CostModel.EstimateReference(model);
        var c1 = r.Layers.Single(l => l.Name == "c1");
        // 3x3 'same' over 8x8: each of 4 filters multiplies 9 taps at the 36 inner positions, 6 at the 24 edge ones, 4 at the 4 corners.
        Assert.Equal(0, c1.ZeroWeights);
        Assert.Equal(4L * (36 * 9 + 24 * 6 + 4 * 4), c1.Multiplications);
        Assert.True(r.Total.Energy > 0);
    }
}
