using System.Buffers;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace HetQ.Numerics;

/// <summary>The vector instructions a kernel runs with.</summary>
internal enum SimdWidth { Scalar = 0, Avx2 = 256, Avx512 = 512 }

/// <summary>Single-threaded float32 matrix products, row-major. The fast path cuts B into column panels (k-blocked; read in
/// place when B's rows hold the whole panel, else packed) and runs register-resident FMA micro-kernels: 6x32 and 8x16 with Vector512 where the CPU has AVX-512F, 6x16 with Vector256
/// otherwise (chosen at run time; see <see cref="GemmKernels"/>). Each element of C is one chain of fused multiply-adds in
/// k order on both paths, so the two give identical bits; <see cref="MultiplyScalar"/> is the plain (unfused) reference
/// they are tested against, and differs from them in the last bits.</summary>
public static class Gemm
{
    private const int KC = 256;

    /// <summary>The widest path this CPU runs.</summary>
    internal static SimdWidth Width { get; } =
        Avx512F.IsSupported && Vector512.IsHardwareAccelerated && Fma.IsSupported ? SimdWidth.Avx512
        : Fma.IsSupported && Vector256.IsHardwareAccelerated ? SimdWidth.Avx2
        : SimdWidth.Scalar;

    /// <summary>Vector width in bits of the kernels in use (512, 256, or 0 for the scalar loops).</summary>
    public static int VectorBits => (int)Width;

    /// <summary>C[M,N] (+)= A[M,K] * B[K,N]. lda/ldb/ldc are row strides.</summary>
    public static void Multiply(ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc,
        int m, int n, int k, bool accumulate = false) => Multiply(Width, a, lda, b, ldb, c, ldc, m, n, k, accumulate);

    internal static void Multiply(SimdWidth width, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc,
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
        if (!UseSimd(width, m, n, k))
        {
            MultiplyScalar(a, lda, b, ldb, c, ldc, m, n, k, accumulate);
            return;
        }
        Run(width, a, lda, 1, b, ldb, false, c, ldc, m, n, k, accumulate, default, false);
    }

    private static bool UseSimd(SimdWidth width, int m, int n, int k) =>
        width != SimdWidth.Scalar && width <= Width && (long)m * n * k >= 512;

    /// <summary>C[M,N] = f(A[M,K] * B[K,N] + bias) with f = ReLU or identity: the dense-layer forward pass in one sweep.</summary>
    public static void MultiplyBiasRelu(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> bias, bool relu, Span<float> c,
        int m, int n, int k) => MultiplyBiasRelu(Width, a, b, bias, relu, c, m, n, k);

    internal static void MultiplyBiasRelu(SimdWidth width, ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> bias, bool relu,
        Span<float> c, int m, int n, int k)
    {
        if (!bias.IsEmpty && bias.Length != n) throw new ArgumentException($"bias length {bias.Length} != {n}");
        if (m == 0 || n == 0) return;
        if (k == 0 || !UseSimd(width, m, n, k))
        {
            Multiply(width, a, k, b, n, c, n, m, n, k);
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
        Run(width, a, k, 1, b, n, false, c, n, m, n, k, false, bias, relu);
    }

    /// <summary>C[M,N] (+)= A^T * B with A stored [K,M] and B [K,N] (e.g. weight gradient X^T dY).</summary>
    public static void MultiplyTransA(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c,
        int m, int n, int k, bool accumulate = false) => MultiplyTransA(Width, a, b, c, m, n, k, accumulate);

    internal static void MultiplyTransA(SimdWidth width, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c,
        int m, int n, int k, bool accumulate = false)
    {
        if (m > 0 && n > 0 && k > 0 && UseSimd(width, m, n, k))
        {
            CheckSizes(a.Length, m, k, m, "A");
            CheckSizes(b.Length, n, k, n, "B");
            CheckSizes(c.Length, n, m, n, "C");
            Run(width, a, 1, m, b, n, false, c, n, m, n, k, accumulate, default, false);
            return;
        }
        float[] at = ArrayPool<float>.Shared.Rent(m * k);
        try
        {
            Transpose(a, k, m, at);
            Multiply(width, at.AsSpan(0, m * k), k, b, n, c, n, m, n, k, accumulate);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(at);
        }
    }

    /// <summary>C[M,N] (+)= A * B^T with A [M,K] and B stored [N,K] (e.g. input gradient dY W^T).</summary>
    public static void MultiplyTransB(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c,
        int m, int n, int k, bool accumulate = false) => MultiplyTransB(Width, a, b, c, m, n, k, accumulate);

    internal static void MultiplyTransB(SimdWidth width, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c,
        int m, int n, int k, bool accumulate = false)
    {
        if (m > 0 && n > 0 && k > 0 && UseSimd(width, m, n, k))
        {
            CheckSizes(a.Length, k, m, k, "A");
            CheckSizes(b.Length, k, n, k, "B");
            CheckSizes(c.Length, n, m, n, "C");
            Run(width, a, k, 1, b, k, true, c, n, m, n, k, accumulate, default, false);
            return;
        }
        float[] bt = ArrayPool<float>.Shared.Rent(n * k);
        try
        {
            Transpose(b, n, k, bt);
            Multiply(width, a, k, bt.AsSpan(0, n * k), n, c, n, m, n, k, accumulate);
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

    /// <summary>Reference triple loop: the oracle for the SIMD kernels.</summary>
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

    /// <summary>Width of the panel starting at column j0: the path's wide panel, or 16 for a last panel of at most 16 columns.</summary>
    private static int PanelWidth(int j0, int n, int wide) => n - j0 <= 16 ? 16 : wide;

    private static int PackedColumns(int n, int wide)
    {
        int cols = 0;
        for (int j0 = 0; j0 < n; j0 += PanelWidth(j0, n, wide)) cols += PanelWidth(j0, n, wide);
        return cols;
    }

    /// <summary>Whether the panel at j0 is read from B in place (B not transposed, all its columns inside B): then it is
    /// kb rows of stride ldb, and only the other panels are packed.</summary>
    private static bool InPlace(bool transB, int w, int pw) => !transB && w == pw;

    /// <summary>Rows p0..p0+kb of B (B[p, j] = b[p·ldb + j], or b[j·ldb + p] when transposed) as panels: the panel at column
    /// j0 starts at j0·kb and holds kb rows of its width, zero past column n; panels read in place are skipped.</summary>
    private static void PackB(ReadOnlySpan<float> b, int ldb, bool transB, int p0, int kb, int n, int wide, Span<float> packed)
    {
        for (int j0 = 0; j0 < n; j0 += PanelWidth(j0, n, wide))
        {
            int pw = PanelWidth(j0, n, wide), w = Math.Min(pw, n - j0);
            if (InPlace(transB, w, pw)) continue;
            Span<float> dst = packed.Slice(j0 * kb, kb * pw);
            if (!transB)
            {
                for (int q = 0; q < kb; q++)
                {
                    Span<float> d = dst.Slice(q * pw, pw);
                    b.Slice((p0 + q) * ldb + j0, w).CopyTo(d);
                    if (w < pw) d.Slice(w).Clear();
                }
                continue;
            }
            if (w < pw) dst.Clear();
            for (int jj = 0; jj < w; jj++)
            {
                ReadOnlySpan<float> src = b.Slice((j0 + jj) * ldb + p0, kb);
                for (int q = 0; q < kb; q++) dst[q * pw + jj] = src[q];
            }
        }
    }

    /// <summary>Rows of A per block: every panel of B runs over one block before the next, so the block's strip of A
    /// (at most 96 x <see cref="KC"/> floats) stays in cache across the panels. A multiple of both tile heights, 6 and 8.</summary>
    private const int MB = 96;

    /// <summary>The SIMD driver: A element (i, p) at a[i·rs + p·cs]; k in balanced blocks of at most <see cref="KC"/>, the
    /// accumulators of every block after the first starting from C (so blocking does not change the result); within a k block,
    /// blocks of <see cref="MB"/> rows, each across all panels. Loop order and in-place panels change no rounding.</summary>
    private static unsafe void Run(SimdWidth width, ReadOnlySpan<float> a, int rs, int cs, ReadOnlySpan<float> b, int ldb, bool transB,
        Span<float> c, int ldc, int m, int n, int k, bool accumulate, ReadOnlySpan<float> bias, bool relu)
    {
        int wide = width == SimdWidth.Avx512 ? 32 : 16;
        int blocks = (k + KC - 1) / KC, kcMax = (k + blocks - 1) / blocks;
        float[] packed = ArrayPool<float>.Shared.Rent(PackedColumns(n, wide) * kcMax);
        Span<float> tile = stackalloc float[8 * 32];
        Span<float> biasPanel = stackalloc float[32];
        try
        {
            fixed (float* pa = a, pbsrc = b, pb = packed, pc = c, pt = tile, pbiasPanel = biasPanel, pbias = bias)
            {
                for (int p0 = 0; p0 < k; p0 += kcMax)
                {
                    int kb = Math.Min(kcMax, k - p0);
                    bool fromC = accumulate || p0 > 0, last = p0 + kb == k;
                    PackB(b, ldb, transB, p0, kb, n, wide, packed);
                    for (int ib = 0; ib < m; ib += MB)
                    {
                        int iEnd = Math.Min(m, ib + MB);
                        for (int j0 = 0; j0 < n; j0 += PanelWidth(j0, n, wide))
                        {
                            int pw = PanelWidth(j0, n, wide), w = Math.Min(pw, n - j0);
                            bool inPlace = InPlace(transB, w, pw);
                            float* bp = inPlace ? pbsrc + (long)p0 * ldb + j0 : pb + (long)j0 * kb;
                            int bstride = inPlace ? ldb : pw;
                            float* bb = null;
                            if (!fromC && !bias.IsEmpty)
                            {
                                if (w == pw) bb = pbias + j0;
                                else
                                {
                                    biasPanel.Clear();
                                    bias.Slice(j0, w).CopyTo(biasPanel);
                                    bb = pbiasPanel;
                                }
                            }
                            int mr = width == SimdWidth.Avx512 && pw == 16 ? 8 : 6;
                            for (int i0 = ib; i0 < iEnd; i0 += mr)
                            {
                                int rows = Math.Min(mr, iEnd - i0);
                                float* ap = pa + (long)i0 * rs + (long)p0 * cs;
                                float* cp = pc + (long)i0 * ldc + j0;
                                if (w == pw || mr == 8)
                                {
                                    Kernel(width, pw, ap, rs, cs, rows, bp, bstride, kb, fromC ? cp : bb, fromC ? ldc : 0, cp, ldc, relu && last, w);
                                    continue;
                                }
                                if (fromC)
                                    for (int r = 0; r < rows; r++)
                                        for (int j = 0; j < w; j++) pt[r * pw + j] = cp[(long)r * ldc + j];
                                Kernel(width, pw, ap, rs, cs, rows, bp, bstride, kb, fromC ? pt : bb, fromC ? pw : 0, pt, pw, relu && last, pw);
                                for (int r = 0; r < rows; r++)
                                    for (int j = 0; j < w; j++) cp[(long)r * ldc + j] = pt[r * pw + j];
                            }
                        }
                    }
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(packed);
        }
    }

    /// <summary>Runs the path's kernel for a panel of width pw of which the first w columns are in C (w &lt; pw only for the
    /// masked 8x16 kernel; the others then write a staging tile).</summary>
    private static unsafe void Kernel(SimdWidth width, int pw, float* a, int rs, int cs, int rows, float* b, int ldb, int kc, float* init, int ldi,
        float* c, int ldc, bool relu, int w)
    {
        if (width == SimdWidth.Avx2) GemmKernels.K6x16(a, rs, cs, rows, b, ldb, kc, init, ldi, c, ldc, relu);
        else if (pw == 32) GemmKernels.K6x32(a, rs, cs, rows, b, ldb, kc, init, ldi, c, ldc, relu);
        else GemmKernels.K8x16(a, rs, cs, rows, b, ldb, kc, init, ldi, c, ldc, relu, w);
    }
}
