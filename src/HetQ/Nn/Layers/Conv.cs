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
    private (int Pixel, int Tap)[][] _taps = [];
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
        _taps = Geometry.TapTable();
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
        Im2Col(x.Data, n, InChannels, g, _taps, _cols);
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
        Col2Im(_gradCols, n, InChannels, g, _taps, gx.Data);
        return gx;
    }

    /// <summary>One row per sample and output position: the patch of every kernel tap (taps in the padding are zero),
    /// from the window's tap table.</summary>
    internal static void Im2Col(ReadOnlySpan<float> x, int n, int c, Window g, (int Pixel, int Tap)[][] taps, Span<float> cols)
    {
        int patch = g.TapCount * c, pixels = g.InH * g.InW;
        for (int b = 0, row = 0; b < n; b++)
            for (int p = 0; p < taps.Length; p++, row++)
            {
                var dst = cols.Slice(row * patch, patch);
                if (taps[p].Length < g.TapCount) dst.Clear();
                foreach (var (pixel, tap) in taps[p]) x.Slice((b * pixels + pixel) * c, c).CopyTo(dst.Slice(tap * c, c));
            }
    }

    /// <summary>The adjoint of <see cref="Im2Col"/>: each patch added back to the input positions it was read from.</summary>
    internal static void Col2Im(ReadOnlySpan<float> cols, int n, int c, Window g, (int Pixel, int Tap)[][] taps, Span<float> x)
    {
        int patch = g.TapCount * c, pixels = g.InH * g.InW;
        for (int b = 0, row = 0; b < n; b++)
            for (int p = 0; p < taps.Length; p++, row++)
            {
                var src = cols.Slice(row * patch, patch);
                foreach (var (pixel, tap) in taps[p])
                {
                    var d = x.Slice((b * pixels + pixel) * c, c);
                    TensorPrimitives.Add(d, src.Slice(tap * c, c), d);
                }
            }
    }

    public override Layer CloneForWorker()
    {
        var c = CopyBuildTo(new Conv(Rank, Filters, KernelSize, Strides, Padding, Activation, UseBias, KernelInitializer, KernelRegularizer) { NeedsInputGradient = NeedsInputGradient });
        c.Geometry = Geometry;
        c._taps = _taps;
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
