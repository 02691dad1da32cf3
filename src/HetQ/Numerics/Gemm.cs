using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace HetQ.Numerics;

/// <summary>Single-threaded float32 matrix products, row-major. The fast path packs B into
/// 16-wide column panels and runs a register-resident 6x16 FMA micro-kernel (Vector256);
/// <see cref="MultiplyScalar"/> is the plain reference it is tested against.</summary>
public static class Gemm
{
    private const int MR = 6;
    private const int NR = 16;

    /// <summary>C[M,N] (+)= A[M,K] * B[K,N]. lda/ldb/ldc are row strides.</summary>
    public static void Multiply(ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc,
        int m, int n, int k, bool accumulate = false)
    {
        if (m == 0 || n == 0) return;
        if (k == 0)
        {
            if (!accumulate) for (int i = 0; i < m; i++) c.Slice(i * ldc, n).Clear();
            return;
        }
        CheckSizes(a.Length, lda, m, k, "A");
        CheckSizes(b.Length, ldb, k, n, "B");
        CheckSizes(c.Length, ldc, m, n, "C");
        if (!UseSimd(m, n, k))
        {
            MultiplyScalar(a, lda, b, ldb, c, ldc, m, n, k, accumulate);
            return;
        }
        Run(a, lda, 1, b, ldb, false, c, ldc, m, n, k, accumulate);
    }

    /// <summary>The SIMD path: A element (i, p) at a[i·rowStride + p·colStride]; B packed into panels,
    /// transposed on the fly when <paramref name="transB"/> (B stored [N, K]).</summary>
    private static void Run(ReadOnlySpan<float> a, int rowStride, int colStride, ReadOnlySpan<float> b, int ldb, bool transB,
        Span<float> c, int ldc, int m, int n, int k, bool accumulate)
    {
        int panels = (n + NR - 1) / NR;
        float[] packed = ArrayPool<float>.Shared.Rent(panels * k * NR);
        try
        {
            if (transB) PackBTransposed(b, ldb, k, n, packed);
            else PackB(b, ldb, k, n, packed);
            MultiplyPacked(a, rowStride, colStride, packed, c, ldc, m, n, k, accumulate);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(packed);
        }
    }

    private static bool UseSimd(int m, int n, int k) => Fma.IsSupported && Vector256.IsHardwareAccelerated && (long)m * n * k >= 512;

    /// <summary>C[M,N] = f(A[M,K] * B[K,N] + bias) with f = ReLU or identity: the dense-layer forward pass in one sweep.</summary>
    public static void MultiplyBiasRelu(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> bias, bool relu, Span<float> c,
        int m, int n, int k)
    {
        if (!bias.IsEmpty && bias.Length != n) throw new ArgumentException($"bias length {bias.Length} != {n}");
        if (m == 0 || n == 0) return;
        if (k == 0 || !UseSimd(m, n, k))
        {
            Multiply(a, k, b, n, c, n, m, n, k);
            for (int i = 0; i < m; i++)
            {
                var row = c.Slice(i * n, n);
                if (!bias.IsEmpty) for (int j = 0; j < n; j++) row[j] += bias[j];
                if (relu) for (int j = 0; j < n; j++) row[j] = Math.Max(row[j], 0f);
            }
            return;
        }
        CheckSizes(a.Length, k, m, k, "A");
        CheckSizes(b.Length, n, k, n, "B");
        CheckSizes(c.Length, n, m, n, "C");
        int panels = (n + NR - 1) / NR;
        float[] packed = ArrayPool<float>.Shared.Rent(panels * k * NR);
        try
        {
            PackB(b, n, k, n, packed);
            MultiplyPacked(a, k, 1, packed, c, n, m, n, k, false, bias, relu);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(packed);
        }
    }

    /// <summary>C[M,N] (+)= A^T * B with A stored [K,M] and B [K,N] (e.g. weight gradient X^T dY).</summary>
    public static void MultiplyTransA(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c,
        int m, int n, int k, bool accumulate = false)
    {
        if (m > 0 && n > 0 && k > 0 && UseSimd(m, n, k))
        {
            CheckSizes(a.Length, m, k, m, "A");
            CheckSizes(b.Length, n, k, n, "B");
            CheckSizes(c.Length, n, m, n, "C");
            Run(a, 1, m, b, n, false, c, n, m, n, k, accumulate);
            return;
        }
        float[] at = ArrayPool<float>.Shared.Rent(m * k);
        try
        {
            Transpose(a, k, m, at);
            Multiply(at.AsSpan(0, m * k), k, b, n, c, n, m, n, k, accumulate);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(at);
        }
    }

    /// <summary>C[M,N] (+)= A * B^T with A [M,K] and B stored [N,K] (e.g. input gradient dY W^T).</summary>
    public static void MultiplyTransB(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c,
        int m, int n, int k, bool accumulate = false)
    {
        if (m > 0 && n > 0 && k > 0 && UseSimd(m, n, k))
        {
            CheckSizes(a.Length, k, m, k, "A");
            CheckSizes(b.Length, k, n, k, "B");
            CheckSizes(c.Length, n, m, n, "C");
            Run(a, k, 1, b, k, true, c, n, m, n, k, accumulate);
            return;
        }
        float[] bt = ArrayPool<float>.Shared.Rent(n * k);
        try
        {
            Transpose(b, n, k, bt);
            Multiply(a, k, bt.AsSpan(0, n * k), n, c, n, m, n, k, accumulate);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(bt);
        }
    }

    /// <summary>dst[cols, rows] = src[rows, cols]^T.</summary>
    public static void Transpose(ReadOnlySpan<float> src, int rows, int cols, Span<float> dst)
    {
        const int T = 32;
        for (int i0 = 0; i0 < rows; i0 += T)
        {
            int i1 = Math.Min(rows, i0 + T);
            for (int j0 = 0; j0 < cols; j0 += T)
            {
                int j1 = Math.Min(cols, j0 + T);
                for (int i = i0; i < i1; i++)
                {
                    int srow = i * cols;
                    for (int j = j0; j < j1; j++) dst[j * rows + i] = src[srow + j];
                }
            }
        }
    }

    /// <summary>Reference triple loop: the oracle for the SIMD kernel.</summary>
    public static void MultiplyScalar(ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc,
        int m, int n, int k, bool accumulate = false)
    {
        for (int i = 0; i < m; i++)
        {
            Span<float> crow = c.Slice(i * ldc, n);
            if (!accumulate) crow.Clear();
            for (int p = 0; p < k; p++)
            {
                float av = a[i * lda + p];
                if (av == 0f) continue;
                ReadOnlySpan<float> brow = b.Slice(p * ldb, n);
                for (int j = 0; j < n; j++) crow[j] += av * brow[j];
            }
        }
    }

    private static void CheckSizes(int length, int ld, int rows, int cols, string name)
    {
        if (ld < cols) throw new ArgumentException($"{name}: leading dimension {ld} < {cols}");
        if (length < (long)(rows - 1) * ld + cols) throw new ArgumentException($"{name}: span of {length} too short for {rows}x{cols} (ld {ld})");
    }

    private static void PackB(ReadOnlySpan<float> b, int ldb, int k, int n, Span<float> packed)
    {
        int panels = (n + NR - 1) / NR;
        for (int pnl = 0; pnl < panels; pnl++)
        {
            int j0 = pnl * NR;
            int w = Math.Min(NR, n - j0);
            Span<float> dst = packed.Slice(pnl * k * NR, k * NR);
            for (int p = 0; p < k; p++)
            {
                Span<float> d = dst.Slice(p * NR, NR);
                b.Slice(p * ldb + j0, w).CopyTo(d);
                if (w < NR) d.Slice(w).Clear();
            }
        }
    }

    private static void PackBTransposed(ReadOnlySpan<float> bt, int ldb, int k, int n, Span<float> packed)
    {
        int panels = (n + NR - 1) / NR;
        packed.Slice(0, panels * k * NR).Clear();
        for (int j = 0; j < n; j++)
        {
            int pnl = j / NR, jj = j % NR;
            ReadOnlySpan<float> src = bt.Slice(j * ldb, k);
            Span<float> dst = packed.Slice(pnl * k * NR);
            for (int p = 0; p < k; p++) dst[p * NR + jj] = src[p];
        }
    }

    private static unsafe void MultiplyPacked(ReadOnlySpan<float> a, int rs, int cs, float[] packed, Span<float> c, int ldc,
        int m, int n, int k, bool accumulate, ReadOnlySpan<float> bias = default, bool relu = false)
    {
        int panels = (n + NR - 1) / NR;
        Span<float> tile = stackalloc float[MR * NR];
        Span<float> biasPanel = stackalloc float[NR];
        fixed (float* pa = a, pb = packed, pc = c, pt = tile, pbias = biasPanel)
        {
            for (int pnl = 0; pnl < panels; pnl++)
            {
                int j0 = pnl * NR;
                int w = Math.Min(NR, n - j0);
                float* bp = pb + (long)pnl * k * NR;
                float* bb = null;
                if (!bias.IsEmpty)
                {
                    biasPanel.Clear();
                    bias.Slice(j0, w).CopyTo(biasPanel);
                    bb = pbias;
                }
                for (int i = 0; i < m; i += MR)
                {
                    int rows = Math.Min(MR, m - i);
                    if (w == NR && rows == MR) Kernel6x16(pa + (long)i * rs, rs, cs, MR, bp, k, bb, pc + (long)i * ldc + j0, ldc, accumulate, relu);
                    else
                    {
                        Kernel6x16(pa + (long)i * rs, rs, cs, rows, bp, k, bb, pt, NR, false, relu);
                        StoreTile(pt, rows, w, pc + (long)i * ldc + j0, ldc, accumulate);
                    }
                }
            }
        }
    }

    private static unsafe void StoreTile(float* tile, int rows, int w, float* c, int ldc, bool accumulate)
    {
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < w; j++)
                c[r * ldc + j] = accumulate ? c[r * ldc + j] + tile[r * NR + j] : tile[r * NR + j];
    }

    /// <summary>A 6x16 tile of C from a 6-row strip of A (rows beyond <paramref name="rows"/> repeat row 0 and are
    /// not stored) and one 16-wide panel of packed B; accumulators start at the bias panel (or zero), and ReLU is
    /// applied before the store when asked.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Kernel6x16(float* a, int rs, int cs, int rows, float* b, int k, float* bias, float* c, int ldc, bool accumulate, bool relu)
    {
        Vector256<float> c00, c01;
        if (bias is null) c00 = c01 = Vector256<float>.Zero;
        else
        {
            c00 = Avx.LoadVector256(bias);
            c01 = Avx.LoadVector256(bias + 8);
        }
        Vector256<float> c10 = c00, c11 = c01, c20 = c00, c21 = c01, c30 = c00, c31 = c01, c40 = c00, c41 = c01, c50 = c00, c51 = c01;
        float* a0 = a;
        float* a1 = a + (rows > 1 ? rs : 0);
        float* a2 = a + (rows > 2 ? 2 * rs : 0);
        float* a3 = a + (rows > 3 ? 3 * rs : 0);
        float* a4 = a + (rows > 4 ? 4 * rs : 0);
        float* a5 = a + (rows > 5 ? 5 * rs : 0);
        for (int q = 0; q < k; q++)
        {
            int p = q * cs;
            Vector256<float> b0 = Avx.LoadVector256(b);
            Vector256<float> b1 = Avx.LoadVector256(b + 8);
            b += NR;
            Vector256<float> av = Vector256.Create(a0[p]);
            c00 = Fma.MultiplyAdd(av, b0, c00); c01 = Fma.MultiplyAdd(av, b1, c01);
            av = Vector256.Create(a1[p]);
            c10 = Fma.MultiplyAdd(av, b0, c10); c11 = Fma.MultiplyAdd(av, b1, c11);
            av = Vector256.Create(a2[p]);
            c20 = Fma.MultiplyAdd(av, b0, c20); c21 = Fma.MultiplyAdd(av, b1, c21);
            av = Vector256.Create(a3[p]);
            c30 = Fma.MultiplyAdd(av, b0, c30); c31 = Fma.MultiplyAdd(av, b1, c31);
            av = Vector256.Create(a4[p]);
            c40 = Fma.MultiplyAdd(av, b0, c40); c41 = Fma.MultiplyAdd(av, b1, c41);
            av = Vector256.Create(a5[p]);
            c50 = Fma.MultiplyAdd(av, b0, c50); c51 = Fma.MultiplyAdd(av, b1, c51);
        }
        Store2(c, c00, c01, accumulate, relu); c += ldc;
        if (rows > 1) Store2(c, c10, c11, accumulate, relu); c += ldc;
        if (rows > 2) Store2(c, c20, c21, accumulate, relu); c += ldc;
        if (rows > 3) Store2(c, c30, c31, accumulate, relu); c += ldc;
        if (rows > 4) Store2(c, c40, c41, accumulate, relu); c += ldc;
        if (rows > 5) Store2(c, c50, c51, accumulate, relu);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Store2(float* c, Vector256<float> v0, Vector256<float> v1, bool accumulate, bool relu)
    {
        if (accumulate)
        {
            v0 = Avx.Add(v0, Avx.LoadVector256(c));
            v1 = Avx.Add(v1, Avx.LoadVector256(c + 8));
        }
        if (relu)
        {
            v0 = Avx.Max(v0, Vector256<float>.Zero);
            v1 = Avx.Max(v1, Vector256<float>.Zero);
        }
        Avx.Store(c, v0);
        Avx.Store(c + 8, v1);
    }
}
