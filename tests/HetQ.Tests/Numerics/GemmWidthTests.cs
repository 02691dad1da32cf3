using HetQ.Numerics;

namespace HetQ.Tests.Numerics;

/// <summary>The AVX2 (Vector256) and AVX-512 (Vector512) kernels against the scalar reference and against each other:
/// both run each element of C as one fused multiply-add chain in k order, so they must agree bit for bit.</summary>
public class GemmWidthTests
{
    private static float[] Random(int n, int seed)
    {
        var r = new Random(seed);
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)(r.NextDouble() * 2 - 1);
        return a;
    }

    private static void AssertClose(float[] expected, float[] actual, int k)
    {
        float tol = 1e-5f * Math.Max(1, k);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol, $"element {i}: expected {expected[i]}, got {actual[i]}");
    }

    private static void AssertSameBits(float[] x, float[] y)
    {
        Assert.Equal(x.Length, y.Length);
        for (int i = 0; i < x.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(x[i]) == BitConverter.SingleToInt32Bits(y[i]), $"element {i}: {x[i]:R} vs {y[i]:R}");
    }

    /// <summary>Skips where the CPU has no AVX-512F (a property of the machine, not a missing tool: also under CI).</summary>
    private static void Require512() =>
        Assert.SkipUnless(Gemm.Width == SimdWidth.Avx512, "this CPU has no AVX-512F, only the AVX2 path can run");

    public static TheoryData<int, int, int> Shapes()
    {
        var d = new TheoryData<int, int, int>();
        foreach (int m in new[] { 1, 7, 8, 9, 64 })
            foreach (int n in new[] { 5, 16, 17, 32, 33, 48, 64, 144 })
                foreach (int k in new[] { 3, 16, 300, 600 })
                    d.Add(m, n, k);
        return d;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Both_paths_match_the_scalar_reference_and_each_other(int m, int n, int k)
    {
        Require512();
        var a = Random(m * k, 1);
        var b = Random(k * n, 2);
        var bias = Random(n, 3);
        var c0 = Random(m * n, 4);
        var reference = (float[])c0.Clone();
        Gemm.MultiplyScalar(a, k, b, n, reference, n, m, n, k, accumulate: true);
        var results = new List<float[]>();
        foreach (var w in new[] { SimdWidth.Avx2, SimdWidth.Avx512 })
        {
            var acc = (float[])c0.Clone();
            Gemm.Multiply(w, a, k, b, n, acc, n, m, n, k, accumulate: true);
            AssertClose(reference, acc, k);
            results.Add(acc);

            var fused = new float[m * n];
            Gemm.MultiplyBiasRelu(w, a, b, bias, true, fused, m, n, k);
            results.Add(fused);

            var at = new float[k * m];
            Gemm.Transpose(a, m, k, at);
            var ta = new float[m * n];
            Gemm.MultiplyTransA(w, at, b, ta, m, n, k);
            results.Add(ta);

            var bt = new float[n * k];
            Gemm.Transpose(b, k, n, bt);
            var tb = new float[m * n];
            Gemm.MultiplyTransB(w, a, bt, tb, m, n, k);
            results.Add(tb);
        }
        for (int i = 0; i < 4; i++) AssertSameBits(results[i], results[i + 4]);
        // the transposed forms run the same chains as the plain product
        var plain = new float[m * n];
        Gemm.Multiply(SimdWidth.Avx2, a, k, b, n, plain, n, m, n, k);
        if ((long)m * n * k >= 512)
        {
            AssertSameBits(plain, results[6]);
            AssertSameBits(plain, results[7]);
        }
    }

    [Theory]
    [InlineData(256)]
    [InlineData(512)]
    public void K_blocking_does_not_change_a_bit(int bits)
    {
        var width = (SimdWidth)bits;
        if (width == SimdWidth.Avx512) Require512();
        int m = 13, n = 40, k = 700, k1 = 123;
        var a = Random(m * k, 5);
        var b = Random(k * n, 6);
        var whole = new float[m * n];
        Gemm.Multiply(width, a, k, b, n, whole, n, m, n, k);
        // the same product in two calls: the second continues every chain from C
        var split = new float[m * n];
        Gemm.Multiply(width, a, k, b, n, split, n, m, n, k1);
        Gemm.Multiply(width, a.AsSpan(k1), k, b.AsSpan(k1 * n), n, split, n, m, n, k - k1, accumulate: true);
        AssertSameBits(whole, split);
    }

    [Fact]
    public void The_run_time_choice_follows_the_hardware()
    {
        var expected = System.Runtime.Intrinsics.X86.Avx512F.IsSupported ? 512 : System.Runtime.Intrinsics.X86.Fma.IsSupported ? 256 : 0;
        Assert.Equal(expected, Gemm.VectorBits);
    }
}
