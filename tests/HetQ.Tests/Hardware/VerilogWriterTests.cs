using System.Numerics;
using System.Text.RegularExpressions;
using HetQ.Graph;
using HetQ.Hardware;
using HetQ.Quantization;

namespace HetQ.Tests.Hardware;

public class VerilogWriterTests
{
    [Fact]
    public void Every_op_of_the_integer_graph_is_written_by_a_design_that_the_simulation_tests_cover()
    {
        var ops = typeof(Op).Assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(Op)) && !t.IsAbstract).Select(t => t.Name).Order();
        var graphs = new[] { TestDesigns.Tiny(), TestDesigns.Conv(), TestDesigns.Modes(Rounding.RND, Overflow.SAT, true), TestDesigns.Coarse(Rounding.TRN, Overflow.WRAP),
            ReconstructionErrorTests.Autoencoder("quantized_bits(7,2,alpha=1)", HetQ.Nn.ScoreNorm.L2),
            Freezer.Freeze(Graph.ClipOpTests.ClipModel("quantized_bits(4,1,alpha=1)"), "clip").Graph! };
        foreach (var g in graphs) Assert.NotEmpty(VerilogWriter.Write(g, new HardwareOptions()).TopText);
        Assert.Equal(ops, graphs.SelectMany(g => g.Nodes).Select(n => n.Op.GetType().Name).Distinct().Order());
    }

    [Fact]
    public void Canonical_signed_digits_sum_to_the_weight_with_no_two_adjacent()
    {
        for (long w = -3000; w <= 3000; w++)
        {
            var digits = Arithmetic.Csd(w);
            Assert.Equal(w, digits.Sum(d => (long)d.Digit << d.Position));
            for (int i = 1; i < digits.Count; i++) Assert.True(digits[i].Position - digits[i - 1].Position >= 2, $"adjacent digits in {w}");
            Assert.True(digits.Count <= BitOperations.PopCount((ulong)Math.Abs(w)));
        }
        Assert.Empty(Arithmetic.Csd(0));
    }

    [Theory]
    [InlineData(Rounding.TRN)]
    [InlineData(Rounding.TRN_ZERO)]
    [InlineData(Rounding.RND)]
    [InlineData(Rounding.RND_ZERO)]
    [InlineData(Rounding.RND_INF)]
    [InlineData(Rounding.RND_MIN_INF)]
    [InlineData(Rounding.RND_CONV)]
    public void The_rounding_of_the_bounds_is_the_fixed_point_spec(Rounding rounding)
    {
        var wide = new FixedType(true, 40, 40);
        for (int s = 1; s <= 12; s++)
            for (long v = -700; v <= 700; v++)
                Assert.Equal(FixedPoint.Requantize(v, s, wide, rounding, Overflow.WRAP), (long)Arithmetic.Rounded(v, s, rounding));
    }

    [Fact]
    public void The_overflow_of_constants_is_the_fixed_point_spec()
    {
        foreach (var o in Enum.GetValues<Overflow>())
            foreach (var t in new[] { new FixedType(true, 4, 1), new FixedType(false, 3, 0), new FixedType(true, 1, 0) })
                for (long q = -40; q <= 40; q++)
                    Assert.Equal(FixedPoint.Requantize(q, t.FractionalBits, t, Rounding.TRN, o), (long)Arithmetic.Overflowed(q, new FixedFormat(t, Rounding.TRN, o)));
    }

    /// <summary>4 inputs → 3 outputs; output 2 has only zero weights, so it is its bias, a constant.</summary>
    private static IntegerGraph Sparse()
    {
        var x = new FixedType(true, 8, 3);
        var wt = new FixedType(true, 6, 1);
        long[] w = { 7, 0, 0, -3, 12, 0, 0, 5, 0, 1, 0, 0 };
        var acc = new FixedType(true, 20, 9);
        var nodes = new List<GraphNode>
        {
            new("input", new InputOp(new FixedFormat(x, Rounding.TRN, Overflow.SAT)), Array.Empty<int>(), new TensorType(new[] { 4 }, x)),
            new("d", new DenseOp(4, 3, w, wt, new long[] { 1, 2, 3 }, new FixedType(true, 4, 2), acc, new Requantization(false, null)), new[] { 0 }, new TensorType(new[] { 3 }, acc)),
        };
        return new IntegerGraph("sparse", nodes, Array.Empty<string>());
    }

    [Fact]
    public void Each_output_costs_one_adder_per_nonzero_digit_and_zero_weights_cost_nothing()
    {
        var text = VerilogWriter.Write(Sparse(), new HardwareOptions(Stages: 0, Sharing: Sharing.None)).TopText;
        // Output 0: 7 (two digits), -3 (two digits), 1 → 4 adders plus the bias; output 1: 12 (two digits), 5 (two digits) → 3 adders plus the bias.
        Assert.Equal(4 + 3, Regex.Matches(text, @"wire .*\bd_s\d+ = ").Count);
        // Shared partial sums never cost more adders.
        var shared = VerilogWriter.Write(Sparse(), new HardwareOptions(Stages: 0)).TopText;
        Assert.True(Regex.Matches(shared, @"wire .*\bd_[sc]\d+ = ").Count <= 4 + 3);
        Assert.Equal(2, Regex.Matches(shared, @"wire .*\bd_a\d+ = ").Count);
        Assert.Equal(2, Regex.Matches(text, @"wire .*\bd_a\d+ = ").Count);
        // Output 2 is its bias, 3 in ap_fixed<4,2> → 3 << (11 - 2) in the accumulator's 11 fractional bits.
        Assert.Contains($"assign y[59:40] = 20'h{3 << 9:x};", text);
        Assert.DoesNotContain("reg ", text);
    }

    [Fact]
    public void Stages_spread_registers_and_set_the_latency()
    {
        var g = TestDesigns.Conv();
        var perLayer = VerilogWriter.Write(g, new HardwareOptions()).Manifest;
        Assert.Equal(perLayer.Layers.Count(l => l.Op != "flatten"), perLayer.LatencyCycles);
        foreach (int n in new[] { 0, 1, 2, 5, perLayer.Levels })
        {
            var m = VerilogWriter.Write(g, new HardwareOptions(n)).Manifest;
            Assert.Equal(n, m.LatencyCycles);
            Assert.Equal(n == 0 ? "none" : "even", m.Pipelining);
        }
        var e = Assert.Throws<HetQException>(() => VerilogWriter.Write(g, new HardwareOptions(perLayer.Levels + 1)));
        Assert.Contains("at most", e.Message);
    }

    [Fact]
    public void Bad_options_are_clear_errors()
    {
        var g = TestDesigns.Tiny();
        Assert.Contains("0 or more", Assert.Throws<HetQException>(() => VerilogWriter.Write(g, new HardwareOptions(-1))).Message);
        Assert.Contains("not a Verilog identifier", Assert.Throws<HetQException>(() => VerilogWriter.Write(g, new HardwareOptions(Top: "1top"))).Message);
        var one = Sparse() with { Nodes = Sparse().Nodes.Take(1).ToList() };
        Assert.Contains("argmax needs at least 2 outputs", Assert.Throws<HetQException>(() => VerilogWriter.Write(one with
        {
            Nodes = new[] { one.Nodes[0] with { Output = new TensorType(new[] { 1 }, one.Nodes[0].Output.Type) } },
        }, new HardwareOptions(Argmax: true))).Message);
    }

    [Fact]
    public void Node_names_become_unique_Verilog_identifiers()
    {
        Assert.Equal("dense_1_kernel", VerilogWriter.Identifier("dense/1.kernel"));
        Assert.Equal("n_3d", VerilogWriter.Identifier("3d"));
        var g = Sparse();
        var renamed = g with { Nodes = new[] { g.Nodes[0], g.Nodes[1] with { Name = "input" } } };
        var text = VerilogWriter.Write(renamed, new HardwareOptions()).TopText;
        Assert.Contains("input_1_s0", text);
    }
}
