using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using HetQ.Cost;
using HetQ.Emulation;
using HetQ.Graph;
using HetQ.Hardware;
using HetQ.Nn;
using HetQ.Nn.Layers;
using HetQ.Numerics;
using HetQ.Quantization;

namespace HetQ.Tests.Graph;

/// <summary>Every op of the integer graph has one name, an emulation, a cost and a Verilog emitter: the visitor makes
/// a missing method a compile error; this test runs every op through all three on one graph, so an op the graph
/// contract gains without a case here fails.</summary>
public class OpContractTests
{
    private static LayerQuantizers Q(string k, string b, string? a) =>
        new(QuantizerParser.Parse(k), QuantizerParser.Parse(b), a is null ? null : QuantizerParser.Parse(a));

    /// <summary>A small autoencoder whose frozen graph holds every op (a requantization after the residual add, a hard_tanh
    /// clip, the reconstruction error appended as an autoencoder's score).</summary>
    internal static IntegerGraph EveryOp()
    {
        var model = Model.Build(new[] { 4, 4, 1 }, new List<(Layer, string[]?)>
        {
            (new Conv(2, 2, new[] { 3, 3 }, new[] { 1, 1 }, Padding.Same, new Activation(ActivationKind.Relu)) { Name = "c1", Quantizers = Q("quantized_bits(4,0,alpha=1)", "quantized_bits(5,0,alpha=1)", "quantized_relu(5,2)") }, null),
            (new Pool(true, 2, new[] { 3, 3 }, new[] { 2, 2 }, Padding.Same) { Name = "max" }, null),
            (new Conv(2, 2, new[] { 3, 3 }, new[] { 1, 1 }, Padding.Same) { Name = "c2", Quantizers = Q("quantized_bits(5,0,alpha=1)", "quantized_bits(6,1,alpha=1)", "quantized_bits(7,2,alpha=1)") }, null),
            (new Add { Name = "res", Quantizers = new LayerQuantizers(Activation: QuantizerParser.Parse("quantized_bits(7,2,alpha=1)")) }, new[] { "max", "c2" }),
            (new ActivationLayer(new Activation(ActivationKind.Relu)) { Name = "act", Quantizers = new LayerQuantizers(Activation: QuantizerParser.Parse("quantized_relu(6,2)")) }, null),
            (new ActivationLayer(new Activation(ActivationKind.HardTanh)) { Name = "clip" }, null),
            (new DepthwiseConv2D(new[] { 2, 2 }, new[] { 1, 1 }, Padding.Same, 2, new Activation(ActivationKind.Relu)) { Name = "dw", Quantizers = Q("quantized_bits(4,0,alpha=1)", "quantized_bits(6,1,alpha=1)", "quantized_relu(6,2)") }, null),
            (new Pool(false, 2, new[] { 2, 2 }, null, Padding.Valid) { Name = "avg" }, null),
            (new Flatten { Name = "flat" }, null),
            (new Dense(16) { Name = "out", Quantizers = Q("quantized_bits(6,1,alpha=1)", "quantized_bits(8,3,alpha=1)", "quantized_bits(8,3,alpha=1)") }, null),
        }, 5);
        model.InputQuantizer = new FakeQuantizer(QuantizerParser.Parse("ap_fixed<6,2,RND_CONV,SAT>"));
        var r = Freezer.Freeze(model, "every_op");
        Assert.True(r.Graph is not null, string.Join("; ", r.Problems));
        return ReconstructionError.Append(r.Graph!, ScoreNorm.L2);
    }

    private static Type[] OpTypes() =>
        typeof(Op).Assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(Op)) && !t.IsAbstract).OrderBy(t => t.Name, StringComparer.Ordinal).ToArray();

    [Fact]
    public void The_test_graph_holds_every_op_type()
    {
        var present = EveryOp().Nodes.Select(n => n.Op.GetType()).Distinct().OrderBy(t => t.Name, StringComparer.Ordinal).ToArray();
        Assert.Equal(OpTypes(), present);
    }

    [Fact]
    public void A_window_in_the_graph_file_is_its_eleven_fields_and_nothing_derived()
    {
        string[] fields = ["in_h", "in_w", "channels", "kh", "kw", "sh", "sw", "pad_top", "pad_left", "out_h", "out_w"];
        using var doc = JsonDocument.Parse(EveryOp().ToJson());
        var windows = doc.RootElement.GetProperty("graph").GetProperty("nodes").EnumerateArray()
            .Where(n => n.GetProperty("op").TryGetProperty("window", out _)).Select(n => n.GetProperty("op").GetProperty("window")).ToList();
        Assert.Equal(5, windows.Count); // conv, max pool, conv, depthwise, average pool
        foreach (var w in windows) Assert.Equal(fields, w.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public void Each_op_name_is_its_json_discriminator_and_names_are_unique()
    {
        var discriminators = typeof(Op).GetCustomAttributes<JsonDerivedTypeAttribute>().ToDictionary(a => a.DerivedType, a => (string)a.TypeDiscriminator!);
        Assert.Equal(OpTypes().Length, discriminators.Count);
        foreach (var node in EveryOp().Nodes) Assert.Equal(discriminators[node.Op.GetType()], node.Op.Name);
        Assert.Equal(discriminators.Count, discriminators.Values.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void Every_op_is_emulated_costed_and_written_as_verilog_under_its_name()
    {
        var g = EveryOp();
        var emu = new Emulator(g);
        var rng = new Random(3);
        var x = Enumerable.Range(0, 4 * emu.InputSize).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();
        Assert.Equal(4 * emu.OutputSize, emu.Run(x, 1).Length);

        var cost = CostModel.Estimate(g);
        Assert.Equal(g.Nodes.Select(n => n.Op.Name), cost.Layers.Take(g.Nodes.Count).Select(l => l.Op));

        var design = VerilogWriter.Write(g, new HardwareOptions());
        Assert.Equal(g.Nodes.Skip(1).Select(n => n.Op.Name), design.Manifest.Layers.Select(l => l.Op));
        foreach (var node in g.Nodes.Skip(1))
            Assert.Contains($"// {node.Name}: {node.Op.Name} ", design.TopText, StringComparison.Ordinal);
    }
}
