using HetQ.Graph;
using HetQ.Hardware;
using HetQ.Nn;
using HetQ.Nn.Layers;
using HetQ.Numerics;
using HetQ.Quantization;

namespace HetQ.Tests.Hardware;

/// <summary>Small graphs for the hardware tests and a helper that writes, simulates and checks a design.</summary>
internal static class TestDesigns
{
    /// <summary>A layer's kernel, bias and (null: none) activation quantizers from their QKeras-style texts.</summary>
    internal static LayerQuantizers Q(string k, string b, string? a) =>
        new(QuantizerParser.Parse(k), QuantizerParser.Parse(b), a is null ? null : QuantizerParser.Parse(a));

    /// <summary>The streaming design of <paramref name="g"/> checked in process on <paramref name="images"/> random
    /// images with random gaps in in_valid (both drawn from <paramref name="seed"/>): every output equals the emulator's;
    /// returns the clocks the images took.</summary>
    public static long CheckStreamInProcess(VerilogDesign design, IntegerGraph g, int images, int seed)
    {
        var m = design.Manifest;
        var vectors = Testbench.Vectors(g, m, ReadOnlySpan<float>.Empty, images, seed);
        var stimulus = StreamingTestbench.Schedule(m, vectors, seed);
        Assert.Equal(images, StreamingTestbench.Check(design.Netlist!, m, vectors, stimulus));
        return stimulus.Cycles;
    }

    /// <summary>Writes the streaming design of <paramref name="g"/>, simulates <paramref name="images"/> random images
    /// in <paramref name="kind"/> and asserts 0 mismatches, then that the testbench finds a wrong output of image
    /// <paramref name="wrongImage"/>; returns the first run's result.</summary>
    public static async Task<SimulationResult> SimulateStreamAsync(IntegerGraph g, SimulatorKind kind, int images, int seed, int wrongImage)
    {
        var design = VerilogWriter.Write(g, new HardwareOptions(Io: HardwareIo.Stream));
        using var dir = new TempDir();
        design.Save(dir.Path);
        var vectors = Testbench.Vectors(g, design.Manifest, ReadOnlySpan<float>.Empty, images, seed, design.Netlist);
        Simulation.Prepare(dir.Path, design.Manifest, vectors, seed);
        var r = await Simulation.RunAsync(dir.Path, design.Manifest, kind, TimeSpan.FromMinutes(3));
        Assert.True(r.Mismatches == 0, $"{kind}: {r.Mismatches} mismatches, first {r.FirstMismatch}; see {r.Log}");
        Assert.Equal(images, r.Vectors);
        await AssertTestbenchCatchesAWrongOutput(dir.Path, design.Manifest, kind, wrongImage);
        return r;
    }

    /// <summary>Flips the last bit of sample <paramref name="sample"/>'s expected outputs in a prepared simulation of
    /// <paramref name="dir"/> and runs it again: the testbench must report exactly that one mismatch.</summary>
    public static async Task AssertTestbenchCatchesAWrongOutput(string dir, HardwareManifest manifest, SimulatorKind kind, int sample)
    {
        string file = Path.Combine(dir, Simulation.Folder, Testbench.ExpectedFile);
        var lines = File.ReadAllLines(file);
        char last = lines[sample][^1];
        lines[sample] = lines[sample][..^1] + (last == '0' ? '1' : '0');
        File.WriteAllLines(file, lines);
        var r = await Simulation.RunAsync(dir, manifest, kind, TimeSpan.FromMinutes(3));
        Assert.Equal(1, r.Mismatches);
        Assert.Equal(sample, r.FirstMismatch?.Sample);
    }

    /// <summary>The tiny dense model of the golden tests (3 inputs, 2 hidden with ReLU, 2 logits).</summary>
    public static IntegerGraph Tiny() => Freezer.Freeze(Graph.GoldenGraphTests.Tiny(), "tiny").Graph!;

    /// <summary>A small untrained CNN with every spatial op: convolution with and without padding, max pooling with
    /// padding, a residual add, a depthwise convolution with multiplier 2, average pooling, flatten, dense.</summary>
    public static Model ConvModel()
    {
        var model = Model.Build(new[] { 4, 4, 1 }, new List<(Layer, string[]?)>
        {
            (new Conv(2, 2, new[] { 3, 3 }, new[] { 1, 1 }, Padding.Same, new Activation(ActivationKind.Relu)) { Name = "c1", Quantizers = Q("quantized_bits(4,0,alpha=1)", "quantized_bits(5,0,alpha=1)", "quantized_relu(5,2)") }, null),
            (new Pool(true, 2, new[] { 3, 3 }, new[] { 2, 2 }, Padding.Same) { Name = "max" }, null),
            (new Conv(2, 2, new[] { 3, 3 }, new[] { 1, 1 }, Padding.Same) { Name = "c2", Quantizers = Q("quantized_bits(5,0,alpha=1)", "quantized_bits(6,1,alpha=1)", "quantized_bits(7,2,alpha=1)") }, null),
            (new Add { Name = "res", Quantizers = new LayerQuantizers(Activation: QuantizerParser.Parse("quantized_bits(7,2,alpha=1)")) }, new[] { "max", "c2" }),
            (new DepthwiseConv2D(new[] { 2, 2 }, new[] { 1, 1 }, Padding.Same, 2, new Activation(ActivationKind.Relu)) { Name = "dw", Quantizers = Q("quantized_bits(4,0,alpha=1)", "quantized_bits(6,1,alpha=1)", "quantized_relu(6,2)") }, null),
            (new Pool(false, 2, new[] { 2, 2 }, null, Padding.Valid) { Name = "avg" }, null),
            (new Flatten { Name = "flat" }, null),
            (new Dense(3) { Name = "out", Quantizers = Q("quantized_bits(6,1,alpha=1)", "quantized_bits(8,3,alpha=1)", null) }, null),
        }, 5);
        model.InputQuantizer = new FakeQuantizer(QuantizerParser.Parse("ap_fixed<6,2,RND_CONV,SAT>"));
        return model;
    }

    public static IntegerGraph Conv()
    {
        var r = Freezer.Freeze(ConvModel(), "conv");
        Assert.True(r.Graph is not null, string.Join("; ", r.Problems));
        return r.Graph!;
    }

    /// <summary>input (2 x ap_fixed&lt;6,2&gt;) → dense 2→3 requantized with a right shift of 5 → requantization with a
    /// left shift of 2, both with <paramref name="rounding"/> and <paramref name="overflow"/>; with ReLU the types are
    /// unsigned. Narrow output types make every overflow case occur.</summary>
    public static IntegerGraph Modes(Rounding rounding, Overflow overflow, bool relu)
    {
        var inType = new FixedType(true, 6, 2);
        var wType = new FixedType(true, 5, 1);
        var bType = new FixedType(true, 6, 2);
        long[] w = { 11, -7, 13, 5, -16, 9 }, b = { 3, -9, 0 };
        int accFrac = 8;
        Int128 lo = Int128.MaxValue, hi = Int128.MinValue;
        for (int j = 0; j < 3; j++)
        {
            var (l, h) = TypeInference.DotBounds(new[] { w[j], w[3 + j] }, inType.MinRaw, inType.MaxRaw, 0, b[j], accFrac - bType.FractionalBits);
            lo = l < lo ? l : lo;
            hi = h > hi ? h : hi;
        }
        var acc = TypeInference.Holding(lo, hi, accFrac);
        var mid = relu ? new FixedType(false, 4, 1) : new FixedType(true, 5, 2);
        var last = relu ? new FixedType(false, 5, 0) : new FixedType(true, 6, 1);
        var nodes = new List<GraphNode>
        {
            new("input", new InputOp(new FixedFormat(inType, Rounding.TRN, Overflow.WRAP)), Array.Empty<int>(), new TensorType(new[] { 2 }, inType)),
            new("d", new DenseOp(2, 3, w, wType, b, bType, acc, new Requantization(relu, new FixedFormat(mid, rounding, overflow))), new[] { 0 }, new TensorType(new[] { 3 }, mid)),
            new("q", new RequantOp(new Requantization(false, new FixedFormat(last, rounding, overflow))), new[] { 1 }, new TensorType(new[] { 3 }, last)),
        };
        return new IntegerGraph($"modes_{rounding}_{overflow}{(relu ? "_relu" : "")}", nodes, Array.Empty<string>());
    }

    /// <summary>input (2 x ap_fixed&lt;6,2&gt;) → ReLU-free requantization to ap_fixed&lt;3,6&gt; (a right shift by 7, more
    /// than the input is wide, so the rounding bits lie in the sign extension) → a second requantization to
    /// ap_ufixed&lt;4,5&gt;.</summary>
    public static IntegerGraph Coarse(Rounding rounding, Overflow overflow)
    {
        var inType = new FixedType(true, 6, 2);
        var mid = new FixedType(true, 3, 6);
        var last = new FixedType(false, 4, 5);
        var nodes = new List<GraphNode>
        {
            new("input", new InputOp(new FixedFormat(inType, Rounding.TRN, Overflow.WRAP)), Array.Empty<int>(), new TensorType(new[] { 2 }, inType)),
            new("coarse", new RequantOp(new Requantization(false, new FixedFormat(mid, rounding, overflow))), new[] { 0 }, new TensorType(new[] { 2 }, mid)),
            new("unsigned", new RequantOp(new Requantization(false, new FixedFormat(last, rounding, overflow))), new[] { 1 }, new TensorType(new[] { 2 }, last)),
        };
        return new IntegerGraph($"coarse_{rounding}_{overflow}", nodes, Array.Empty<string>());
    }

    /// <summary>Every input vector of a graph with few input codes, as floats the input format maps to exactly those codes.</summary>
    public static float[] AllInputs(IntegerGraph g)
    {
        var t = g.Input.Output.Type;
        int n = g.Input.Output.Size;
        long codes = t.CodeCount;
        long count = 1;
        for (int i = 0; i < n; i++) count *= codes;
        var x = new float[count * n];
        for (long v = 0; v < count; v++)
        {
            long rest = v;
            for (int i = 0; i < n; i++)
            {
                x[v * n + i] = (float)FixedPoint.FromRaw(t.MinRaw + rest % codes, t);
                rest /= codes;
            }
        }
        return x;
    }

    /// <summary>Writes the design into <paramref name="dir"/>, simulates it on the vectors, and asserts that every
    /// output equals the emulator's; skips the test (fails it under CI) when the simulator is not installed.</summary>
    public static async Task<SimulationResult> Simulate(ITestOutputHelper output, string dir, IntegerGraph g, HardwareOptions o,
        SimulatorKind kind, float[] features, int random)
    {
        Requires.Simulator(kind);
        var design = VerilogWriter.Write(g, o);
        design.Save(dir);
        var vectors = Testbench.Vectors(g, design.Manifest, features, random, 1, design.Netlist);
        Simulation.Prepare(dir, design.Manifest, vectors);
        var r = await Simulation.RunAsync(dir, design.Manifest, kind, TimeSpan.FromMinutes(3));
        output.WriteLine($"{g.Name} ({kind}, latency {design.Manifest.LatencyCycles}): {r.Vectors} vectors, {r.Mismatches} mismatches, build {r.BuildSeconds:F2} s, run {r.RunSeconds:F2} s");
        Assert.True(r.Mismatches == 0, $"{g.Name} with {kind}: {r.Mismatches} mismatches, first {r.FirstMismatch}; see {r.Log}");
        Assert.Equal(vectors.Count, r.Vectors);
        return r;
    }
}
