using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace HetQ.Numerics;

/// <summary>The register-resident micro-kernels of <see cref="Gemm"/>. Each computes one tile of C from a strip of A
/// (element (r, q) at a[r·rs + q·cs]; rows at or past <c>rows</c> repeat the last row and are not stored) and one panel
/// of B: kc rows of the panel width, row q at b + q·ldb (a packed panel, or B itself when its rows hold the whole panel). Every accumulator starts at its init row (the bias for every row when ldi is 0,
/// the tile of C itself when accumulating, zero when init is null) and then takes one fused multiply-add per q in order,
/// so each element of C is the same chain of roundings in every kernel and at every k-blocking.</summary>
internal static unsafe class GemmKernels
{
    /// <summary>6 rows x 16 columns, two Vector256 per row (AVX2 + FMA).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void K6x16(float* a, int rs, int cs, int rows, float* b, int ldb, int kc, float* init, int ldi, float* c, int ldc, bool relu)
    {
        Vector256<float> c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
        if (init is null) c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = c40 = c41 = c50 = c51 = Vector256<float>.Zero;
        else
        {
            float* i0 = init, i1 = init + Row(1, rows) * ldi, i2 = init + Row(2, rows) * ldi;
            float* i3 = init + Row(3, rows) * ldi, i4 = init + Row(4, rows) * ldi, i5 = init + Row(5, rows) * ldi;
            c00 = Avx.LoadVector256(i0); c01 = Avx.LoadVector256(i0 + 8);
            c10 = Avx.LoadVector256(i1); c11 = Avx.LoadVector256(i1 + 8);
            c20 = Avx.LoadVector256(i2); c21 = Avx.LoadVector256(i2 + 8);
            c30 = Avx.LoadVector256(i3); c31 = Avx.LoadVector256(i3 + 8);
            c40 = Avx.LoadVector256(i4); c41 = Avx.LoadVector256(i4 + 8);
            c50 = Avx.LoadVector256(i5); c51 = Avx.LoadVector256(i5 + 8);
        }
        float* a0 = a, a1 = a + Row(1, rows) * rs, a2 = a + Row(2, rows) * rs;
        float* a3 = a + Row(3, rows) * rs, a4 = a + Row(4, rows) * rs, a5 = a + Row(5, rows) * rs;
        for (int q = 0; q < kc; q++)
        {
            int p = q * cs;
            Vector256<float> b0 = Avx.LoadVector256(b), b1 = Avx.LoadVector256(b + 8);
            b += ldb;
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
        Store(c, c00, c01, relu); c += ldc;
        if (rows > 1) Store(c, c10, c11, relu); c += ldc;
        if (rows > 2) Store(c, c20, c21, relu); c += ldc;
        if (rows > 3) Store(c, c30, c31, relu); c += ldc;
        if (rows > 4) Store(c, c40, c41, relu); c += ldc;
        if (rows > 5) Store(c, c50, c51, relu);
    }

    /// <summary>6 rows x 32 columns, two Vector512 per row (AVX-512F).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void K6x32(float* a, int rs, int cs, int rows, float* b, int ldb, int kc, float* init, int ldi, float* c, int ldc, bool relu)
    {
        Vector512<float> c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
        if (init is null) c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = c40 = c41 = c50 = c51 = Vector512<float>.Zero;
        else
        {
            float* i0 = init, i1 = init + Row(1, rows) * ldi, i2 = init + Row(2, rows) * ldi;
            float* i3 = init + Row(3, rows) * ldi, i4 = init + Row(4, rows) * ldi, i5 = init + Row(5, rows) * ldi;
            c00 = Avx512F.LoadVector512(i0); c01 = Avx512F.LoadVector512(i0 + 16);
            c10 = Avx512F.LoadVector512(i1); c11 = Avx512F.LoadVector512(i1 + 16);
            c20 = Avx512F.LoadVector512(i2); c21 = Avx512F.LoadVector512(i2 + 16);
            c30 = Avx512F.LoadVector512(i3); c31 = Avx512F.LoadVector512(i3 + 16);
            c40 = Avx512F.LoadVector512(i4); c41 = Avx512F.LoadVector512(i4 + 16);
            c50 = Avx512F.LoadVector512(i5); c51 = Avx512F.LoadVector512(i5 + 16);
        }
        float* a0 = a, a1 = a + Row(1, rows) * rs, a2 = a + Row(2, rows) * rs;
        float* a3 = a + Row(3, rows) * rs, a4 = a + Row(4, rows) * rs, a5 = a + Row(5, rows) * rs;
        for (int q = 0; q < kc; q++)
        {
            int p = q * cs;
            Vector512<float> b0 = Avx512F.LoadVector512(b), b1 = Avx512F.LoadVector512(b + 16);
            b += ldb;
            Vector512<float> av = Vector512.Create(a0[p]);
            c00 = Avx512F.FusedMultiplyAdd(av, b0, c00); c01 = Avx512F.FusedMultiplyAdd(av, b1, c01);
            av = Vector512.Create(a1[p]);
            c10 = Avx512F.FusedMultiplyAdd(av, b0, c10); c11 = Avx512F.FusedMultiplyAdd(av, b1, c11);
            av = Vector512.Create(a2[p]);
            c20 = Avx512F.FusedMultiplyAdd(av, b0, c20); c21 = Avx512F.FusedMultiplyAdd(av, b1, c21);
            av = Vector512.Create(a3[p]);
            c30 = Avx512F.FusedMultiplyAdd(av, b0, c30); c31 = Avx512F.FusedMultiplyAdd(av, b1, c31);
            av = Vector512.Create(a4[p]);
            c40 = Avx512F.FusedMultiplyAdd(av, b0, c40); c41 = Avx512F.FusedMultiplyAdd(av, b1, c41);
            av = Vector512.Create(a5[p]);
            c50 = Avx512F.FusedMultiplyAdd(av, b0, c50); c51 = Avx512F.FusedMultiplyAdd(av, b1, c51);
        }
        Store(c, c00, c01, relu); c += ldc;
        if (rows > 1) Store(c, c10, c11, relu); c += ldc;
        if (rows > 2) Store(c, c20, c21, relu); c += ldc;
        if (rows > 3) Store(c, c30, c31, relu); c += ldc;
        if (rows > 4) Store(c, c40, c41, relu); c += ldc;
        if (rows > 5) Store(c, c50, c51, relu);
    }

    /// <summary>8 rows x 16 columns, one Vector512 per row (AVX-512F): the narrow panels (16 filters, the last 16 columns),
    /// where 6x32 would compute half zeros; eight independent accumulators cover the FMA latency. With w &lt; 16 only the
    /// first w columns of C are read and written (masked loads and stores), so narrow outputs need no staging tile.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void K8x16(float* a, int rs, int cs, int rows, float* b, int ldb, int kc, float* init, int ldi, float* c, int ldc, bool relu, int w)
    {
        var mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(w)).AsSingle();
        bool partial = w < 16;
        Vector512<float> c0, c1, c2, c3, c4, c5, c6, c7;
        if (init is null) c0 = c1 = c2 = c3 = c4 = c5 = c6 = c7 = Vector512<float>.Zero;
        else
        {
            c0 = Load(init, mask, partial);
            c1 = Load(init + Row(1, rows) * ldi, mask, partial);
            c2 = Load(init + Row(2, rows) * ldi, mask, partial);
            c3 = Load(init + Row(3, rows) * ldi, mask, partial);
            c4 = Load(init + Row(4, rows) * ldi, mask, partial);
            c5 = Load(init + Row(5, rows) * ldi, mask, partial);
            c6 = Load(init + Row(6, rows) * ldi, mask, partial);
            c7 = Load(init + Row(7, rows) * ldi, mask, partial);
        }
        float* a0 = a, a1 = a + Row(1, rows) * rs, a2 = a + Row(2, rows) * rs, a3 = a + Row(3, rows) * rs;
        float* a4 = a + Row(4, rows) * rs, a5 = a + Row(5, rows) * rs, a6 = a + Row(6, rows) * rs, a7 = a + Row(7, rows) * rs;
        for (int q = 0; q < kc; q++)
        {
            int p = q * cs;
            Vector512<float> b0 = Avx512F.LoadVector512(b);
            b += ldb;
            c0 = Avx512F.FusedMultiplyAdd(Vector512.Create(a0[p]), b0, c0);
            c1 = Avx512F.FusedMultiplyAdd(Vector512.Create(a1[p]), b0, c1);
            c2 = Avx512F.FusedMultiplyAdd(Vector512.Create(a2[p]), b0, c2);
            c3 = Avx512F.FusedMultiplyAdd(Vector512.Create(a3[p]), b0, c3);
            c4 = Avx512F.FusedMultiplyAdd(Vector512.Create(a4[p]), b0, c4);
            c5 = Avx512F.FusedMultiplyAdd(Vector512.Create(a5[p]), b0, c5);
            c6 = Avx512F.FusedMultiplyAdd(Vector512.Create(a6[p]), b0, c6);
            c7 = Avx512F.FusedMultiplyAdd(Vector512.Create(a7[p]), b0, c7);
        }
        Store(c, c0, relu, mask, partial); c += ldc;
        if (rows > 1) Store(c, c1, relu, mask, partial); c += ldc;
        if (rows > 2) Store(c, c2, relu, mask, partial); c += ldc;
        if (rows > 3) Store(c, c3, relu, mask, partial); c += ldc;
        if (rows > 4) Store(c, c4, relu, mask, partial); c += ldc;
        if (rows > 5) Store(c, c5, relu, mask, partial); c += ldc;
        if (rows > 6) Store(c, c6, relu, mask, partial); c += ldc;
        if (rows > 7) Store(c, c7, relu, mask, partial);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Load(float* p, Vector512<float> mask, bool partial) =>
        partial ? Avx512F.MaskLoad(p, mask, Vector512<float>.Zero) : Avx512F.LoadVector512(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* c, Vector512<float> v, bool relu, Vector512<float> mask, bool partial)
    {
        if (relu) v = Avx512F.Max(v, Vector512<float>.Zero);
        if (partial) Avx512F.MaskStore(c, mask, v);
        else Avx512F.Store(c, v);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Row(int r, int rows) => r < rows ? r : rows - 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* c, Vector256<float> v0, Vector256<float> v1, bool relu)
    {
        if (relu)
        {
            v0 = Avx.Max(v0, Vector256<float>.Zero);
            v1 = Avx.Max(v1, Vector256<float>.Zero);
        }
        Avx.Store(c, v0);
        Avx.Store(c + 8, v1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* c, Vector512<float> v0, Vector512<float> v1, bool relu)
    {
        if (relu)
        {
            v0 = Avx512F.Max(v0, Vector512<float>.Zero);
            v1 = Avx512F.Max(v1, Vector512<float>.Zero);
        }
        Avx512F.Store(c, v0);
        Avx512F.Store(c + 16, v1);
    }

}
