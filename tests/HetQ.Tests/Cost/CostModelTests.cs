using System.Text.Json;
using HetQ.Cost;
using HetQ.Graph;
using HetQ.Numerics;
using HetQ.Quantization;

namespace HetQ.Tests.Cost;

/// <summary>Counts, BOPs, EBOPs and energy of small hand-made integer graphs, each derived by hand.</summary>
public class CostModelTests
{
    private const double Tol = 1e-9;
    private static readonly EnergyModel E = EnergyModel.Horowitz45nm;
    private static readonly FixedType In8 = new(true, 8, 3);

    private static FixedFormat Fmt(FixedType t) => new(t, Rounding.RND_CONV, Overflow.SAT);

    private static GraphNode InputNode(int[] shape, FixedType t) => new("input", new InputOp(Fmt(t)), [], new TensorType(shape, t));

    private static IntegerGraph Dense(long[] weights, int inF, int outF, FixedType wt, long[]? bias = null, FixedType? bt = null, FixedType? acc = null, FixedType? input = null)
    {
        var a = acc ?? new FixedType(true, 14, 6);
        var x = input ?? In8;
        var outT = new FixedType(false, 6, 2);
        return new IntegerGraph("dense", [
            InputNode([inF], x),
            new GraphNode("fc", new DenseOp(inF, outF, weights, wt, bias, bt, a, new Requantization(true, Fmt(outT))), [0], new TensorType([outF], outT)),
        ], []);
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 1)]
    [InlineData(-4, 1)]
    [InlineData(5, 3)]
    [InlineData(-5, 3)]
    [InlineData(6, 2)]
    [InlineData(7, 3)]
    [InlineData(-32, 1)]
    [InlineData(31, 5)]
    [InlineData(40, 3)]
    public void The_significant_bits_of_a_weight_code_run_from_its_highest_to_its_lowest_set_bit(long code, int bits) =>
        Assert.Equal(bits, WeightedLayer.SignificantBits(code));

    [Fact]
    public void A_dense_node_counts_only_non_zero_products_and_a_non_zero_bias_as_adder_terms()
    {
        // W [3 in, 2 out] = [[5, 0], [-6, 4], [0, 0]] in ap_fixed<4,1>; bias [0, 3] in ap_fixed<4,2>; input ap_fixed<8,3>.
        var g = Dense([5, 0, -6, 4, 0, 0], 3, 2, new FixedType(true, 4, 1), [0, 3], new FixedType(true, 4, 2));
        var fc = CostModel.Estimate(g).Layers[1];
        Assert.Equal(8, fc.Parameters);                   // 6 weights + 2 biases
        Assert.Equal(3, fc.ZeroWeights);
        Assert.Equal(6 * 4 + 2 * 4, fc.ParameterBits);    // 32
        Assert.Equal(2 * 6, fc.ActivationBits);           // 2 outputs of ap_ufixed<6,2>
        Assert.Equal(3, fc.Multiplications);              // 5, -6, 4
        Assert.Equal(2, fc.Additions);                    // out0: 5x + -6x (bias 0 is no term) -> 1; out1: 4x + 3 -> 1
        // BOPs = m·n·((1-p)·b_a·b_w + b_a + b_w + log2 n), m = 2, n = 3, p = 3/6, b_a = 8, b_w = 4.
        Assert.Equal(2 * 3 * (0.5 * 8 * 4 + 8 + 4 + Math.Log2(3)), fc.Bops, Tol);
        // EBOPs = b_a · Σ significant bits = 8 · (3 [5 = 101] + 2 [6 = 110] + 1 [4 = 100]).
        Assert.Equal(8 * 6, fc.Ebops);
        Assert.Equal(MultiplierKind.Fixed, fc.Multiplier);
        // Energy: 3 multipliers with g = √(8·4) and 2 adders of the 14-bit accumulator.
        double g8x4 = Math.Sqrt(32);
        double mul = 0.002994791667 * g8x4 * g8x4 + 0.001041666667 * g8x4;
        Assert.Equal(3 * mul + 2 * 0.003125 * 14, fc.OpEnergy, Tol);
        Assert.Equal(0, fc.ParameterEnergy);
        // On chip: the model input (3 × 8 bits) is read from SRAM and the model output (2 × 6 bits) written to SRAM,
        // one 64-bit word each at 9.02427321e-04·x³ - 2.68847858e-02·x² + 2.08900804e-01·x pJ, x = log2(bits).
        static double Word(double bits) { double x = Math.Log2(bits); return 9.02427321e-04 * x * x * x - 2.68847858e-02 * x * x + 2.08900804e-01 * x; }
        Assert.Equal(Word(24) + Word(12), fc.ActivationEnergy, Tol);
    }

    [Fact]
    public void A_padded_convolution_multiplies_only_inside_the_input_but_its_BOPs_use_the_whole_window()
    {
        // Input 3x3x1, kernel 3x3 'same' (padding 1), one filter, codes by tap (ky·3 + kx): 1 2 3 / 4 0 6 / 7 8 9, bias 2.
        var win = new Window(3, 3, 1, 3, 3, 1, 1, 1, 1, 3, 3);
        var wt = new FixedType(true, 5, 2);
        var outT = new FixedType(true, 8, 4);
        var g = new IntegerGraph("conv", [
            InputNode([3, 3, 1], In8),
            new GraphNode("c", new ConvOp(win, 1, [1, 2, 3, 4, 0, 6, 7, 8, 9], wt, [2], wt, new FixedType(true, 16, 8), new Requantization(false, Fmt(outT))), [0], new TensorType([3, 3, 1], outT)),
        ], []);
        var c = CostModel.Estimate(g).Layers[1];
        // A tap (ky, kx) lies inside the input at r(ky)·r(kx) of the 9 positions, r = [2, 3, 2]: 4 6 4 / 6 9 6 / 4 6 4 (49 in all).
        // The centre tap is 0, so multiplications = 49 - 9 = 40; with the bias, each output adds (terms + 1) - 1: 40 additions.
        Assert.Equal(40, c.Multiplications);
        Assert.Equal(40, c.Additions);
        // Significant bits: 1→1 2→1 3→2 4→1 6→2 7→3 8→1 9→4, weighted by the positions: 4+6+8+6+12+12+6+16 = 70; b_a = 8.
        Assert.Equal(70 * 8, c.Ebops);
        // BOPs per output position: n = 9 (the whole window), m = 1 filter × 9 positions, p = 1/9, b_a = 8, b_w = 5.
        Assert.Equal(9 * 9 * (8.0 / 9 * 8 * 5 + 8 + 5 + Math.Log2(9)), c.Bops, Tol);
        Assert.Equal(10, c.Parameters);
        Assert.Equal(1, c.ZeroWeights);
        Assert.Equal(10 * 5, c.ParameterBits);
        Assert.Equal(9 * 8, c.ActivationBits);
    }

    [Fact]
    public void A_depthwise_convolution_multiplies_each_channel_by_its_own_kernels()
    {
        // Input 2x2x2, 1x1 kernel, multiplier 2: output channel c·2 + m has code [1, 0, 3, 5][c·2 + m].
        var win = new Window(2, 2, 2, 1, 1, 1, 1, 0, 0, 2, 2);
        var wt = new FixedType(true, 4, 1);
        var outT = new FixedType(true, 8, 4);
        var g = new IntegerGraph("dw", [
            InputNode([2, 2, 2], In8),
            new GraphNode("dw", new DepthwiseConvOp(win, 2, [1, 0, 3, 5], wt, null, null, new FixedType(true, 12, 4), new Requantization(false, Fmt(outT))), [0], new TensorType([2, 2, 4], outT)),
        ], []);
        var d = CostModel.Estimate(g).Layers[1];
        Assert.Equal(4 * 3, d.Multiplications);                         // 4 positions × 3 non-zero kernels
        Assert.Equal(0, d.Additions);                                   // one term per output, no bias
        Assert.Equal(4 * (1 + 2 + 3) * 8, d.Ebops);                     // 1 → 1, 3 → 2, 5 → 3 bits
        Assert.Equal(16 * 1 * (0.75 * 8 * 4 + 8 + 4 + 0), d.Bops, Tol); // n = 1 tap, m = 4 channels × 4 positions
    }

    public static TheoryData<long[], MultiplierKind, double> Multipliers => new()
    {
        // Per multiplication, with an 8-bit input and 4-bit weights (QTools multiplier_impl.py gate_factor × adder of gate_bits).
        { [-2, 2, 2, -2], MultiplierKind.Binary, 0.3 * 0.003125 * 8 },
        { [-1, 0, 1, 1], MultiplierKind.Ternary, 0.6 * 0.003125 * 8 },
        { [0, 2, 0, 2], MultiplierKind.And, 0.1 * 0.003125 * 8 },
        { [1, -4, 4, 2], MultiplierKind.Shift, 4 * 0.3 * 0.003125 * 8 },   // 4 distinct values: 1, -4, 4, 2
        { [3, -5, 0, 1], MultiplierKind.Fixed, 0.002994791667 * 32 + 0.001041666667 * Math.Sqrt(32) },
    };

    [Theory]
    [MemberData(nameof(Multipliers))]
    public void The_weight_codes_decide_the_multiplier_and_its_energy(long[] codes, MultiplierKind kind, double perMultiplication)
    {
        var acc = new FixedType(true, 12, 4);
        var fc = CostModel.Estimate(Dense(codes, 4, 1, new FixedType(true, 4, 1), acc: acc)).Layers[1];
        Assert.Equal(kind, fc.Multiplier);
        long mults = codes.Count(c => c != 0);
        Assert.Equal(mults, fc.Multiplications);
        Assert.Equal(mults * perMultiplication + (mults - 1) * 0.003125 * 12, fc.OpEnergy, Tol);
    }

    [Fact]
    public void Weights_in_SRAM_or_DRAM_cost_a_read_per_tensor_and_the_IO_rule_moves_the_model_input_and_output()
    {
        var wt = new FixedType(true, 4, 1);
        var g = Dense([5, 0, -6, 4, 0, 0], 3, 2, wt, [0, 3], wt);
        long kernelBits = 6 * 4, biasBits = 2 * 4;
        var sram = CostModel.Estimate(g, E, new Placement(Memory.Sram, Memory.Sram)).Layers[1];
        Assert.Equal(E.Sram(kernelBits) + E.Sram(biasBits), sram.ParameterEnergy, Tol);
        // Activations in SRAM: the input read and the output write (the I/O rule without rd_wr_on_io is SRAM too).
        Assert.Equal(E.Sram(24) + E.Sram(12), sram.ActivationEnergy, Tol);
        var dram = CostModel.Estimate(g, E, new Placement(Memory.Dram, Memory.Fixed, ReadWriteOnIo: true)).Layers[1];
        // In DRAM with rd_wr_on_io, every access also passes through SRAM (qenergy.py).
        Assert.Equal(20.3125 * kernelBits + E.Sram(kernelBits) + 20.3125 * biasBits + E.Sram(biasBits), dram.ParameterEnergy, Tol);
        Assert.Equal(20.3125 * 24 + E.Sram(24) + 20.3125 * 12 + E.Sram(12), dram.ActivationEnergy, Tol);
        // A minimum SRAM size raises the cost per word: x = log2(max(bits, min)).
        var big = CostModel.Estimate(g, E, new Placement(Memory.Sram, MinSramSize: 1 << 16)).Layers[1];
        Assert.Equal(2 * E.Sram(1 << 16) / 1024, big.ParameterEnergy, 1e-12);
    }

    [Fact]
    public void The_SRAM_model_is_QTools_horowitz_cubic_per_64_bit_word()
    {
        // 200 bits: 4 words at x = log2 200.
        double x = Math.Log2(200);
        Assert.Equal(4 * (9.02427321e-04 * x * x * x - 2.68847858e-02 * x * x + 2.08900804e-01 * x), E.Sram(200), Tol);
        Assert.Equal(0, E.Sram(0));
        Assert.Equal(20.3125 * 200, E.Dram(200), Tol);
    }

    /// <summary>input [4,4,2] → conv 3x3 same → depthwise 3x3 same → max pool 2x2 → avg pool 2x2 → flatten → dense,
    /// requant (of the flatten) → add: one node of every op.</summary>
    internal static IntegerGraph EveryOp()
    {
        var t = new FixedType(true, 8, 3);
        var f = Fmt(t);
        var wt = new FixedType(true, 4, 1);
        var acc = new FixedType(true, 20, 8);
        var rq = new Requantization(false, f);
        long[] Codes(int n) => Enumerable.Range(0, n).Select(i => (long)(i % 7 - 3)).ToArray();
        return new IntegerGraph("every-op", [
            InputNode([4, 4, 2], t),
            new("conv", new ConvOp(new Window(4, 4, 2, 3, 3, 1, 1, 1, 1, 4, 4), 2, Codes(36), wt, [1, 2], wt, acc, new Requantization(true, f)), [0], new TensorType([4, 4, 2], t)),
            new("dw", new DepthwiseConvOp(new Window(4, 4, 2, 3, 3, 1, 1, 1, 1, 4, 4), 1, Codes(18), wt, null, null, acc, rq), [1], new TensorType([4, 4, 2], t)),
            new("max", new MaxPoolOp(new Window(4, 4, 2, 2, 2, 2, 2, 0, 0, 2, 2)), [2], new TensorType([2, 2, 2], t)),
            new("avg", new AvgPoolOp(new Window(2, 2, 2, 2, 2, 2, 2, 0, 0, 1, 1), new FixedType(true, 10, 3), rq), [3], new TensorType([1, 1, 2], t)),
            new("flat", new FlattenOp(), [4], new TensorType([2], t)),
            new("fc", new DenseOp(2, 2, [1, -2, 3, 0], wt, null, null, acc, rq), [5], new TensorType([2], t)),
            new("act", new RequantOp(new Requantization(true, f)), [5], new TensorType([2], t)),
            new("sum", new AddOp(new FixedType(true, 9, 4), rq), [6, 7], new TensorType([2], t)),
            new("clip", new ClipOp(-8, 8, rq), [8], new TensorType([2], t)),
            new("score", new ReconstructionErrorOp(true, 5, ReconstructionError.Type(t, t, 2, true, "every-op").Type), [7, 8],
                new TensorType([1], ReconstructionError.Type(t, t, 2, true, "every-op").Type)),
        ], []);
    }

    [Fact]
    public void Every_op_of_the_integer_graph_has_a_cost()
    {
        var g = EveryOp();
        var opTypes = typeof(Op).Assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(Op)) && !t.IsAbstract).ToHashSet();
        Assert.Equal(opTypes, g.Nodes.Select(n => n.Op.GetType()).ToHashSet());
        var r = CostModel.Estimate(g, E, new Placement(Memory.Sram, Memory.Sram));
        Assert.Equal(g.Nodes.Select(n => n.Name), r.Layers.Select(l => l.Name));
        var by = r.Layers.ToDictionary(l => l.Name);
        Assert.Equal(4 * 3 * 2, by["max"].Additions);   // 4 windows of 4: 3 comparisons, 2 channels
        Assert.Equal(2 * 2, by["clip"].Additions);      // two comparisons per element
        Assert.Equal(3 * 2, by["avg"].Additions);       // one window of 4: 3 additions, 2 channels
        Assert.Equal(2 + 1, by["score"].Additions);     // 2 differences, 1 addition
        Assert.Equal(2, by["score"].Multiplications);   // 2 squares of differences of magnitude at most 255 (8 bits)
        Assert.Equal(2 * 8 * 8, by["score"].Ebops);
        Assert.Equal(2, by["sum"].Additions);           // 2 inputs of 2 elements
        Assert.Equal(4 * 3 * 2 * 0.003125 * 8, by["max"].OpEnergy, Tol);
        Assert.Equal(3 * 2 * 0.003125 * 10, by["avg"].OpEnergy, Tol);
        Assert.Equal(2 * 0.003125 * 9, by["sum"].OpEnergy, Tol);
        Assert.Equal(0, by["flat"].ActivationBits);     // a reshape stores nothing new
        Assert.Equal(0, by["flat"].Energy);
        Assert.Equal(4 * 4 * 2 * 8, by["input"].ActivationBits);
        // The dense and the requant read the flatten's tensor: an SRAM read of 2 × 8 bits each.
        Assert.Equal(E.Sram(16) + E.Sram(16), by["act"].ActivationEnergy, Tol);
        foreach (var l in r.Layers) Assert.True(l.Energy >= 0 && double.IsFinite(l.Bops), l.Name);
        Assert.Equal(r.Layers.Sum(l => l.Energy), r.Total.Energy, 1e-9);
    }

    [Fact]
    public void The_metric_picker_reads_the_totals_and_names_the_known_metrics()
    {
        var r = CostModel.Estimate(EveryOp());
        Assert.Equal(r.Total.ParameterBits, r.Metric("bits"));
        Assert.Equal(r.Total.Energy, r.Metric("energy"));
        Assert.Equal(r.Total.Ebops, r.Metric("ebops"));
        Assert.Equal(r.Total.Bops, r.Metric("bops"));
        var e = Assert.Throws<HetQException>(() => r.Metric("luts"));
        Assert.Contains("bits, energy, ebops, bops", e.Message);
    }

    [Fact]
    public void The_JSON_report_has_the_documented_keys_per_layer_and_in_the_total()
    {
        var r = CostModel.Estimate(EveryOp());
        var doc = JsonDocument.Parse(r.ToJson()).RootElement;
        string[] keys = ["name", "op", "input_type", "weight_type", "output_type", "parameters", "parameter_bits", "activation_bits",
            "multiplications", "additions", "bops", "ebops", "energy_pj"];
        foreach (var layer in doc.GetProperty("layers").EnumerateArray().Append(doc.GetProperty("total")))
            foreach (var k in keys) Assert.True(layer.TryGetProperty(k, out _), k);
        Assert.Equal(r.Layers.Count, doc.GetProperty("layers").GetArrayLength());
        Assert.Equal(r.Total.ParameterBits, doc.GetProperty("total").GetProperty("parameter_bits").GetInt64());
        Assert.Equal("conv", doc.GetProperty("layers")[1].GetProperty("op").GetString());
        Assert.Equal("ap_fixed<4,1>", doc.GetProperty("layers")[1].GetProperty("weight_type").GetString());
    }
}
