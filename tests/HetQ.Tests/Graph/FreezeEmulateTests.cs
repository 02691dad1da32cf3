using HetQ.Data;
using HetQ.Emulation;
using HetQ.Graph;
using HetQ.Nn;
using HetQ.Nn.Layers;
using HetQ.Numerics;
using HetQ.Quantization;
using HetQ.Training;

namespace HetQ.Tests.Graph;

/// <summary>The promise: the emulated integer graph equals the fake-quantized float model on every sample.</summary>
public class FreezeEmulateTests
{
    private static LayerQuantizers Q(string k, string b, string? a) =>
        new(QuantizerParser.Parse(k), QuantizerParser.Parse(b), a is null ? null : QuantizerParser.Parse(a));

    internal static (Model, Dataset) TrainedDigitsMlp()
    {
        var data = DatasetLoader.LoadDigits();
        var model = Model.Build(new[] { 64 }, new List<(Layer, string[]?)>
        {
            (new Dense(32, new Activation(ActivationKind.Relu)) { Name = "fc1", Quantizers = Q("quantized_bits(6,0,alpha=1)", "quantized_bits(6,0,alpha=1)", "quantized_relu(6,1)") }, null),
            (new Dense(16, new Activation(ActivationKind.Relu)) { Name = "fc2", Quantizers = Q("quantized_bits(4,0,1,alpha=1)", "quantized_bits(8,3,1)", "quantized_relu(4,2)") }, null),
            (new Dense(10) { Name = "out", Quantizers = Q("quantized_bits(8,1,alpha=1)", "quantized_bits(8,2,alpha=1)", null) }, null),
            (new ActivationLayer(new Activation(ActivationKind.Softmax)) { Name = "softmax" }, null),
        }, 3);
        model.InputQuantizer = new FakeQuantizer(QuantizerParser.Parse("ap_ufixed<5,1,RND_CONV,SAT>"));
        // The model ends in softmax (which freezing leaves out), so train on its probabilities with MSE.
        using var t = new Trainer(model, new MeanSquaredError(), new Adam(0.005), new TrainOptions(8, 32));
        t.Fit(data, null);
        return (model, data);
    }

    [Fact]
    public void The_emulated_digits_MLP_equals_the_fake_quantized_model_on_every_sample()
    {
        var (model, data) = TrainedDigitsMlp();
        var r = EvalJob.Run(model, "digits", data);
        Assert.Empty(r.Problems);
        Assert.Equal(data.Count, r.Samples);
        Assert.Equal(0, r.Mismatches);
        Assert.Equal(r.AccuracyFakeQuant, r.AccuracyEmulated);
        Assert.Contains(r.Notes, n => n.Contains("softmax", StringComparison.Ordinal));
    }

    [Fact]
    public void A_dense_layer_on_a_sequence_is_refused_by_freeze_and_costed_as_a_pointwise_convolution_by_the_reference()
    {
        var model = Model.Build(new[] { 4, 3 }, new List<(Layer, string[]?)>
        {
            (new Dense(5, new Activation(ActivationKind.Relu)) { Name = "per_step", Quantizers = Q("quantized_bits(6,0,alpha=1)", "quantized_bits(6,0,alpha=1)", "quantized_relu(6,2)") }, null),
            (new Flatten { Name = "flat" }, null),
            (new Dense(3) { Name = "out", Quantizers = Q("quantized_bits(8,1,alpha=1)", "quantized_bits(8,3,alpha=1)", null) }, null),
        }, 7);
        model.InputQuantizer = new FakeQuantizer(QuantizerParser.Parse("ap_fixed<8,2,RND_CONV,SAT>"));
        var r = Freezer.Freeze(model, "seq");
        Assert.Null(r.Graph);
        Assert.Equal("layer 'per_step' (dense): dense on inputs of rank > 1 is not supported; flatten first", Assert.Single(r.Problems));
        var reference = HetQ.Cost.CostModel.Reference(model);
        var conv = Assert.IsType<ConvOp>(reference.Nodes[1].Op);
        Assert.Equal(Window.Pointwise(4, 3), conv.Window);
        Assert.Equal(conv.Weights.LongCount(w => w != 0) * 4, HetQ.Cost.CostModel.Estimate(reference).Layers[1].Multiplications); // every non-zero weight at each of 4 positions
    }

    [Fact]
    public void A_convolutional_graph_with_pooling_and_a_residual_add_emulates_exactly()
    {
        var rng = new Random(4);
        int n = 200;
        var x = new float[n * 8 * 8 * 1];
        var y = new int[n];
        for (int i = 0; i < n; i++)
        {
            y[i] = rng.Next(3);
            for (int j = 0; j < 64; j++) x[i * 64 + j] = (float)(rng.NextDouble() * 2 - 1 + (j % 3 == y[i] ? 0.7 : 0));
        }
        var data = new Dataset("img", new[] { 8, 8, 1 }, x, y, 3);
        var act = QuantizerParser.Parse("quantized_bits(8,2,alpha=1)");
        var model = Model.Build(new[] { 8, 8, 1 }, new List<(Layer, string[]?)>
        {
            (new Conv(2, 4, new[] { 3, 3 }, new[] { 1, 1 }, Padding.Same, new Activation(ActivationKind.Relu)) { Name = "c1", Quantizers = Q("quantized_bits(6,0,alpha=1)", "quantized_bits(6,0,alpha=1)", "quantized_relu(6,2)") }, null),
            (new Conv(2, 4, new[] { 3, 3 }, new[] { 1, 1 }, Padding.Same) { Name = "c2", Quantizers = Q("quantized_bits(5,0,alpha=1)", "quantized_bits(6,1,alpha=1)", "quantized_bits(8,2,alpha=1)") }, null),
            (new Add { Name = "res", Quantizers = new LayerQuantizers(Activation: act) }, new[] { "c1", "c2" }),
            (new DepthwiseConv2D(new[] { 3, 3 }, new[] { 2, 2 }, Padding.Same, 2, new Activation(ActivationKind.Relu)) { Name = "dw", Quantizers = Q("quantized_bits(4,0,alpha=1)", "quantized_bits(6,1,alpha=1)", "quantized_relu(6,2)") }, null),
            (new Pool(true, 2, new[] { 2, 2 }, null, Padding.Valid) { Name = "max" }, null),
            (new Pool(false, 2, new[] { 2, 2 }, null, Padding.Valid) { Name = "avg" }, null),
            (new Flatten { Name = "flat" }, null),
            (new Dropout(0.1) { Name = "drop" }, null),
            (new Dense(3) { Name = "out", Quantizers = Q("quantized_bits(8,1,alpha=1)", "quantized_bits(8,3,alpha=1)", null) }, null),
        }, 9);
        model.InputQuantizer = new FakeQuantizer(QuantizerParser.Parse("ap_fixed<8,2,RND_CONV,SAT>"));
        using (var t = new Trainer(model, new SoftmaxCrossEntropy(0), new Adam(0.01), new TrainOptions(3, 20))) t.Fit(data, null);
        var r = EvalJob.Run(model, "conv", data);
        Assert.Empty(r.Problems);
        Assert.Equal(0, r.Mismatches);
        Assert.NotNull(r.Graph);
        Assert.Contains(r.Graph!.Nodes, g => g.Op is ConvOp);
        Assert.Contains(r.Graph.Nodes, g => g.Op is DepthwiseConvOp);
        Assert.Contains(r.Graph.Nodes, g => g.Op is AvgPoolOp);
        Assert.Contains(r.Graph.Nodes, g => g.Op is AddOp);
    }

    [Fact]
    public void The_graph_survives_a_JSON_round_trip_and_emulates_the_same()
    {
        var (model, data) = TrainedDigitsMlp();
        var g = Freezer.Freeze(model, "digits").Graph!;
        string json = g.ToJson();
        var back = IntegerGraph.FromJson(json, "test");
        Assert.Equal(json, back.ToJson());
        Assert.Equal(new Emulator(g).Run(data.Features), new Emulator(back).Run(data.Features));
    }

    [Fact]
    public void Freezing_names_each_layer_that_is_not_exactly_representable()
    {
        var model = Model.Build(new[] { 4 }, new List<(Layer, string[]?)>
        {
            (new Dense(3, new Activation(ActivationKind.Sigmoid)) { Name = "hidden", Quantizers = Q("quantized_bits(4,0,alpha=\"auto\")", "quantized_bits(4,0)", null) }, null),
            (new Dense(2) { Name = "float_out" }, null),
        }, 1);
        var r = Freezer.Freeze(model, "bad");
        Assert.Null(r.Graph);
        Assert.Contains(r.Problems, p => p.Contains("'hidden'", StringComparison.Ordinal) && p.Contains("auto", StringComparison.Ordinal));
        Assert.Contains(r.Problems, p => p.Contains("'float_out'", StringComparison.Ordinal) && p.Contains("no quantizer", StringComparison.Ordinal));
    }

    [Fact]
    public void Accumulator_types_hold_the_extreme_sums_exactly()
    {
        var model = Model.Build(new[] { 3 }, new List<(Layer, string[]?)>
        {
            (new Dense(2) { Name = "d", Quantizers = Q("quantized_bits(4,0,alpha=1)", "quantized_bits(4,0,alpha=1)", null) }, null),
        }, 1);
        var k = model.Nodes[0].Layer.Parameters[0];
        float[] w = { 0.875f, -1f, 0.5f, 0.5f, -0.125f, 0.25f };
        w.CopyTo(k.Value, 0);
        model.InputQuantizer = new FakeQuantizer(QuantizerParser.Parse("ap_fixed<4,2,RND_CONV,SAT>"));
        var g = Freezer.Freeze(model, "t").Graph!;
        var dense = (DenseOp)g.Nodes[1].Op;
        // x in [-2, 1.75] step 1/4 (frac 2), w frac 3: acc frac 5. Column 0: |0.875|+|0.5|+|0.125| = 1.5 -> ±3.0 (-3 .. 2.625) needs 8 bits with sign.
        Assert.Equal(5, dense.AccType.FractionalBits);
        var emu = new Emulator(g);
        var extremes = new float[] { -2, 1.75f, -2, 1.75f, -2, -2, -2, 1.75f, 1.75f };
        var fake = Inference.Predict(model, new Dataset("e", new[] { 3 }, extremes, new[] { 0, 0, 0 }, 2));
        var values = emu.Values(emu.Run(extremes));
        for (int i = 0; i < values.Length; i++) Assert.Equal(fake[i], values[i]);
    }
}
