using HetQ.Graph;
using HetQ.Hardware;
using HetQ.Nn;
using HetQ.Nn.Layers;
using HetQ.Quantization;

namespace HetQ.Tests.Hardware;

/// <summary>Folded dense layers (--reuse): a small digits-shaped MLP (64 → 16 ReLU → 10) at reuse factors 1, 4 and 16,
/// per layer from a hardware configuration; its netlist (in process) and its Verilog (Verilator, Icarus) give the
/// emulator's outputs on every vector, with gaps in in_valid.</summary>
public class FoldedDesignTests(ITestOutputHelper output)
{
    private static LayerQuantizers Q(string k, string b, string? a) => TestDesigns.Q(k, b, a);

    /// <summary>An untrained MLP on the digits' 64 inputs: fc1 64 → 16 with ReLU, out 16 → 10.</summary>
    internal static IntegerGraph Mlp()
    {
        var r = Freezer.Freeze(MlpModel(), "digits_mlp_small");
        Assert.True(r.Graph is not null, string.Join("; ", r.Problems));
        return r.Graph!;
    }

    internal static Model MlpModel()
    {
        var model = Model.Build(new[] { 64 }, new List<(Layer, string[]?)>
        {
            (new Dense(16, new Activation(ActivationKind.Relu)) { Name = "fc1", Quantizers = Q("quantized_bits(6,0,alpha=1)", "quantized_bits(6,1,alpha=1)", "quantized_relu(6,2)") }, null),
            (new Dense(10) { Name = "out", Quantizers = Q("quantized_bits(6,0,alpha=1)", "quantized_bits(8,3,alpha=1)", "quantized_bits(8,3,alpha=1)") }, null),
        }, 11);
        model.InputQuantizer = new FakeQuantizer(QuantizerParser.Parse("ap_ufixed<5,1,RND_CONV,SAT>"));
        return model;
    }

    public static TheoryData<int, bool, bool> Factors => new()
    {
        { 1, false, false },
        { 4, false, false },
        { 16, false, false },
        { 16, true, false },
        { 5, false, true },
        { 160, false, false },
    };

    [Theory]
    [MemberData(nameof(Factors))]
    public void The_folded_netlist_equals_the_emulator_on_every_vector(int reuse, bool argmax, bool dsp)
    {
        var g = Mlp();
        var design = VerilogWriter.Write(g, new HardwareOptions(Argmax: argmax, Reuse: ReusePlan.All(reuse), Dsp: dsp));
        var m = design.Manifest;
        var v = Testbench.Vectors(g, m, ReadOnlySpan<float>.Empty, 80, 5);
        if (reuse == 1)
        {
            Assert.False(m.IsFolded);
            Testbench.Check(design.Netlist!, m, v);
            return;
        }
        Assert.True(m.IsFolded);
        Assert.Equal(reuse, m.InitiationInterval);
        Assert.Equal(2 * reuse, m.LatencyCycles);
        Assert.Equal(80, FoldedTestbench.Check(design.Netlist!, m, v));
        var tally = new LogicTally(design.Netlist!);
        int multipliers = tally.Of(Primitive.Multiplier).Count();
        Assert.True(multipliers <= (64 * 16 + reuse - 1) / reuse + (16 * 10 + reuse - 1) / reuse, $"{multipliers} multipliers");
        output.WriteLine($"reuse {reuse}: 80 vectors, 0 mismatches; {multipliers} multipliers, {m.RegisterBits} register bits");
    }

    [Fact]
    public void Multipliers_stepping_through_the_same_inputs_share_one_multiplexer_tree()
    {
        // at reuse 64 each of fc1's 16 multipliers computes one output and steps through all 64 inputs; zero weights at
        // different places in each output would give each its own pruned tree, but one 64-way tree (63 multiplexers)
        // serves them all: the zero weights' phases select an input too, times a 0 from the weight ROM
        var g = Mlp();
        int k = g.Nodes.Select((n, i) => (n, i)).Single(p => p.n.Name == "fc1").i;
        var d = (DenseOp)g.Nodes[k].Op;
        var w = (long[])d.Weights.Clone();
        for (int i = 0; i < d.In; i++)
            for (int j = 0; j < d.Out; j++)
                if ((i + 2 * j) % 5 == 0) w[i * d.Out + j] = 0;
        var nodes = g.Nodes.ToArray();
        nodes[k] = nodes[k] with { Op = d with { Weights = w } };
        g = g with { Nodes = nodes };
        var design = VerilogWriter.Write(g, new HardwareOptions(Reuse: ReusePlan.All(64)));
        int trees = design.Netlist!.Cells.Count(c => c.Kind == 'x' && c.Op is MuxCell && c.Prefix.Contains("fc1", StringComparison.Ordinal));
        Assert.True(trees <= 63, $"{trees} input multiplexers in fc1");
        Assert.Equal(60, FoldedTestbench.Check(design.Netlist!, design.Manifest, Testbench.Vectors(g, design.Manifest, ReadOnlySpan<float>.Empty, 60, 3)));
        output.WriteLine($"fc1 at reuse 64: {trees} input multiplexers");
    }

    [Fact]
    public void The_resource_model_prices_the_input_trees_apart_from_the_other_multiplexers()
    {
        // a tree level is selected by a bit of the phase counter and packs four ways into a LUT6; a multiplexer whose
        // select is computed does not: the tally counts every tree level as Select and leaves the others as Mux
        var g = Mlp();
        var design = VerilogWriter.Write(g, new HardwareOptions(Reuse: ReusePlan.All(16)));
        var tally = new LogicTally(design.Netlist!);
        var cells = design.Netlist!.Cells;
        int levels = cells.Count(c => c.Kind == 'x' && c.Op is MuxCell);
        Assert.True(levels > 0);
        Assert.Equal(levels, tally.Of(Primitive.Select).Count());
        var f = ResourceModel.Features(tally, SynthesisTarget.Xilinx);
        Assert.Equal(tally.Of(Primitive.Select).Sum(s => (double)s.Width), f["select_bits"]);
        Assert.Equal(tally.Of(Primitive.Mux).Sum(s => (double)s.Width), f["mux_bits"]);
        Assert.NotEmpty(tally.Of(Primitive.Mux)); // an accumulator's load of the bias at phase 0 is selected by a comparison
        Assert.Empty(new LogicTally(VerilogWriter.Write(g, new HardwareOptions()).Netlist!).Of(Primitive.Select));
    }

    [Fact]
    public void The_check_finds_a_wrong_expected_output()
    {
        var g = Mlp();
        var design = VerilogWriter.Write(g, new HardwareOptions(Reuse: ReusePlan.All(4)));
        var v = Testbench.Vectors(g, design.Manifest, ReadOnlySpan<float>.Empty, 10, 1);
        var bad = v with { Expected = (long[])v.Expected.Clone() };
        bad.Expected[6 * 10 + 3] ^= 1;
        var e = Assert.Throws<NetlistMismatchException>(() => FoldedTestbench.Check(design.Netlist!, design.Manifest, bad));
        Assert.Contains("output 3 of vector 6", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_hardware_configuration_sets_factors_per_layer_by_name_or_regex()
    {
        var g = Mlp();
        using var dir = new TempDir();
        dir.Write("hw.json", """{ "$schema": "../schemas/hardware.schema.json", "reuse": 2, "layers": [ { "name": "out", "reuse": 8 }, { "regex": "fc.*", "reuse": 16 } ] }""");
        var plan = ReusePlan.Load(dir.File("hw.json"));
        var factors = plan.Factors(g);
        int Of(string name) => factors[g.Nodes.Select((n, i) => (n, i)).Single(p => p.n.Name == name).i];
        Assert.Equal(16, Of("fc1"));
        Assert.Equal(8, Of("out"));
        var design = VerilogWriter.Write(g, new HardwareOptions(Reuse: plan));
        Assert.Equal(16, design.Manifest.InitiationInterval);
        Assert.Equal(16, design.Manifest.ReuseFactors!["fc1"]);
        Assert.Equal(8, design.Manifest.ReuseFactors!["out"]);
        Assert.Equal(30, FoldedTestbench.Check(design.Netlist!, design.Manifest, Testbench.Vectors(g, design.Manifest, ReadOnlySpan<float>.Empty, 30, 2)));

        dir.Write("bad.json", """{ "layers": [ { "name": "nope", "reuse": 4 } ] }""");
        var e = Assert.Throws<HetQException>(() => ReusePlan.Load(dir.File("bad.json")).Factors(g, "bad.json"));
        Assert.Contains("layers[0] (nope) matches no dense layer", e.Message, StringComparison.Ordinal);
        dir.Write("both.json", """{ "layers": [ { "name": "out", "regex": "o.*", "reuse": 4 } ] }""");
        Assert.Contains("exactly one of name and regex", Assert.Throws<HetQException>(() => ReusePlan.Load(dir.File("both.json"))).Message, StringComparison.Ordinal);
        // a layer regex follows the project's pattern rule (Names.Pattern): linear-time, so back-references are refused
        dir.Write("backref.json", """{ "layers": [ { "regex": "(f)\\1c1", "reuse": 4 } ] }""");
        Assert.Contains("backref.json: layers[0].regex: '(f)\\1c1' is not a supported regular expression", Assert.Throws<HetQException>(() => ReusePlan.Load(dir.File("backref.json"))).Message, StringComparison.Ordinal);
        dir.Write("typo.json", """{ "reuse": 2, "layer": [] }""");
        Assert.Contains("bad hardware configuration", Assert.Throws<HetQException>(() => ReusePlan.Load(dir.File("typo.json"))).Message, StringComparison.Ordinal);
        var big = Assert.Throws<HetQException>(() => VerilogWriter.Write(g, new HardwareOptions(Reuse: ReusePlan.All(161))));
        Assert.Contains("layer 'out': reuse factor 161 must be 1 to its 160 products", big.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_folded_header_and_manifest_document_ports_and_timing()
    {
        var design = VerilogWriter.Write(Mlp(), new HardwareOptions(Reuse: ReusePlan.All(4)));
        string v = design.TopText;
        foreach (var port in new[] { "input wire [0:0] rst,", "input wire [0:0] in_valid,", "output wire [0:0] in_ready,", "output wire [0:0] out_valid,", "_rom [0:3]", "_pp0 = (", " <<< 1;" })
            Assert.Contains(port, v, StringComparison.Ordinal);
        // products as shift-and-add (each partial sum its own carry chain in synthesis), never a `*` for Yosys to flatten
        Assert.DoesNotContain(" * ", v, StringComparison.Ordinal);
        // with --dsp they stay a * b, for synthesis to put into DSP slices
        string dsp = VerilogWriter.Write(Mlp(), new HardwareOptions(Reuse: ReusePlan.All(4), Dsp: true)).TopText;
        Assert.Contains(" * ", dsp, StringComparison.Ordinal);
        Assert.DoesNotContain("_pp0 = (", dsp, StringComparison.Ordinal);
        Assert.Contains("every 4 clock cycles (initiation interval); latency 8 clock cycles", v, StringComparison.Ordinal);
        string json = design.Manifest.ToJson();
        Assert.Contains("\"initiation_interval\": 4", json, StringComparison.Ordinal);
        Assert.Contains("\"latency_cycles\": 8", json, StringComparison.Ordinal);
        Assert.Contains("\"in_ready\"", json, StringComparison.Ordinal);
        using var dir = new TempDir();
        dir.Write("manifest.json", json);
        var back = HardwareManifest.Load(dir.File("manifest.json"));
        Assert.True(back.IsFolded);
        Assert.Equal(4, back.ReuseFactors!["fc1"]);
    }

    [Theory]
    [InlineData(SimulatorKind.Verilator, 4)]
    [InlineData(SimulatorKind.Icarus, 4)]
    [InlineData(SimulatorKind.Verilator, 16)]
    [InlineData(SimulatorKind.Icarus, 16)]
    public async Task The_folded_Verilog_equals_the_emulator_on_every_vector(SimulatorKind kind, int reuse)
    {
        Requires.Simulator(kind);
        var g = Mlp();
        var design = VerilogWriter.Write(g, new HardwareOptions(Reuse: ReusePlan.All(reuse)));
        using var dir = new TempDir();
        design.Save(dir.Path);
        var vectors = Testbench.Vectors(g, design.Manifest, ReadOnlySpan<float>.Empty, 60, 4, design.Netlist);
        Simulation.Prepare(dir.Path, design.Manifest, vectors);
        var r = await Simulation.RunAsync(dir.Path, design.Manifest, kind, TimeSpan.FromMinutes(3));
        output.WriteLine($"reuse {reuse} ({kind}): {r.Vectors} vectors, {r.Mismatches} mismatches");
        Assert.True(r.Mismatches == 0, $"{kind}: {r.Mismatches} mismatches, first {r.FirstMismatch}; see {r.Log}");
        Assert.Equal(60, r.Vectors);

        // the testbench finds a wrong output: one element of vector 9's expected outputs changed
        await TestDesigns.AssertTestbenchCatchesAWrongOutput(dir.Path, design.Manifest, kind, 9);
    }
}
