using HetQ.Hardware;

namespace HetQ.Tests.Hardware;

/// <summary>A streaming design whose dense layers after flatten are folded (--reuse with --io stream): the small CNN of
/// <see cref="StreamingDesignTests"/> (8x8 image, conv 3x3, flatten 108, dense 4, dense 3); its netlist (in process)
/// and its Verilog (Verilator, Icarus) give the emulator's outputs on every image, with gaps in in_valid.</summary>
public class StreamingFoldedTests(ITestOutputHelper output)
{
    /// <summary>reuse 4 for both dense layers, or 16 for 'hidden' (432 products) and 4 for 'out' (12 products).</summary>
    private static ReusePlan Plan(int reuse) => reuse == 4 ? ReusePlan.All(4) : new ReusePlan(reuse, [new ReuseRule("out", null, 4)]);

    public static TheoryData<int, bool> Factors => new() { { 4, false }, { 4, true }, { 16, false }, { 16, true } };

    [Theory]
    [MemberData(nameof(Factors))]
    public void The_folded_streaming_netlist_equals_the_emulator_on_every_image_with_gaps_in_in_valid(int reuse, bool argmax)
    {
        var g = StreamingDesignTests.Cnn(8, 8, 1, 3, 3);
        var design = VerilogWriter.Write(g, new HardwareOptions(Argmax: argmax, Io: HardwareIo.Stream, Reuse: Plan(reuse)));
        var m = design.Manifest;
        Assert.True(m.IsStreaming);
        Assert.False(m.IsFolded);
        Assert.Equal(64, m.InitiationInterval);
        // 1 clock to the feature map (as unfolded), 1 to copy it, then one period of the largest factor per folded layer
        Assert.Equal(1 + 1 + 2 * reuse, m.LatencyCycles);
        Assert.Equal(reuse, m.ReuseFactors!["hidden"]);
        Assert.Equal(4, m.ReuseFactors!["out"]);
        var vectors = Testbench.Vectors(g, m, ReadOnlySpan<float>.Empty, 60, 5);
        var stimulus = StreamingTestbench.Schedule(m, vectors, 5);
        Assert.True(stimulus.Valid.Count(v => !v) > 60, "the stimulus has gaps in in_valid");
        Assert.Equal(60, StreamingTestbench.Check(design.Netlist!, m, vectors, stimulus));
        Assert.Equal(60, StreamingTestbench.Check(design.Netlist!, m, vectors, BackToBack(m, vectors)));
        output.WriteLine($"reuse {reuse}: 60 images with gaps ({stimulus.Cycles} clocks) and back to back, 0 mismatches; latency {m.LatencyCycles}, {m.RegisterBits} register bits, {m.Levels} levels");
    }

    /// <summary>Every image's pixels back to back, no gaps: the folded tail of one image runs while the next streams in.</summary>
    internal static StreamStimulus BackToBack(HardwareManifest m, SimulationVectors v)
    {
        int c = m.Input.Elements, pixels = m.SampleElements / c, idle = m.LatencyCycles + 3;
        int cycles = 2 + v.Count * pixels + idle;
        var reset = new bool[cycles];
        var valid = new bool[cycles];
        var data = new long[cycles * c];
        reset[0] = reset[1] = true;
        for (int t = 2; t < 2 + v.Count * pixels; t++)
        {
            valid[t] = true;
            v.Inputs.AsSpan((t - 2) * c, c).CopyTo(data.AsSpan(t * c, c));
        }
        return new StreamStimulus(cycles, v.Count, reset, valid, data);
    }

    [Fact]
    public void The_header_and_manifest_document_the_folded_tail()
    {
        var design = VerilogWriter.Write(StreamingDesignTests.Cnn(8, 8, 1, 3, 3), new HardwareOptions(Io: HardwareIo.Stream, Reuse: Plan(16)));
        string v = design.TopText;
        Assert.Contains("folded (reuse factors hidden 16, out 4)", v, StringComparison.Ordinal);
        Assert.Contains("Initiation interval 64 clock cycles per image (one pixel every clock, images back to back); latency 34 clock", v, StringComparison.Ordinal);
        // the folded tail ends within the initiation interval, so the stream never waits: no in_ready port
        Assert.DoesNotContain("wire [0:0] in_ready", v, StringComparison.Ordinal);
        Assert.Contains("Flow control: in_valid only, no in_ready: the design never stalls", v, StringComparison.Ordinal);
        Assert.Equal(true, design.Manifest.NeverStalls);
        Assert.DoesNotContain(VerilogWriter.InReadyPort, design.Manifest.Ports!);
        string json = design.Manifest.ToJson();
        Assert.Contains("\"reuse_factors\"", json, StringComparison.Ordinal);
        Assert.Contains("\"latency_cycles\": 34", json, StringComparison.Ordinal);
        using var dir = new TempDir();
        dir.Write("manifest.json", json);
        var back = HardwareManifest.Load(dir.File("manifest.json"));
        Assert.True(back.IsStreaming);
        Assert.False(back.IsFolded);
        Assert.Equal(16, back.ReuseFactors!["hidden"]);
    }

    [Fact]
    public void A_folded_tail_longer_than_the_image_is_refused_naming_the_layer()
    {
        // 6x6 image: 36 clocks per image; hidden 48 x 4 = 192 products at reuse 32, out at 4: 2 x 32 = 64 clocks
        var g = StreamingDesignTests.Cnn(6, 6, 1, 3, 3);
        var e = Assert.Throws<HetQException>(() => VerilogWriter.Write(g, new HardwareOptions(Io: HardwareIo.Stream, Reuse: new ReusePlan(32, [new ReuseRule("out", null, 4)]))));
        Assert.Contains("layer 'out'", e.Message, StringComparison.Ordinal);
        Assert.Contains("2 x 32 = 64 clock cycles", e.Message, StringComparison.Ordinal);
        Assert.Contains("36 pixels", e.Message, StringComparison.Ordinal);
        // 16 fits: 2 x 16 = 32 <= 36
        Assert.Equal(1 + 1 + 32, VerilogWriter.Write(g, new HardwareOptions(Io: HardwareIo.Stream, Reuse: new ReusePlan(16, [new ReuseRule("out", null, 4)]))).Manifest.LatencyCycles);
    }

    [Theory]
    [InlineData(SimulatorKind.Verilator)]
    [InlineData(SimulatorKind.Icarus)]
    public async Task The_folded_streaming_Verilog_equals_the_emulator_on_every_image(SimulatorKind kind)
    {
        Requires.Simulator(kind);
        var g = StreamingDesignTests.Cnn(8, 8, 1, 3, 3);
        var design = VerilogWriter.Write(g, new HardwareOptions(Io: HardwareIo.Stream, Reuse: Plan(16)));
        using var dir = new TempDir();
        design.Save(dir.Path);
        var vectors = Testbench.Vectors(g, design.Manifest, ReadOnlySpan<float>.Empty, 100, 2, design.Netlist);
        Simulation.Prepare(dir.Path, design.Manifest, vectors, 2);
        var r = await Simulation.RunAsync(dir.Path, design.Manifest, kind, TimeSpan.FromMinutes(3));
        output.WriteLine($"{g.Name} reuse 16/4 ({kind}): {r.Vectors} images, {r.Mismatches} mismatches");
        Assert.True(r.Mismatches == 0, $"{kind}: {r.Mismatches} mismatches, first {r.FirstMismatch}; see {r.Log}");
        Assert.Equal(100, r.Vectors);
    }
}
