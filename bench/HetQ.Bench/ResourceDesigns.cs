using HetQ.Graph;
using HetQ.Nn;
using HetQ.Nn.Layers;
using HetQ.Numerics;
using HetQ.Quantization;

namespace HetQ.Bench;

/// <summary>The designs the resource model is calibrated on and checked against: generated dense layers over a grid
/// of sizes, weight and input widths, sparsity, rounding and overflow modes and pipelining, two-layer stacks, argmax
/// outputs and small CNNs. All are small, so that Yosys takes seconds on each.</summary>
internal static class ResourceDesigns
{
    /// <summary>One design: a graph and how to write it.</summary>
    public sealed record Design(string Name, IntegerGraph Graph, HetQ.Hardware.HardwareOptions Options);

    /// <summary>A dense layer specification.</summary>
    private sealed record LayerSpec(int Out, int WeightBits, double Sparsity, bool Relu, int OutBits, Rounding Rounding, Overflow Overflow);

    /// <summary>The calibration set: what the coefficients are fitted to.</summary>
    public static IReadOnlyList<Design> Calibration() =>
    [
        Dense("d4x2_w4_x4", 4, 4, true, 1, null, false, new LayerSpec(2, 4, 0, true, 6, Rounding.RND, Overflow.SAT)),
        Dense("d8x4_w3_x8", 8, 8, true, 2, null, false, new LayerSpec(4, 3, 0, false, 8, Rounding.TRN, Overflow.WRAP)),
        Dense("d8x4_w6_x4_s50", 8, 4, false, 3, null, false, new LayerSpec(4, 6, 0.5, true, 6, Rounding.RND_CONV, Overflow.SAT)),
        Dense("d8x4_w8_x8", 8, 8, true, 4, null, false, new LayerSpec(4, 8, 0, true, 8, Rounding.RND, Overflow.SAT)),
        Dense("d16x4_w4_x6", 16, 6, true, 5, null, false, new LayerSpec(4, 4, 0, true, 5, Rounding.RND, Overflow.SAT)),
        Dense("d16x4_w6_x8_s50", 16, 8, true, 6, null, false, new LayerSpec(4, 6, 0.5, false, 8, Rounding.RND_CONV, Overflow.SAT_SYM)),
        Dense("d16x8_w3_x4", 16, 4, false, 7, null, false, new LayerSpec(8, 3, 0, true, 4, Rounding.TRN, Overflow.SAT)),
        Dense("d8x8_w6_x6_comb", 8, 6, true, 8, 0, false, new LayerSpec(8, 6, 0, true, 6, Rounding.RND, Overflow.SAT)),
        Dense("d8x8_w8_x4_s70_st3", 8, 4, true, 9, 3, false, new LayerSpec(8, 8, 0.7, false, 7, Rounding.RND, Overflow.SAT_ZERO)),
        Dense("d12x6_w5_x5_argmax", 12, 5, true, 10, null, true, new LayerSpec(6, 5, 0, false, 6, Rounding.RND, Overflow.SAT)),
        Dense("d16x8_w6_x8_s25", 16, 8, true, 11, null, false, new LayerSpec(8, 6, 0.25, true, 6, Rounding.RND, Overflow.SAT)),
        Dense("d6x3_w6_x8_wrap", 6, 8, true, 12, null, false, new LayerSpec(3, 6, 0, false, 5, Rounding.TRN, Overflow.WRAP)),
        Dense("d10x5_w7_x3", 10, 3, false, 13, null, false, new LayerSpec(5, 7, 0.1, false, 7, Rounding.RND_ZERO, Overflow.SAT_SYM)),
        Dense("mlp8_12_4_w5_x6", 8, 6, true, 14, null, false,
            new LayerSpec(12, 5, 0.2, true, 5, Rounding.RND, Overflow.SAT), new LayerSpec(4, 5, 0.2, false, 8, Rounding.RND, Overflow.SAT)),
        Dense("mlp16_8_4_w4_x8_argmax", 16, 8, true, 15, null, true,
            new LayerSpec(8, 4, 0.3, true, 4, Rounding.TRN, Overflow.SAT), new LayerSpec(4, 6, 0.3, false, 8, Rounding.RND, Overflow.SAT)),
        Dense("mlp12_12_6_w3_x4_st2", 12, 4, false, 16, 2, false,
            new LayerSpec(12, 3, 0, true, 3, Rounding.RND, Overflow.SAT), new LayerSpec(6, 4, 0, true, 6, Rounding.RND_CONV, Overflow.SAT)),
        Cnn("cnn5x5_c2_max", 5, 1, 2, 3, true, 17),
        Cnn("cnn6x6x2_c3_avg", 6, 2, 3, 4, false, 18),
        // folded dense layers (--reuse) and streaming designs (--io stream)
        Folded(Dense("d16x8_w6_x8_s25_r4", 16, 8, true, 19, null, false, new LayerSpec(8, 6, 0.25, true, 6, Rounding.RND, Overflow.SAT)), 4),
        Folded(Dense("d16x4_w4_x6_r8", 16, 6, true, 20, null, false, new LayerSpec(4, 4, 0, true, 5, Rounding.RND, Overflow.SAT)), 8),
        Folded(Dense("mlp8_12_4_w5_x6_r3", 8, 6, true, 21, null, false,
            new LayerSpec(12, 5, 0.2, true, 5, Rounding.RND, Overflow.SAT), new LayerSpec(4, 5, 0.2, false, 8, Rounding.RND, Overflow.SAT)), 3),
        Folded(Dense("mlp64_16_10_w6_x5_r16", 64, 5, false, 22, null, false,
            new LayerSpec(16, 6, 0.1, true, 6, Rounding.RND, Overflow.SAT), new LayerSpec(10, 6, 0.1, false, 8, Rounding.RND, Overflow.SAT)), 16),
        Folded(Dense("mlp64_16_10_w6_x5_r4", 64, 5, false, 23, null, true,
            new LayerSpec(16, 6, 0.1, true, 6, Rounding.RND, Overflow.SAT), new LayerSpec(10, 6, 0.1, false, 8, Rounding.RND, Overflow.SAT)), 4),
        StreamCnn("stream_cnn6x6_c3", 6, 1, 3, 3, 24),
        StreamCnn("stream_cnn8x8x2_c4", 8, 2, 4, 4, 25),
        // large reuse factors: long input trees shared by the multipliers that step through the same inputs
        Folded(Dense("d64x8_w6_x6_s10_r128", 64, 6, true, 26, null, false, new LayerSpec(8, 6, 0.1, true, 6, Rounding.RND, Overflow.SAT)), 128),
        Folded(Dense("mlp64_16_10_w6_x5_r64", 64, 5, false, 27, null, false,
            new LayerSpec(16, 6, 0.1, true, 6, Rounding.RND, Overflow.SAT), new LayerSpec(10, 6, 0.1, false, 8, Rounding.RND, Overflow.SAT)), 64),
        Folded(StreamCnn("stream_cnn8x8_c4_r36", 8, 1, 4, 4, 28), 36),
    ];

    /// <summary>The design with every dense layer folded by <paramref name="reuse"/>.</summary>
    private static Design Folded(Design d, int reuse) => d with { Options = d.Options with { Reuse = HetQ.Hardware.ReusePlan.All(reuse) } };

    /// <summary>Generated designs never used in the fit (other sizes and seeds), for the error check.</summary>
    public static IReadOnlyList<Design> HeldOut() =>
    [
        Dense("held_d16x16_w4_x6", 16, 6, true, 101, null, false, new LayerSpec(16, 4, 0.3, true, 6, Rounding.RND, Overflow.SAT)),
        Dense("held_d24x6_w6_x8_s50", 24, 8, true, 102, null, false, new LayerSpec(6, 6, 0.5, false, 8, Rounding.RND_CONV, Overflow.SAT)),
        Dense("held_mlp10_10_5_w5_x5_argmax", 10, 5, true, 103, null, true,
            new LayerSpec(10, 5, 0.1, true, 5, Rounding.RND, Overflow.SAT), new LayerSpec(5, 5, 0.1, false, 6, Rounding.RND, Overflow.SAT)),
        Cnn("held_cnn6x6_c4_max", 6, 1, 4, 2, true, 104),
        Folded(Dense("held_d16x16_w4_x6_r4", 16, 6, true, 105, null, false, new LayerSpec(16, 4, 0.3, true, 6, Rounding.RND, Overflow.SAT)), 4),
        Folded(Dense("held_mlp10_10_5_w5_x5_r5", 10, 5, true, 106, null, true,
            new LayerSpec(10, 5, 0.1, true, 5, Rounding.RND, Overflow.SAT), new LayerSpec(5, 5, 0.1, false, 6, Rounding.RND, Overflow.SAT)), 5),
        Folded(Dense("held_mlp64_32_10_w6_x5_r8", 64, 5, false, 107, null, false,
            new LayerSpec(32, 6, 0.1, true, 6, Rounding.RND, Overflow.SAT), new LayerSpec(10, 6, 0.1, false, 8, Rounding.RND, Overflow.SAT)), 8),
        StreamCnn("held_stream_cnn7x7_c2", 7, 1, 2, 3, 108),
        Folded(Dense("held_d48x12_w5_x6_r96", 48, 6, true, 109, null, false, new LayerSpec(12, 5, 0.2, true, 6, Rounding.RND, Overflow.SAT)), 96),
        Folded(StreamCnn("held_stream_cnn9x9_c3_r25", 9, 1, 3, 3, 110), 25),
    ];

    /// <summary>Dense layers on an input of <paramref name="inputs"/> codes of <paramref name="inBits"/> bits (signed or
    /// not, 2 integer bits), random weights uniform over the weight type's codes, a fraction zeroed.</summary>
    private static Design Dense(string name, int inputs, int inBits, bool signedIn, int seed, int? stages, bool argmax, params LayerSpec[] layers)
    {
        var rng = new Random(seed);
        var inType = new FixedType(signedIn, inBits, 2);
        var nodes = new List<GraphNode>
        {
            new("input", new InputOp(new FixedFormat(inType, Rounding.TRN, Overflow.WRAP)), Array.Empty<int>(), new TensorType(new[] { inputs }, inType)),
        };
        var x = inType;
        int n = inputs;
        for (int l = 0; l < layers.Length; l++)
        {
            var s = layers[l];
            var wType = new FixedType(true, s.WeightBits, 1);
            var bType = new FixedType(true, 8, 3);
            var w = new long[n * s.Out];
            for (int i = 0; i < w.Length; i++)
                w[i] = rng.NextDouble() < s.Sparsity ? 0 : rng.NextInt64(wType.MinRaw, wType.MaxRaw + 1);
            var b = new long[s.Out];
            for (int j = 0; j < b.Length; j++) b[j] = rng.NextInt64(bType.MinRaw, bType.MaxRaw + 1);
            int accFrac = Math.Max(x.FractionalBits + wType.FractionalBits, bType.FractionalBits);
            int shift = accFrac - x.FractionalBits - wType.FractionalBits, bshift = accFrac - bType.FractionalBits;
            Int128 lo = Int128.MaxValue, hi = Int128.MinValue;
            for (int j = 0; j < s.Out; j++)
            {
                var column = Enumerable.Range(0, n).Select(i => w[i * s.Out + j]).ToArray();
                var (a, c) = TypeInference.DotBounds(column, x.MinRaw, x.MaxRaw, shift, b[j], bshift);
                lo = a < lo ? a : lo;
                hi = c > hi ? c : hi;
            }
            var acc = TypeInference.Holding(lo, hi, accFrac);
            var outType = new FixedType(!s.Relu, s.OutBits, 3);
            var op = new DenseOp(n, s.Out, w, wType, b, bType, acc, new Requantization(s.Relu, new FixedFormat(outType, s.Rounding, s.Overflow)));
            nodes.Add(new GraphNode($"d{l + 1}", op, new[] { l }, new TensorType(new[] { s.Out }, outType)));
            x = outType;
            n = s.Out;
        }
        return new Design(name, new IntegerGraph(name, nodes, Array.Empty<string>()), new HetQ.Hardware.HardwareOptions(stages, argmax));
    }

    /// <summary>A small untrained CNN streamed one pixel per clock (--io stream): a 3x3 'valid' convolution with ReLU,
    /// flatten, dense.</summary>
    private static Design StreamCnn(string name, int size, int channels, int filters, int classes, int seed) =>
        new(name, CnnGraph(name, size, channels, filters, classes, null, seed), new HetQ.Hardware.HardwareOptions(Io: HetQ.Hardware.HardwareIo.Stream));

    /// <summary>A small untrained CNN: a 3x3 convolution with ReLU, 2x2 max or average pooling, flatten, dense.</summary>
    private static Design Cnn(string name, int size, int channels, int filters, int classes, bool max, int seed) =>
        new(name, CnnGraph(name, size, channels, filters, classes, max, seed), new HetQ.Hardware.HardwareOptions());

    /// <summary>The frozen graph of a 3x3 convolution with ReLU, then 2x2 max (<paramref name="maxPool"/> true) or
    /// average (false) pooling or none (null), flatten and dense, with fixed quantizers and seeded weights.</summary>
    private static IntegerGraph CnnGraph(string name, int size, int channels, int filters, int classes, bool? maxPool, int seed)
    {
        static LayerQuantizers Q(string k, string b, string? a) =>
            new(QuantizerParser.Parse(k), QuantizerParser.Parse(b), a is null ? null : QuantizerParser.Parse(a));
        var layers = new List<(HetQ.Nn.Layer, string[]?)>
        {
            (new Conv(2, filters, new[] { 3, 3 }, new[] { 1, 1 }, Padding.Valid, new Activation(ActivationKind.Relu))
                { Name = "conv", Quantizers = Q("quantized_bits(5,0,alpha=1)", "quantized_bits(6,1,alpha=1)", "quantized_relu(5,2)") }, null),
        };
        if (maxPool is { } max) layers.Add((new Pool(max, 2, new[] { 2, 2 }, new[] { 2, 2 }, Padding.Valid) { Name = "pool" }, null));
        layers.Add((new Flatten { Name = "flat" }, null));
        layers.Add((new Dense(classes) { Name = "out", Quantizers = Q("quantized_bits(6,1,alpha=1)", "quantized_bits(8,3,alpha=1)", "quantized_bits(8,3,alpha=1)") }, null));
        var model = Model.Build(new[] { size, size, channels }, layers, seed);
        model.InputQuantizer = new FakeQuantizer(QuantizerParser.Parse("ap_fixed<6,2,RND_CONV,SAT>"));
        var r = Freezer.Freeze(model, name);
        return r.Graph ?? throw new HetQException($"{name}: cannot freeze: {string.Join("; ", r.Problems)}");
    }
}
