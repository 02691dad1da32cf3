using HetQ.Data;
using HetQ.Graph;
using HetQ.Hardware;
using HetQ.Nn;
using HetQ.Nn.Layers;
using HetQ.Quantization;
using HetQ.Tests.Hardware;
using HetQ.Training;

namespace HetQ.Tests.Graph;

/// <summary>The clip op (a hard_tanh activation): frozen, emulated bit-exactly against the fake-quantized model, and
/// simulated as Verilog against the emulator.</summary>
public class ClipOpTests(ITestOutputHelper output)
{
    internal static Model ClipModel(string? clipQuantizer, float min = -1, float max = 1)
    {
        var model = Model.Build(new[] { 2 }, new List<(Layer, string[]?)>
        {
            (new Dense(3) { Name = "fc", Quantizers = new(QuantizerParser.Parse("quantized_bits(5,1,alpha=1)"), QuantizerParser.Parse("quantized_bits(5,1,alpha=1)"), QuantizerParser.Parse("quantized_bits(8,3,alpha=1)")) }, null),
            (new ActivationLayer(new Activation(ActivationKind.HardTanh, Min: min, Max: max)) { Name = "clip", Quantizers = clipQuantizer is null ? null : new LayerQuantizers(Activation: QuantizerParser.Parse(clipQuantizer)) }, null),
            (new Dense(2, useBias: false) { Name = "out", Quantizers = new(QuantizerParser.Parse("quantized_bits(4,0,alpha=1)"), null, null) }, null),
        }, 2);
        model.InputQuantizer = new FakeQuantizer(QuantizerParser.Parse("ap_fixed<4,2,RND_CONV,SAT>"));
        float[][] values = { new[] { 1.5f, -0.75f, 0.5f, 1.25f, -1.875f, 0.25f }, new[] { 0.125f, -0.5f, 1f }, new[] { 0.75f, -0.5f, 0.25f, 0.625f, -0.875f, 0.375f } };
        var ps = model.Parameters;
        for (int i = 0; i < ps.Count; i++) values[i].CopyTo(ps[i].Value, 0);
        return model;
    }

    [Theory]
    [InlineData(null)]
    [InlineData("quantized_bits(4,1,alpha=1)")]
    public void A_hard_tanh_freezes_to_a_clip_that_emulates_the_fake_quantized_model_exactly(string? quantizer)
    {
        var model = ClipModel(quantizer);
        var g = Freezer.Freeze(model, "clip").Graph!;
        var node = g.Nodes.Single(n => n.Name == "clip");
        var clip = Assert.IsType<ClipOp>(node.Op);
        var t = g.Nodes[node.Inputs[0]].Output.Type;
        Assert.Equal((-(1L << t.FractionalBits), 1L << t.FractionalBits), (clip.Lo, clip.Hi)); // ±1 on the input's grid
        var x = TestDesigns.AllInputs(g);
        var data = new Dataset("codes", new[] { 2 }, x, new int[x.Length / 2], 2);
        var r = EvalJob.Run(model, "clip", data);
        Assert.Empty(r.Problems);
        Assert.Equal(0, r.Mismatches);
    }

    [Fact]
    public void A_clip_bound_off_the_input_grid_is_a_problem_naming_the_layer()
    {
        var r = Freezer.Freeze(ClipModel(null, min: -1f / 64), "clip");
        Assert.Null(r.Graph);
        Assert.Contains(r.Problems, p => p.Contains("'clip'", StringComparison.Ordinal) && p.Contains("min", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(SimulatorKind.Icarus)]
    [InlineData(SimulatorKind.Verilator)]
    public async Task The_clip_simulates_exactly_on_every_input(SimulatorKind kind)
    {
        using var dir = new TempDir();
        var g = Freezer.Freeze(ClipModel("quantized_bits(4,1,alpha=1)"), "clip").Graph!;
        await TestDesigns.Simulate(output, dir.Path, g, new HardwareOptions(), kind, TestDesigns.AllInputs(g), 0);
    }
}
