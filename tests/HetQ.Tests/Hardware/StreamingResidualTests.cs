using HetQ.Graph;
using HetQ.Hardware;
using HetQ.Nn;
using HetQ.Nn.Layers;
using HetQ.Numerics;
using HetQ.Quantization;

namespace HetQ.Tests.Hardware;

/// <summary>Streaming designs with branches (a residual add whose skip branch waits in a FIFO), ReLU layers between
/// stages and max pooling with padding 'same': the netlist (in process) and the Verilog (Verilator, Icarus) give the
/// emulator's outputs on every image, pixel by pixel with random gaps in in_valid.</summary>
public class StreamingResidualTests(ITestOutputHelper output)
{
    private static LayerQuantizers Q(string k, string b, string? a) => TestDesigns.Q(k, b, a);

    private static Conv C(int filters, int k, string name, bool relu = true, Padding padding = Padding.Same, int stride = 1) =>
        new(2, filters, new[] { k, k }, new[] { stride, stride }, padding, new Activation(relu ? ActivationKind.Relu : ActivationKind.Linear))
        { Name = name, Quantizers = Q("quantized_bits(4,0,alpha=1)", "quantized_bits(5,0,alpha=1)", relu ? "quantized_relu(5,2)" : "quantized_bits(7,2,alpha=1)") };

    private static Add Sum(string name) => new() { Name = name, Quantizers = new LayerQuantizers(Activation: QuantizerParser.Parse("quantized_bits(6,2,alpha=1)")) };

    private static ActivationLayer Relu(string name) => new(new Activation(ActivationKind.Relu)) { Name = name, Quantizers = new LayerQuantizers(Activation: QuantizerParser.Parse("quantized_relu(5,2)")) };

    /// <summary>input <paramref name="shape"/> → <paramref name="layers"/> (null inputs: the layer before) → flatten →
    /// dense 3, untrained (seeded).</summary>
    internal static IntegerGraph Build(string name, int[] shape, params (Layer, string[]?)[] layers)
    {
        var all = layers.ToList();
        all.Add((new Flatten { Name = "flat" }, null));
        all.Add((new Dense(3) { Name = "out", Quantizers = Q("quantized_bits(6,1,alpha=1)", "quantized_bits(8,3,alpha=1)", null) }, null));
        var model = Model.Build(shape, all, 13);
        model.InputQuantizer = new FakeQuantizer(QuantizerParser.Parse("ap_fixed<6,2,RND_CONV,SAT>"));
        var r = Freezer.Freeze(model, name);
        Assert.True(r.Graph is not null, string.Join("; ", r.Problems));
        return r.Graph!;
    }

    /// <summary>A ResNet block: c0 → c1 (ReLU) → c2 (linear), added to c0, then ReLU; padding 'same' throughout.</summary>
    internal static IntegerGraph ResidualBlock() => Build("stream_residual", new[] { 7, 7, 1 },
        (C(2, 3, "c0"), null), (C(2, 3, "c1"), null), (C(2, 3, "c2", relu: false), null), (Sum("res"), new[] { "c0", "c2" }), (Relu("relu"), null));

    public static TheoryData<string> Cases => new() { "residual", "residual_input", "projection", "residual_pool", "two_blocks", "crossing", "same_maxpool", "same_maxpool_stride1", "conv_design" };

    private static IntegerGraph Case(string name) => name switch
    {
        "residual" => ResidualBlock(),
        // the skip branch is the image itself (the input port's pixels wait in the FIFO)
        "residual_input" => Build(name, new[] { 6, 6, 2 }, (C(2, 3, "c1"), null), (C(2, 3, "c2", relu: false), null), (Sum("res"), new[] { "input", "c2" })),
        // both branches have stages: a 1x1 projection on the skip, two 3x3 convolutions on the other
        "projection" => Build(name, new[] { 6, 5, 1 }, (C(3, 3, "c0"), null), (C(2, 3, "c1"), null), (C(2, 3, "c2", relu: false), null),
            (C(2, 1, "proj", relu: false), new[] { "c0" }), (Sum("res"), new[] { "proj", "c2" })),
        // a residual block between a convolution of padding 'valid' and max pooling
        "residual_pool" => Build(name, new[] { 9, 9, 1 }, (C(2, 3, "c0", padding: Padding.Valid), null), (C(2, 3, "c1", relu: false), null),
            (Sum("res"), new[] { "c0", "c1" }), (new Pool(true, 2, new[] { 2, 2 }, null, Padding.Valid) { Name = "pool" }, null)),
        // two blocks, the second's skip the first's ReLU
        "two_blocks" => Build(name, new[] { 6, 6, 1 }, (C(2, 3, "c0"), null), (C(2, 3, "c1", relu: false), null), (Sum("r1"), new[] { "c0", "c1" }), (Relu("a1"), null),
            (C(2, 3, "c2", relu: false), null), (Sum("r2"), new[] { "a1", "c2" })),
        // branches in the same clock without gaps, apart with gaps: a 1x5 window 'same' taken two pixels ahead and
        // registered, against three registered 1x1 convolutions of the image
        "crossing" => Build(name, new[] { 5, 5, 1 },
            (new Conv(2, 2, new[] { 1, 5 }, new[] { 1, 1 }, Padding.Same, new Activation(ActivationKind.Relu)) { Name = "wide", Quantizers = Q("quantized_bits(4,0,alpha=1)", "quantized_bits(5,0,alpha=1)", "quantized_relu(5,2)") }, null),
            (C(2, 1, "p1", padding: Padding.Valid), new[] { "input" }), (C(2, 1, "p2", padding: Padding.Valid), null), (C(2, 1, "p3", padding: Padding.Valid), null),
            (Sum("res"), new[] { "wide", "p3" })),
        // max pooling with padding 'same': the padding left out of the maximum (stride 2 and stride 1)
        "same_maxpool" => Build(name, new[] { 9, 8, 1 }, (C(2, 3, "c1", padding: Padding.Valid), null), (new Pool(true, 2, new[] { 3, 3 }, new[] { 2, 2 }, Padding.Same) { Name = "pool" }, null)),
        "same_maxpool_stride1" => Build(name, new[] { 6, 6, 2 }, (new Pool(true, 2, new[] { 3, 3 }, new[] { 1, 1 }, Padding.Same) { Name = "pool" }, null), (C(2, 2, "c1", padding: Padding.Valid), null)),
        // the hardware tests' CNN: max pooling 'same' of stride 2, a residual add of it, depthwise 'same', average pooling
        "conv_design" => TestDesigns.Conv(),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_streaming_netlist_with_branches_equals_the_emulator_on_every_image(string name)
    {
        var g = Case(name);
        foreach (bool argmax in new[] { false, true })
        {
            var design = VerilogWriter.Write(g, new HardwareOptions(Argmax: argmax, Io: HardwareIo.Stream));
            var m = design.Manifest;
            Assert.True(m.IsStreaming);
            Assert.True(m.NeverStalls);
            long cycles = TestDesigns.CheckStreamInProcess(design, g, 40, 5);
            output.WriteLine($"{name} (argmax {argmax}): 40 images, {cycles} clocks, 0 mismatches; II {m.InitiationInterval}, latency {m.LatencyCycles}, {m.RegisterBits} register bits, {m.Levels} levels");
        }
    }

    [Fact]
    public void A_residual_block_with_a_folded_tail_equals_the_emulator_on_every_image()
    {
        // dense 3 after flatten folded by 4: 4 clocks and the copy, within the 49 pixels of an image
        var g = ResidualBlock();
        var design = VerilogWriter.Write(g, new HardwareOptions(Io: HardwareIo.Stream, Reuse: ReusePlan.All(4)));
        var m = design.Manifest;
        Assert.Equal(4, m.ReuseFactors!["out"]);
        Assert.Equal(true, m.NeverStalls);
        var vectors = Testbench.Vectors(g, m, ReadOnlySpan<float>.Empty, 40, 6);
        Assert.Equal(40, StreamingTestbench.Check(design.Netlist!, m, vectors, StreamingTestbench.Schedule(m, vectors, 6)));
    }

    [Fact]
    public void The_skip_branch_waits_in_a_FIFO_as_deep_as_the_pixels_it_is_ahead()
    {
        // 7x7, 3x3 'same' throughout: each convolution takes output p at advance p + 8 and registers it, so c0's pixel p
        // comes in clock p + 9 and c2's in clock p + 27; the add pops position p in clock p + 28, when c0 has brought
        // p + 20 pixels: 20 in its FIFO, c2 2; each FIFO 4 deeper (the stream's registered nodes: c0, c1, c2, res)
        var g = ResidualBlock();
        var design = VerilogWriter.Write(g, new HardwareOptions(Io: HardwareIo.Stream));
        var plan = VerilogWriter.StreamNode.Of(g);
        var clocks = VerilogWriter.PaddedTiming.Clocks(plan, 49, out int gap, out _);
        Assert.Equal(Enumerable.Range(9, 49), clocks[1]);
        Assert.Equal(Enumerable.Range(27, 49), clocks[3]);
        Assert.Equal(Enumerable.Range(29, 49), clocks[4]);
        Assert.Equal(26, gap);
        var fifo = VerilogWriter.AddBranches.Of(g.Nodes[4].Inputs, clocks, 49 + gap, plan.Count(n => n.Registered));
        Assert.Equal(new[] { 1, 3 }, fifo.Nodes);
        Assert.Equal(new[] { 24, 6 }, fifo.Depths);
        string v = design.TopText;
        Assert.Contains("'res' (add): of 'c0' and 'c2', one pixel per clock; each input's pixels wait in a FIFO", v, StringComparison.Ordinal);
        Assert.Contains("the pixels of 'c0' wait in a FIFO of 24", v, StringComparison.Ordinal);
        // a stage that does not read the node before it names its input
        string projection = VerilogWriter.Write(Case("projection"), new HardwareOptions(Io: HardwareIo.Stream)).TopText;
        Assert.Contains("//   'proj' (conv) of 'c0': 0 line buffers of 5 pixels and a 1x1 window", projection, StringComparison.Ordinal);
        Assert.Contains("//   'c1' (conv): 2 line buffers", projection, StringComparison.Ordinal);
        Assert.Contains("res_q0_s23_1", v, StringComparison.Ordinal);
        Assert.DoesNotContain("res_q0_s24_", v, StringComparison.Ordinal);
        Assert.Contains("no in_ready: the design never stalls", v, StringComparison.Ordinal);
        Assert.Contains("\"never_stalls\": true", design.Manifest.ToJson(), StringComparison.Ordinal);
        Assert.Equal(new[] { "clk", "rst", "in_valid", "x", "out_valid", "y" }, design.Manifest.Ports);
        // the resource model reads the FIFOs' cells too (two-wire comparisons, a counter enabled by a later cell)
        var e = ResourceModel.Estimate(g, SynthesisTarget.Xilinx, new HardwareOptions(Io: HardwareIo.Stream));
        Assert.True(e.Lut > 0 && e.Ff > 0, $"{e.Lut} LUT, {e.Ff} FF");
    }

    [Theory]
    [InlineData(SimulatorKind.Verilator, "residual")]
    [InlineData(SimulatorKind.Icarus, "residual")]
    [InlineData(SimulatorKind.Verilator, "conv_design")]
    [InlineData(SimulatorKind.Icarus, "conv_design")]
    [InlineData(SimulatorKind.Verilator, "same_maxpool_stride1")]
    [InlineData(SimulatorKind.Icarus, "same_maxpool_stride1")]
    public async Task The_streaming_Verilog_with_branches_equals_the_emulator_on_every_image(SimulatorKind kind, string name)
    {
        Requires.Simulator(kind);
        var g = Case(name);
        var r = await TestDesigns.SimulateStreamAsync(g, kind, 60, 4, 9);
        output.WriteLine($"{g.Name} ({kind}): {r.Vectors} images, {r.Mismatches} mismatches");
    }
}
