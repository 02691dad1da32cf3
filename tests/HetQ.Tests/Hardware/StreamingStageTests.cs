using HetQ.Graph;
using HetQ.Hardware;
using HetQ.Nn;
using HetQ.Nn.Layers;
using HetQ.Numerics;
using HetQ.Quantization;

namespace HetQ.Tests.Hardware;

/// <summary>Streaming designs of several stages (chained convolutions, strides, max and average pooling, depthwise and
/// 1-D convolutions): the netlist (in process) and the Verilog (Verilator, Icarus) give the emulator's outputs on every
/// image, pixel by pixel with random gaps in in_valid.</summary>
public class StreamingStageTests(ITestOutputHelper output)
{
    private static LayerQuantizers Q(string k, string b, string? a) => TestDesigns.Q(k, b, a);

    private static Layer C(int filters, int k, int stride, string name, int rank = 2, Padding padding = Padding.Valid) =>
        new Conv(rank, filters, rank == 2 ? new[] { k, k } : new[] { k }, rank == 2 ? new[] { stride, stride } : new[] { stride }, padding, new Activation(ActivationKind.Relu))
        { Name = name, Quantizers = Q("quantized_bits(4,0,alpha=1)", "quantized_bits(5,0,alpha=1)", "quantized_relu(5,2)") };

    /// <summary>input <paramref name="shape"/> → the given stages → flatten → dense 3, untrained (seeded).</summary>
    internal static IntegerGraph Chain(string name, int[] shape, params Layer[] stages)
    {
        var layers = stages.Select(l => (l, (string[]?)null)).ToList();
        layers.Add((new Flatten { Name = "flat" }, null));
        layers.Add((new Dense(3) { Name = "out", Quantizers = Q("quantized_bits(6,1,alpha=1)", "quantized_bits(8,3,alpha=1)", null) }, null));
        var model = Model.Build(shape, layers, 11);
        model.InputQuantizer = new FakeQuantizer(QuantizerParser.Parse("ap_fixed<6,2,RND_CONV,SAT>"));
        var r = Freezer.Freeze(model, name);
        Assert.True(r.Graph is not null, string.Join("; ", r.Problems));
        return r.Graph!;
    }

    /// <summary>Two convolutions (the second of stride 2), max pooling: the case the simulator tests run.</summary>
    internal static IntegerGraph TwoConvsStridePool() => Chain("stream_two_convs", new[] { 12, 12, 1 },
        C(3, 3, 1, "c1"), C(4, 3, 2, "c2"), new Pool(true, 2, new[] { 2, 2 }, null, Padding.Valid) { Name = "pool" });

    public static TheoryData<string> Cases => new() { "two_convs", "stride2", "stride2x1_odd", "maxpool", "avgpool", "depthwise", "conv1d", "pool_first", "fashion_shape",
        "same3x3", "same_stride2", "same_two", "same_pool", "same_even_stride2", "same_depthwise" };

    private static IntegerGraph Case(string name) => name switch
    {
        "two_convs" => Chain(name, new[] { 8, 8, 2 }, C(3, 3, 1, "c1"), C(2, 2, 1, "c2")),
        "stride2" => Chain(name, new[] { 9, 9, 1 }, C(3, 3, 2, "c1")),
        "stride2x1_odd" => Chain(name, new[] { 10, 7, 1 },
            new Conv(2, 2, new[] { 3, 2 }, new[] { 2, 1 }, Padding.Valid, new Activation(ActivationKind.Relu)) { Name = "c1", Quantizers = Q("quantized_bits(4,0,alpha=1)", "quantized_bits(5,0,alpha=1)", "quantized_relu(5,2)") }),
        "maxpool" => Chain(name, new[] { 8, 8, 1 }, C(3, 3, 1, "c1"), new Pool(true, 2, new[] { 2, 2 }, null, Padding.Valid) { Name = "pool" }),
        "avgpool" => Chain(name, new[] { 8, 8, 1 }, C(3, 3, 1, "c1"), new Pool(false, 2, new[] { 2, 2 }, null, Padding.Valid) { Name = "pool" }),
        "depthwise" => Chain(name, new[] { 7, 7, 2 }, new DepthwiseConv2D(new[] { 3, 3 }, new[] { 1, 1 }, Padding.Valid, 2, new Activation(ActivationKind.Relu))
            { Name = "dw", Quantizers = Q("quantized_bits(4,0,alpha=1)", "quantized_bits(6,1,alpha=1)", "quantized_relu(6,2)") }, C(2, 2, 1, "c2")),
        "conv1d" => Chain(name, new[] { 16, 2 }, C(3, 3, 1, "c1", rank: 1), new Pool(true, 1, new[] { 2 }, null, Padding.Valid) { Name = "pool" }),
        "pool_first" => Chain(name, new[] { 8, 8, 1 }, new Pool(true, 2, new[] { 2, 2 }, null, Padding.Valid) { Name = "pool" }, C(2, 3, 1, "c1")),
        "fashion_shape" => Chain(name, new[] { 14, 14, 1 }, C(2, 3, 1, "c1"), new Pool(true, 2, new[] { 2, 2 }, null, Padding.Valid) { Name = "p1" },
            C(3, 3, 1, "c2"), new Pool(true, 2, new[] { 2, 2 }, null, Padding.Valid) { Name = "p2" }),
        // padding 'same': zeros around the image, the last outputs emitted in flush clocks after the last pixel
        "same3x3" => Chain(name, new[] { 6, 6, 2 }, C(3, 3, 1, "c1", padding: Padding.Same)),
        "same_stride2" => Chain(name, new[] { 9, 8, 1 }, C(3, 3, 2, "c1", padding: Padding.Same)),
        "same_two" => Chain(name, new[] { 7, 7, 1 }, C(3, 3, 1, "c1", padding: Padding.Same), C(2, 3, 1, "c2", padding: Padding.Same)),
        "same_pool" => Chain(name, new[] { 8, 8, 1 }, C(3, 3, 1, "c1", padding: Padding.Same), new Pool(true, 2, new[] { 2, 2 }, null, Padding.Valid) { Name = "pool" }),
        "same_even_stride2" => Chain(name, new[] { 8, 7, 1 }, C(2, 4, 2, "c1", padding: Padding.Same), C(2, 2, 1, "c2", padding: Padding.Same)),
        "same_depthwise" => Chain(name, new[] { 6, 6, 2 }, C(2, 3, 1, "c1"), new DepthwiseConv2D(new[] { 3, 3 }, new[] { 1, 1 }, Padding.Same, 1, new Activation(ActivationKind.Relu))
            { Name = "dw", Quantizers = Q("quantized_bits(4,0,alpha=1)", "quantized_bits(6,1,alpha=1)", "quantized_relu(6,2)") }),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_streaming_netlist_of_several_stages_equals_the_emulator_on_every_image(string name)
    {
        var g = Case(name);
        foreach (bool argmax in new[] { false, true })
        {
            var design = VerilogWriter.Write(g, new HardwareOptions(Argmax: argmax, Io: HardwareIo.Stream));
            var m = design.Manifest;
            Assert.True(m.IsStreaming);
            if (name.StartsWith("same", StringComparison.Ordinal)) Assert.True(m.InitiationInterval >= m.Image![0] * m.Image[1]);
            else Assert.Equal(m.Image![0] * m.Image[1], m.InitiationInterval);
            long cycles = TestDesigns.CheckStreamInProcess(design, g, 40, 5);
            output.WriteLine($"{name} (argmax {argmax}): 40 images, {cycles} clocks, 0 mismatches; latency {m.LatencyCycles}, {m.RegisterBits} register bits, {m.Levels} levels");
        }
    }

    [Fact]
    public void Stages_after_the_first_register_their_output_and_the_header_names_every_stage()
    {
        var design = VerilogWriter.Write(TwoConvsStridePool(), new HardwareOptions(Io: HardwareIo.Stream));
        string v = design.TopText;
        foreach (var stage in new[] { "'c1' (conv): 2 line buffers of 12 pixels and a 3x3 window, stride 1x1, 10x10 outputs", "'c2' (conv): 2 line buffers of 10 pixels and a 3x3 window, stride 2x2, 4x4 outputs", "'pool' (max_pool): 1 line buffer of 4 pixels and a 2x2 window, stride 2x2, 2x2 outputs" })
            Assert.Contains(stage, v, StringComparison.Ordinal);
        Assert.Contains("c1_valid", v, StringComparison.Ordinal);
        Assert.Contains("c2_valid", v, StringComparison.Ordinal);
        Assert.DoesNotContain("pool_valid", v, StringComparison.Ordinal);
        Assert.Equal(144, design.Manifest.InitiationInterval);
    }

    [Fact]
    public void The_timing_follows_the_last_tap_through_the_stages()
    {
        // 12x12 → 3x3 conv (10x10) → 3x3 stride 2 (4x4: input rows and columns 0..8 of 10) → 2x2 pool (2x2)
        var w1 = Window.Create(12, 12, 1, 3, 3, 1, 1, Padding.Valid, "c1");
        var w2 = Window.Create(10, 10, 3, 3, 3, 2, 2, Padding.Valid, "c2");
        var w3 = Window.Create(4, 4, 4, 2, 2, 2, 2, Padding.Valid, "pool");
        var t = VerilogWriter.StreamTiming.Of(new[] { w1, w2, w3 });
        // pool (1,1) ← c2 pixel (3,3) ← c1 pixel (8,8) = index 88 ← input pixel (10,10) = index 130
        Assert.Equal(130, t.LastTap);
        Assert.Equal(2, t.Delay);
        Assert.True(t.FollowsLastPixel);
        Assert.Equal(1, t.Latency);
        // every row used and two registered stages: the last output comes two clocks after the last pixel
        var chained = VerilogWriter.StreamTiming.Of(new[] { Window.Create(8, 8, 1, 3, 3, 1, 1, Padding.Valid, "a"), Window.Create(6, 6, 1, 3, 3, 1, 1, Padding.Valid, "b"), Window.Create(4, 4, 1, 1, 1, 1, 1, Padding.Valid, "c") });
        Assert.Equal(63, chained.LastTap);
        Assert.False(chained.FollowsLastPixel);
        Assert.Equal(3, chained.Latency);
        Assert.True(chained.IsExact);
        // three registered 1x1 stages, then a 1x2 window of stride 2 that leaves the last column unused: the last tap is
        // the pixel before the last, so out_valid comes 3 clocks after the last pixel without gaps, and may come earlier
        var one = Window.Create(5, 5, 1, 1, 1, 1, 1, Padding.Valid, "a");
        var early = VerilogWriter.StreamTiming.Of(new[] { one, one, one, Window.Create(5, 5, 1, 1, 2, 1, 2, Padding.Valid, "d") });
        Assert.Equal(23, early.LastTap);
        Assert.False(early.FollowsLastPixel);
        Assert.False(early.IsExact);
        Assert.Equal(3, early.Latency);
    }

    [Fact]
    public void A_same_convolution_flushes_its_last_outputs_after_the_last_pixel()
    {
        // 6x6, 3x3 same, stride 1: output (oy, ox) at advance 7 + 6·oy + ox (its window's last tap, (oy+1, ox+1)), the
        // last one at 42 = 35 + 7: seven flush clocks; a dense after flatten, so out_valid one clock after the last output
        var g = Chain("same_timing", new[] { 6, 6, 1 }, C(2, 3, 1, "c1", padding: Padding.Same));
        var m = VerilogWriter.Write(g, new HardwareOptions(Io: HardwareIo.Stream)).Manifest;
        Assert.Equal(36 + 7, m.InitiationInterval);
        Assert.Equal(8, m.LatencyCycles);
        var at = VerilogWriter.StagePlacement.Of(Window.Create(6, 6, 1, 3, 3, 1, 1, Padding.Same, "c1"));
        Assert.Equal((7, 7, 42), (at.Base, at.Flush, at.LastAdvance));
    }

    /// <summary>Padding 'same': a 3x3 convolution, a 3x3 one of stride 2 (flush clocks after both), max pooling.</summary>
    internal static IntegerGraph SameConvsStridePool() => Chain("stream_same_convs", new[] { 9, 9, 1 },
        C(3, 3, 1, "c1", padding: Padding.Same), C(3, 3, 2, "c2", padding: Padding.Same), new Pool(true, 2, new[] { 2, 2 }, null, Padding.Valid) { Name = "pool" });

    [Theory]
    [InlineData(SimulatorKind.Verilator, false)]
    [InlineData(SimulatorKind.Icarus, false)]
    [InlineData(SimulatorKind.Verilator, true)]
    [InlineData(SimulatorKind.Icarus, true)]
    public async Task The_streaming_Verilog_of_several_stages_equals_the_emulator_on_every_image(SimulatorKind kind, bool same)
    {
        Requires.Simulator(kind);
        var g = same ? SameConvsStridePool() : TwoConvsStridePool();
        var design = VerilogWriter.Write(g, new HardwareOptions(Io: HardwareIo.Stream));
        using var dir = new TempDir();
        design.Save(dir.Path);
        var vectors = Testbench.Vectors(g, design.Manifest, ReadOnlySpan<float>.Empty, 60, 4, design.Netlist);
        Simulation.Prepare(dir.Path, design.Manifest, vectors, 4);
        var r = await Simulation.RunAsync(dir.Path, design.Manifest, kind, TimeSpan.FromMinutes(3));
        output.WriteLine($"{g.Name} ({kind}): {r.Vectors} images, {r.Mismatches} mismatches");
        Assert.True(r.Mismatches == 0, $"{kind}: {r.Mismatches} mismatches, first {r.FirstMismatch}; see {r.Log}");
        Assert.Equal(60, r.Vectors);
    }
}
