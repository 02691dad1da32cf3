using HetQ.Numerics;

namespace HetQ.Tests.Numerics;

public class GemmTests
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
        Assert.Equal(expected.Length, actual.Length);
        float tol = 1e-5f * Math.Max(1, k);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol, $"element {i}: expected {expected[i]}, got {actual[i]}");
    }

    public static TheoryData<int, int, int> Shapes()
    {
        var d = new TheoryData<int, int, int>();
        foreach (int m in new[] { 1, 5, 6, 7, 13, 64 })
            foreach (int n in new[] { 1, 8, 15, 16, 17, 33, 64 })
                foreach (int k in new[] { 1, 3, 16, 100 })
                    d.Add(m, n, k);
        return d;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void The_SIMD_product_matches_the_scalar_reference(int m, int n, int k)
    {
        var a = Random(m * k, 1);
        var b = Random(k * n, 2);
        var expected = new float[m * n];
        var actual = new float[m * n];
        Gemm.MultiplyScalar(a, k, b, n, expected, n, m, n, k);
        Gemm.Multiply(a, k, b, n, actual, n, m, n, k);
        AssertClose(expected, actual, k);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void The_fused_bias_and_relu_product_matches_the_scalar_reference(int m, int n, int k)
    {
        var a = Random(m * k, 11);
        var b = Random(k * n, 12);
        var bias = Random(n, 13);
        var expected = new float[m * n];
        Gemm.MultiplyScalar(a, k, b, n, expected, n, m, n, k);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) expected[i * n + j] = Math.Max(0, expected[i * n + j] + bias[j]);
        var actual = new float[m * n];
        Gemm.MultiplyBiasRelu(a, b, bias, true, actual, m, n, k);
        AssertClose(expected, actual, k);
    }

    [Theory]
    [InlineData(7, 19, 33)]
    [InlineData(64, 10, 512)]
    public void Accumulating_adds_to_the_destination(int m, int n, int k)
    {
        var a = Random(m * k, 3);
        var b = Random(k * n, 4);
        var c0 = Random(m * n, 5);
        var expected = (float[])c0.Clone();
        var actual = (float[])c0.Clone();
        Gemm.MultiplyScalar(a, k, b, n, expected, n, m, n, k, accumulate: true);
        Gemm.Multiply(a, k, b, n, actual, n, m, n, k, accumulate: true);
        AssertClose(expected, actual, k);
    }

    [Theory]
    [InlineData(9, 17, 23)]
    [InlineData(64, 32, 100)]
    public void Transposed_variants_match_explicit_transposes(int m, int n, int k)
    {
        var at = Random(k * m, 6); // A stored [K, M]
        var b = Random(k * n, 7);
        var a = new float[m * k];
        Gemm.Transpose(at, k, m, a);
        var expected = new float[m * n];
        var actual = new float[m * n];
        Gemm.MultiplyScalar(a, k, b, n, expected, n, m, n, k);
        Gemm.MultiplyTransA(at, b, actual, m, n, k);
        AssertClose(expected, actual, k);

        var bt = Random(n * k, 8); // B stored [N, K]
        var bb = new float[k * n];
        Gemm.Transpose(bt, n, k, bb);
        Gemm.MultiplyScalar(a, k, bb, n, expected, n, m, n, k);
        Gemm.MultiplyTransB(a, bt, actual, m, n, k);
        AssertClose(expected, actual, k);
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 1)]
    [InlineData(31, 33)]
    [InlineData(64, 3)]
    public void Transpose_is_exact(int rows, int cols)
    {
        var a = Random(rows * cols, 9);
        var t = new float[rows * cols];
        Gemm.Transpose(a, rows, cols, t);
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                Assert.Equal(a[i * cols + j], t[j * rows + i]);
    }
}
