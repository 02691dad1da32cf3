using HetQ.Data;
using HetQ.Emulation;
using HetQ.Graph;
using HetQ.Nn;
using HetQ.Hardware;
using HetQ.Quantization;
using HetQ.Training;

namespace HetQ.Tests.Hardware;

/// <summary>Learned (per-element) fixed-point types in hardware: every wire its own width, pruned elements and
/// channels without logic, and the simulated design equal to the emulator on every vector.</summary>
public class LearnedWidthHardwareTests(ITestOutputHelper output)
{
    private const string Config = """
    {
      "name": "learned-hw", "seed": 5,
      "data": { "name": "digits", "validation_fraction": 0.1, "test_fraction": 0.2 },
      "model": { INPUT"layers": [ LAYERS ] },
      "optimizer": { "type": "adam", "learning_rate": 0.003 },
      "epochs": 4, "batch_size": 32,
      "bitwidths": {
        "input": { "granularity": "element", "init": 3 },
        "kernel": { "granularity": "weight", "init": 4 },
        "bias": { "granularity": "channel", "init": 6 },
        "activation": { "granularity": "AGRAN", "init": 3 },
        "beta": { "schedule": "constant", "start": 3e-5 }
      }
    }
    """;

    private const string Mlp = """{ "type": "dense", "units": 24, "activation": "relu", "name": "fc1" }, { "type": "dense", "units": 10, "name": "out" }""";

    /// <summary>Trains a few epochs with learned widths and returns the last front model's graph and the test split.</summary>
    private static (IntegerGraph Graph, Dataset Test) Learned(TempDir dir, string layers, string activation, string input = "element", string shape = "[8, 8, 1]")
    {
        var cfg = TrainConfig.Load(dir.Write("learned.json", Config.Replace("LAYERS", layers).Replace("AGRAN", activation)
            .Replace("\"input\": { \"granularity\": \"element\"", $"\"input\": {{ \"granularity\": \"{input}\"")
            .Replace("INPUT", layers.Contains("conv2d", StringComparison.Ordinal) ? $"\"input_shape\": {shape}, " : "")));
        var r = TrainJob.Run(cfg, dir.File("model"));
        var best = r.Pareto!.OrderByDescending(p => p.ValAccuracy).First();
        var (m, meta) = ModelIO.Load(best.Model);
        var frozen = Freezer.Freeze(m, meta.Name);
        Assert.True(frozen.Graph is not null, string.Join("; ", frozen.Problems));
        Assert.Equal(input == "element" || activation != "layer", frozen.Graph!.HasElementTypes);
        return (frozen.Graph, DatasetLoader.Load(cfg.Data, cfg.BaseDirectory).Test);
    }

    private const string PooledCnn = """{ "type": "conv2d", "filters": 4, "kernel_size": [3, 3], "activation": "relu", "name": "c1" }, { "type": "max_pool2d", "pool_size": 2, "name": "p1" }, { "type": "conv2d", "filters": 4, "kernel_size": [2, 2], "activation": "relu", "name": "c2" }, { "type": "max_pool2d", "pool_size": 2, "padding": "same", "name": "p2" }, { "type": "flatten", "name": "flat" }, { "type": "dense", "units": 10, "name": "out" }""";

    [Theory]
    [InlineData("element")]
    [InlineData("channel")]
    public async Task A_learned_width_CNN_with_max_pooling_over_per_element_types_simulates_exactly(string activation)
    {
        Requires.Simulator(SimulatorKind.Icarus);
        using var dir = new TempDir();
        var (g, test) = Learned(dir, PooledCnn, activation);
        // Each pooled element has the join of its window's types; the codes stay on the common type.
        var pool = g.Nodes.First(n => n.Name == "p1");
        Assert.NotNull(pool.Output.Elements);
        var conv = g.Nodes[pool.Inputs[0]];
        var win = ((MaxPoolOp)pool.Op).Window;
        for (int e = 0; e < pool.Output.Size; e++)
            if (pool.Output.Elements![e] is { } t)
            {
                int ch = e % win.Channels, oy = e / win.Channels / win.OutW, ox = e / win.Channels % win.OutW;
                var (y0, y1, x0, x1) = win.Clip(oy, ox);
                for (int iy = y0; iy < y1; iy++)
                    for (int ix = x0; ix < x1; ix++)
                        if (conv.Output.Elements![(iy * win.InW + ix) * win.Channels + ch] is { } s)
                        {
                            int d = t.FractionalBits - s.FractionalBits;
                            Assert.True(d >= 0 && t.MaxRaw >= s.MaxRaw << d && t.MinRaw <= s.MinRaw << d, $"element {e}: {t} holds {s}");
                        }
            }
        await TestDesigns.Simulate(output, dir.File("hw"), g, new HardwareOptions(), SimulatorKind.Icarus, test.Features, 100);
    }

    [Fact]
    public async Task Per_layer_learned_widths_freeze_to_plain_types_and_stream()
    {
        Requires.Simulator(SimulatorKind.Verilator);
        using var dir = new TempDir();
        var (g, _) = Learned(dir, PooledCnn, "layer", input: "layer");
        Assert.Null(VerilogWriter.StreamingProblem(g));
        Assert.Equal(1, System.Text.Json.JsonDocument.Parse(g.ToJson()).RootElement.GetProperty("version").GetInt32());
        var r = await TestDesigns.SimulateStreamAsync(g, SimulatorKind.Verilator, 20, 3, 5);
        output.WriteLine($"streamed: {r.Vectors} images, {r.Mismatches} mismatches");
        Assert.Equal(20, r.Vectors);
        Assert.Equal(0, r.Mismatches);
    }

    [Theory]
    [InlineData(SimulatorKind.Verilator)]
    [InlineData(SimulatorKind.Icarus)]
    public async Task Per_channel_learned_widths_stream_with_each_channel_its_own_width(SimulatorKind kind)
    {
        Requires.Simulator(kind);
        using var dir = new TempDir();
        var (g, _) = Learned(dir, PooledCnn, "channel", input: "layer");
        Assert.Null(VerilogWriter.StreamingProblem(g));
        // The widths differ between channels (else this would test plain types) and repeat at every position.
        var c1 = g.Nodes.First(n => n.Name == "c1");
        var formats = ((ConvOp)c1.Op).Output.Elements!;
        int ch = c1.Output.Shape[^1];
        Assert.True(formats.Take(ch).Distinct().Count() > 1, string.Join(", ", formats.Take(ch)));
        var design = VerilogWriter.Write(g, new HardwareOptions(Io: HardwareIo.Stream));
        Assert.True(design.Manifest.IsStreaming);
        var r = await TestDesigns.SimulateStreamAsync(g, kind, 20, 4, 7);
        output.WriteLine($"{kind}, per-channel widths streamed: {r.Vectors} images, {r.Mismatches} mismatches");
    }

    [Fact]
    public async Task Per_channel_input_widths_of_a_two_channel_image_stream_each_channel_sliced_at_its_own_width()
    {
        Requires.Simulator(SimulatorKind.Verilator);
        using var dir = new TempDir();
        const string cnn = """{ "type": "conv2d", "filters": 3, "kernel_size": [3, 3], "activation": "relu", "name": "c1" }, { "type": "flatten", "name": "flat" }, { "type": "dense", "units": 10, "name": "out" }""";
        // the digits' 64 pixels as an 8x4 image of two channels (neighbouring pixels)
        var (g, _) = Learned(dir, cnn, "channel", input: "channel", shape: "[8, 4, 2]");
        Assert.Null(VerilogWriter.StreamingProblem(g));
        var inputs = ((InputOp)g.Input.Op).Elements!;
        Assert.Equal(64, inputs.Count);
        Assert.NotEqual(inputs[0], inputs[1]);
        var r = await TestDesigns.SimulateStreamAsync(g, SimulatorKind.Verilator, 20, 6, 3);
        output.WriteLine($"two channels of their own input widths ({inputs[0]}, {inputs[1]}) streamed: {r.Vectors} images, {r.Mismatches} mismatches");
    }

    [Fact]
    public void Per_element_learned_widths_are_refused_by_the_streaming_writer_naming_the_layer()
    {
        using var dir = new TempDir();
        var (g, _) = Learned(dir, PooledCnn, "element", input: "layer");
        var why = VerilogWriter.StreamingProblem(g);
        Assert.NotNull(why);
        Assert.Contains("layer 'c1'", why, StringComparison.Ordinal);
        Assert.Contains("per channel, not per element", why, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(SimulatorKind.Verilator, Sharing.Cse, "element")]
    [InlineData(SimulatorKind.Icarus, Sharing.Cse, "channel")]
    [InlineData(SimulatorKind.Icarus, Sharing.None, "element")]
    public async Task A_learned_width_MLP_simulates_exactly_on_the_test_set_and_random_vectors(SimulatorKind kind, Sharing sharing, string activation)
    {
        Requires.Simulator(kind);
        using var dir = new TempDir();
        var (g, test) = Learned(dir, Mlp, activation);
        await TestDesigns.Simulate(output, dir.File("hw"), g, new HardwareOptions(Sharing: sharing), kind, test.Features, 300);
    }

    [Fact]
    public async Task A_learned_width_CNN_simulates_exactly()
    {
        Requires.Simulator(SimulatorKind.Verilator);
        using var dir = new TempDir();
        const string cnn = """{ "type": "conv2d", "filters": 4, "kernel_size": [3, 3], "activation": "relu", "name": "c1" }, { "type": "flatten", "name": "flat" }, { "type": "dense", "units": 10, "name": "out" }""";
        var (g, test) = Learned(dir, cnn, "element");
        await TestDesigns.Simulate(output, dir.File("hw"), g, new HardwareOptions(), SimulatorKind.Verilator, test.Features, 100);
    }

    [Fact]
    public async Task Pruned_inputs_and_narrow_elements_are_wired_with_their_own_widths()
    {
        // Input element 0 has 2 bits on a 4-bit common type, element 1 is pruned, element 2 uses the common type.
        var input = new FixedFormat(new FixedType(false, 4, 0), Rounding.RND, Overflow.SAT);
        FixedFormat?[] inputs = [new FixedFormat(new FixedType(false, 2, 0), Rounding.RND, Overflow.SAT), null, input];
        // Outputs: element 0 requantized to 3 bits with 1 fractional bit, element 1 pruned, element 2 on the common type.
        var common = new FixedFormat(new FixedType(true, 8, 4), Rounding.RND, Overflow.SAT);
        FixedFormat?[] outputs = [new FixedFormat(new FixedType(true, 3, 2), Rounding.TRN, Overflow.WRAP), null, common];
        var dense = new DenseOp(3, 3, [3, 1, -2, 5, 7, 4, -6, 0, 3], new FixedType(true, 4, 4), [1, -3, 2], new FixedType(true, 4, 4),
            new FixedType(true, 12, 8), new Requantization(false, common, outputs));
        var g = new IntegerGraph("elements", [
            new GraphNode("input", new InputOp(input, inputs), [], new TensorType([3], input.Type, inputs.Select(f => f?.Type).ToArray())),
            new GraphNode("fc", dense, [0], new TensorType([3], common.Type, outputs.Select(f => f?.Type).ToArray()))], []);
        var design = VerilogWriter.Write(g, new HardwareOptions());
        string v = design.Files[0].Text;
        // Only element 0's two bits and element 2's four bits of the input port are read; element 1's never are.
        // (element 0's code sits two places up on the common type: bits [3:2]; element 2 is bits [11:8])
        Assert.Contains("= x[3:2];", v, StringComparison.Ordinal);
        Assert.Contains("= x[11:8];", v, StringComparison.Ordinal);
        Assert.DoesNotContain("x[7:4]", v, StringComparison.Ordinal);
        Assert.DoesNotContain("x[3:0]", v, StringComparison.Ordinal);
        Assert.Contains("per element", v, StringComparison.Ordinal);
        foreach (var kind in new[] { SimulatorKind.Icarus, SimulatorKind.Verilator })
        {
            using var dir = new TempDir();
            await TestDesigns.Simulate(output, dir.Path, g, new HardwareOptions(), kind, TestDesigns.AllInputs(g), 200);
        }
        // Output element 1 is the constant 0 on every input.
        var y = new Emulator(g).Run(TestDesigns.AllInputs(g));
        for (int s = 1; s < y.Length; s += 3) Assert.Equal(0, y[s]);
    }
}
