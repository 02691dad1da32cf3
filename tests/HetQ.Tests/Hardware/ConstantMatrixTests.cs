using System.Numerics;
using HetQ.Graph;
using HetQ.Hardware;
using HetQ.Quantization;

namespace HetQ.Tests.Hardware;

/// <summary>Shared partial sums of a constant matrix: the decomposition reconstructs every column exactly, keeps the
/// depth bound, saves adders where digits repeat, and the Verilog built from it simulates exactly.</summary>
public class ConstantMatrixTests(ITestOutputHelper output)
{
    /// <summary>A random matrix of 6-bit weights with zeros, ±1, powers of two, the extremes, repeated values, a
    /// repeated column, a negated column, an all-zero column and a repeated row.</summary>
    internal static long[,] RandomMatrix(int rows, int cols, int seed)
    {
        var rng = new Random(seed);
        long[] special = { 0, 0, 1, -1, 2, -4, 8, 16, -16, -32, 31, 21, -21, 7, -7 };
        var w = new long[rows, cols];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                w[i, j] = rng.Next(3) == 0 ? special[rng.Next(special.Length)] : rng.Next(-32, 32);
        if (cols >= 4)
            for (int i = 0; i < rows; i++)
            {
                w[i, 1] = w[i, 0];
                w[i, 2] = -w[i, 0];
                w[i, 3] = 0;
            }
        if (rows >= 2)
            for (int j = 0; j < cols; j++) w[1, j] = w[0, j];
        return w;
    }

    public static TheoryData<int, int, int, int> Shapes() => new()
    {
        { 1, 1, 1, 0 }, { 3, 2, 2, 0 }, { 16, 64, 3, 0 }, { 64, 32, 4, 0 }, { 16, 8, 5, 1 }, { 20, 12, 6, 32 }, { 9, 1, 7, 0 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void The_decomposition_reconstructs_every_column_exactly_within_the_depth_bound(int rows, int cols, int seed, int extra)
    {
        var w = RandomMatrix(rows, cols, seed);
        var plain = ConstantMatrix.Decompose(rows, cols, (i, j) => w[i, j], share: false);
        var d = ConstantMatrix.Decompose(rows, cols, (i, j) => w[i, j], extraDepth: extra);
        foreach (var x in new[] { plain, d })
        {
            var y = ConstantMatrix.Reconstruct(x);
            for (int j = 0; j < cols; j++)
                for (int i = 0; i < rows; i++) Assert.Equal((BigInteger)w[i, j], y[j][i]);
        }
        Assert.Empty(plain.Adders);
        Assert.True(d.Depth <= plain.Depth + extra, $"depth {d.Depth} exceeds {plain.Depth} + {extra}");
        for (int k = 0; k < d.Adders.Count; k++)
        {
            var a = d.Adders[k];
            Assert.True(a.A < rows + k && a.B < rows + k, "an adder reads a node defined after it");
            Assert.Equal(Math.Max(d.Depths[a.A], d.Depths[a.B]) + 1, d.Depths[rows + k]);
        }
        int before = plain.TreeAdders, after = d.Adders.Count + d.TreeAdders;
        output.WriteLine($"{rows}x{cols}: {before} adders without sharing, {after} with ({d.Adders.Count} shared), depth {plain.Depth} -> {d.Depth}");
        Assert.True(after <= before);
        if (rows * cols >= 16) Assert.True(after < before, "sharing saved nothing on a matrix with repeated columns");
    }

    [Fact]
    public void A_pair_repeated_across_columns_becomes_one_shared_adder()
    {
        // Columns 3 = 1 + 2, 6 = 2 + 4, 5 = 1 + 4 (digits x0 + x1·2^k): x0 + 2·x1 occurs in columns 0 and 1.
        long[,] w = { { 1, 1, 3 }, { 2, 2, 5 } };
        var d = ConstantMatrix.Decompose(2, 3, (i, j) => w[i, j]);
        Assert.Equal(new SharedAdder(0, 1, 1, 1), Assert.Single(d.Adders));
        Assert.Equal(new SignedDigit(2, 0, 1), Assert.Single(d.Columns[0]));
        Assert.Equal(new SignedDigit(2, 0, 1), Assert.Single(d.Columns[1]));
    }

    [Fact]
    public void Tree_depth_is_that_of_adding_the_shallowest_terms_first()
    {
        Assert.Equal(0, MatrixDecomposition.TreeDepth(new[] { 0 }));
        Assert.Equal(1, MatrixDecomposition.TreeDepth(new[] { 0, 0 }));
        Assert.Equal(2, MatrixDecomposition.TreeDepth(new[] { 0, 0, 0 }));
        Assert.Equal(2, MatrixDecomposition.TreeDepth(new[] { 1, 0, 0 }));
        Assert.Equal(3, MatrixDecomposition.TreeDepth(new[] { 2, 0, 0 }));
        Assert.Equal(4, MatrixDecomposition.TreeDepth(new[] { 2, 2, 0 }));
        Assert.Equal(3, MatrixDecomposition.TreeDepth(new[] { 2, 2 }));
    }

    /// <summary>input 6 x ap_fixed&lt;6,2&gt; → dense 6→8 (a random matrix; its all-zero column gives a constant output)
    /// requantized to ap_fixed&lt;8,3,RND,SAT&gt; → dense 8→5 (another random matrix; the constant input folds into the
    /// bias), requantized with ReLU to ap_ufixed&lt;7,3,RND_CONV,SAT&gt;.</summary>
    internal static IntegerGraph RandomDense(int seed)
    {
        var inType = new FixedType(true, 6, 2);
        var wType = new FixedType(true, 6, 2);
        var bType = new FixedType(true, 6, 2);
        var mid = new FixedType(true, 8, 3);
        var last = new FixedType(false, 7, 3);
        var nodes = new List<GraphNode>
        {
            new("input", new InputOp(new FixedFormat(inType, Rounding.TRN, Overflow.WRAP)), Array.Empty<int>(), new TensorType(new[] { 6 }, inType)),
            Layer("d1", 6, 8, seed, inType, wType, bType, new Requantization(false, new FixedFormat(mid, Rounding.RND, Overflow.SAT)), mid, 0),
            Layer("d2", 8, 5, seed + 1, mid, wType, bType, new Requantization(true, new FixedFormat(last, Rounding.RND_CONV, Overflow.SAT)), last, 1),
        };
        return new IntegerGraph($"matrix_{seed}", nodes, Array.Empty<string>());
    }

    private static GraphNode Layer(string name, int n, int m, int seed, FixedType inType, FixedType wType, FixedType bType, Requantization rq, FixedType outType, int input)
    {
        var w2 = RandomMatrix(n, m, seed);
        var w = new long[n * m];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < m; j++) w[i * m + j] = w2[i, j];
        var rng = new Random(seed + 100);
        var b = Enumerable.Range(0, m).Select(_ => (long)rng.Next(-32, 32)).ToArray();
        int accFrac = inType.FractionalBits + wType.FractionalBits;
        Int128 lo = Int128.MaxValue, hi = Int128.MinValue;
        for (int j = 0; j < m; j++)
        {
            var col = Enumerable.Range(0, n).Select(i => w[i * m + j]).ToArray();
            var (l, h) = TypeInference.DotBounds(col, inType.MinRaw, inType.MaxRaw, 0, b[j], accFrac - bType.FractionalBits);
            lo = l < lo ? l : lo;
            hi = h > hi ? h : hi;
        }
        var acc = TypeInference.Holding(lo, hi, accFrac);
        return new GraphNode(name, new DenseOp(n, m, w, wType, b, bType, acc, rq), new[] { input }, new TensorType(new[] { m }, outType));
    }

    public static TheoryData<SimulatorKind, Sharing, int> Simulations() => new()
    {
        { SimulatorKind.Verilator, Sharing.Cse, 11 }, { SimulatorKind.Icarus, Sharing.Cse, 11 }, { SimulatorKind.Icarus, Sharing.Cse, 12 },
        { SimulatorKind.Icarus, Sharing.None, 11 },
    };

    [Theory]
    [MemberData(nameof(Simulations))]
    public async Task Random_matrices_simulate_exactly(SimulatorKind kind, Sharing sharing, int seed)
    {
        using var dir = new TempDir();
        var g = RandomDense(seed);
        await TestDesigns.Simulate(output, dir.Path, g, new HardwareOptions(Sharing: sharing), kind, Array.Empty<float>(), 1000);
        Assert.Equal(sharing.ToString().ToLowerInvariant(), HardwareManifest.Load(Path.Combine(dir.Path, HardwareManifest.FileName)).Sharing);
    }

    [Fact]
    public void Sharing_writes_fewer_adders_and_keeps_the_levels()
    {
        var g = RandomDense(11);
        var none = VerilogWriter.Write(g, new HardwareOptions(Sharing: Sharing.None));
        var cse = VerilogWriter.Write(g, new HardwareOptions());
        int Adders(string text) => text.Split('\n').Count(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^\s*wire [^=]*_[sc]\d+ = "));
        Assert.True(Adders(cse.TopText) < Adders(none.TopText), $"{Adders(cse.TopText)} adders with sharing, {Adders(none.TopText)} without");
        Assert.Contains("_c0 = ", cse.TopText);
        Assert.DoesNotContain("_c0 = ", none.TopText);
        Assert.Equal(none.Manifest.Levels, cse.Manifest.Levels);
        Assert.Equal("cse", cse.Manifest.Sharing);
    }
}
