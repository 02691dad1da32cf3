using System.Numerics.Tensors;
using System.Text.Json;
using HetQ.Numerics;

namespace HetQ.Nn.Layers;

/// <summary>Conv1D (input [L, C], kernel [K, Cin, F]) and Conv2D (input [H, W, C], kernel
/// [KH, KW, Cin, F]), channels last as Keras, computed as im2col followed by one GEMM.</summary>
public sealed class Conv : UnaryLayer
{
    public int Rank { get; }
    public int Filters { get; }
    public int[] KernelSize { get; }
    public int[] Strides { get; }
    public Padding Padding { get; }
    public bool UseBias { get; }
    public Activation Activation { get; }
    public string KernelInitializer { get; }
    public Regularizer? KernelRegularizer { get; }
    public Parameter Kernel { get; private set; } = null!;
    public Parameter? Bias { get; private set; }
    public bool NeedsInputGradient { get; set; } = true;
    internal Window Geometry { get; private set; } = null!;

    private float[]? _cols, _gradCols;
    private Tensor? _y, _gradPre, _gradIn;

    public Conv(int rank, int filters, int[] kernelSize, int[] strides, Padding padding, Activation activation = default,
        bool useBias = true, string kernelInitializer = "glorot_uniform", Regularizer? kernelRegularizer = null)
    {
        if (rank is not (1 or 2)) throw new ArgumentOutOfRangeException(nameof(rank));
        if (filters <= 0) throw new HetQException($"conv{rank}d: filters must be positive, given {filters}");
        Rank = rank;
        Filters = filters;
        KernelSize = kernelSize;
        Strides = strides;
        Padding = padding;
        Activation = activation;
        UseBias = useBias;
        KernelInitializer = kernelInitializer;
        KernelRegularizer = kernelRegularizer;
    }

    public override string Type => Rank == 1 ? "conv1d" : "conv2d";
    public override IReadOnlyList<Parameter> Parameters => Bias is null ? new[] { Kernel } : new[] { Kernel, Bias };
    private int InChannels => InputShapes[0][^1];
    private int PatchSize => Geometry.KH * Geometry.KW * InChannels;

    protected override int[] Build(int[] s, Random rng)
    {
        if (s.Length != Rank + 1) throw ShapeError($"expects a rank-{Rank + 1} sample shape ({(Rank == 1 ? "length, channels" : "height, width, channels")})");
        Geometry = Rank == 1
            ? Window.Create(1, s[0], s[^1], 1, KernelSize[0], 1, Strides[0], Padding, Name)
            : Window.Create(s[0], s[1], s[^1], KernelSize[0], KernelSize[1], Strides[0], Strides[1], Padding, Name);
        int[] kshape = Rank == 1 ? new[] { KernelSize[0], s[^1], Filters } : new[] { KernelSize[0], KernelSize[1], s[^1], Filters };
        Kernel = new Parameter($"{Name}/kernel", kshape) { Regularizer = KernelRegularizer };
        Initializers.Fill(KernelInitializer, Kernel.Value, kshape, rng);
        if (UseBias) Bias = new Parameter($"{Name}/bias", new[] { Filters });
        return Rank == 1 ? new[] { Geometry.OutW, Filters } : new[] { Geometry.OutH, Geometry.OutW, Filters };
    }

    protected override Tensor Forward(Tensor x, ForwardContext ctx)
    {
        int n = x.Shape[0];
        var g = Geometry;
        int rows = n * g.OutH * g.OutW;
        int need = rows * PatchSize;
        if (_cols is null || _cols.Length != need) _cols = new float[need];
        Im2Col(x.Data, n, InChannels, g, _cols);
        var y = Ensure(ref _y, n, OutputShape);
        bool fused = Activation.Kind is ActivationKind.Linear or ActivationKind.Relu;
        Gemm.MultiplyBiasRelu(_cols, Kernel.Effective, Bias is null ? default : Bias.Effective, fused && Activation.Kind == ActivationKind.Relu,
            y.Data, rows, Filters, PatchSize);
        if (!fused) Activation.Apply(y.Data, Filters);
        return y;
    }

    protected override Tensor BackwardUnary(Tensor gradOutput)
    {
        int n = gradOutput.Shape[0];
        var g = Geometry;
        int rows = n * g.OutH * g.OutW;
        Tensor gy = gradOutput;
        if (Activation.Kind != ActivationKind.Linear)
        {
            gy = Ensure(ref _gradPre, n, OutputShape);
            Activation.Backward(_y!.Data, gradOutput.Data, gy.Data, Filters);
        }
        Gemm.MultiplyTransA(_cols!, gy.Data, Kernel.Grad, PatchSize, Filters, rows, accumulate: true);
        if (Bias is not null) Dense.ColumnSums(gy.Data, rows, Filters, Bias.Grad);
        if (!NeedsInputGradient) return null!;
        if (_gradCols is null || _gradCols.Length != _cols!.Length) _gradCols = new float[_cols!.Length];
        Gemm.MultiplyTransB(gy.Data, Kernel.Effective, _gradCols, rows, PatchSize, Filters);
        var gx = Ensure(ref _gradIn, n, InputShapes[0]);
        Array.Clear(gx.Data);
        Col2Im(_gradCols, n, InChannels, g, gx.Data);
        return gx;
    }

    /// <summary>cols[row, (ky, kx, c)] = x[b, iy, ix, c] (zero outside the input): one copy per kernel row where the
    /// window lies inside the input (KW·C contiguous floats), element-wise at the borders.</summary>
    internal static unsafe void Im2Col(ReadOnlySpan<float> x, int n, int c, Window g, Span<float> cols)
    {
        int patch = g.KH * g.KW * c, run = g.KW * c;
        if (cols.Length < (long)n * g.OutH * g.OutW * patch || x.Length < (long)n * g.InH * g.InW * c)
            throw new ArgumentException("im2col: buffers too short for the geometry");
        fixed (float* px = x, pcols = cols)
        {
            float* dst = pcols;
            for (int b = 0; b < n; b++)
                for (int oy = 0; oy < g.OutH; oy++)
                    for (int ox = 0; ox < g.OutW; ox++, dst += patch)
                    {
                        int ix0 = ox * g.SW - g.PadLeft;
                        bool inside = ix0 >= 0 && ix0 + g.KW <= g.InW;
                        for (int ky = 0; ky < g.KH; ky++)
                        {
                            int iy = oy * g.SH + ky - g.PadTop;
                            float* d = dst + ky * run;
                            if (iy < 0 || iy >= g.InH) new Span<float>(d, run).Clear();
                            else if (inside) Copy(px + ((long)(b * g.InH + iy) * g.InW + ix0) * c, d, run);
                            else
                                for (int kx = 0; kx < g.KW; kx++)
                                {
                                    int ix = ix0 + kx;
                                    if (ix < 0 || ix >= g.InW) new Span<float>(d + kx * c, c).Clear();
                                    else Copy(px + ((long)(b * g.InH + iy) * g.InW + ix) * c, d + kx * c, c);
                                }
                        }
                    }
        }
    }

    /// <summary>A short copy (a kernel row of one or a few channels) without the call overhead of a span copy.</summary>
    private static unsafe void Copy(float* src, float* dst, int count)
    {
        if (count > 16)
        {
            Buffer.MemoryCopy(src, dst, count * sizeof(float), count * sizeof(float));
            return;
        }
        for (int i = 0; i < count; i++) dst[i] = src[i];
    }

    /// <summary>The adjoint of <see cref="Im2Col"/>: x[b, iy, ix, c] += cols[row, (ky, kx, c)], in the same fixed order.</summary>
    internal static void Col2Im(ReadOnlySpan<float> cols, int n, int c, Window g, Span<float> x)
    {
        int patch = g.KH * g.KW * c, run = g.KW * c;
        int row = 0;
        for (int b = 0; b < n; b++)
            for (int oy = 0; oy < g.OutH; oy++)
                for (int ox = 0; ox < g.OutW; ox++, row++)
                {
                    var src = cols.Slice(row * patch, patch);
                    int ix0 = ox * g.SW - g.PadLeft;
                    bool inside = ix0 >= 0 && ix0 + g.KW <= g.InW;
                    for (int ky = 0; ky < g.KH; ky++)
                    {
                        int iy = oy * g.SH + ky - g.PadTop;
                        if (iy < 0 || iy >= g.InH) continue;
                        var s = src.Slice(ky * run, run);
                        if (inside)
                        {
                            var d = x.Slice(((b * g.InH + iy) * g.InW + ix0) * c, run);
                            TensorPrimitives.Add(d, s, d);
                            continue;
                        }
                        for (int kx = 0; kx < g.KW; kx++)
                        {
                            int ix = ix0 + kx;
                            if (ix < 0 || ix >= g.InW) continue;
                            var d = x.Slice(((b * g.InH + iy) * g.InW + ix) * c, c);
                            TensorPrimitives.Add(d, s.Slice(kx * c, c), d);
                        }
                    }
                }
    }

    public override Layer CloneForWorker()
    {
        var c = CopyBuildTo(new Conv(Rank, Filters, KernelSize, Strides, Padding, Activation, UseBias, KernelInitializer, KernelRegularizer) { NeedsInputGradient = NeedsInputGradient });
        c.Geometry = Geometry;
        c.Kernel = Kernel.ShareForWorker();
        c.Bias = Bias?.ShareForWorker();
        return c;
    }

    public override void WriteConfig(Utf8JsonWriter w)
    {
        w.WriteNumber("filters", Filters);
        LayerConfig.WriteInts(w, "kernel_size", KernelSize);
        LayerConfig.WriteInts(w, "strides", Strides);
        w.WriteString("padding", LayerConfig.PaddingName(Padding));
        LayerConfig.WriteActivation(w, Activation);
        w.WriteBoolean("use_bias", UseBias);
        w.WriteString("kernel_initializer", KernelInitializer);
        LayerConfig.WriteRegularizer(w, KernelRegularizer);
    }
}
