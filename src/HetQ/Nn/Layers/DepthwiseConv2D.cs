using System.Text.Json;
using HetQ.Numerics;

namespace HetQ.Nn.Layers;

/// <summary>Depthwise 2D convolution, kernel [KH, KW, C, M] (Keras layout); output channel c·M + m
/// sees only input channel c. Direct loops: the layers it serves are small.</summary>
public sealed class DepthwiseConv2D : UnaryLayer
{
    public int[] KernelSize { get; }
    public int[] Strides { get; }
    public Padding Padding { get; }
    public int DepthMultiplier { get; }
    public bool UseBias { get; }
    public Activation Activation { get; }
    public string KernelInitializer { get; }
    public Regularizer? KernelRegularizer { get; }
    public Parameter Kernel { get; private set; } = null!;
    public Parameter? Bias { get; private set; }
    internal Window Geometry { get; private set; } = null!;
    private (int Pixel, int Tap)[][] _taps = [];

    private Tensor? _y, _gradPre, _gradIn;

    public DepthwiseConv2D(int[] kernelSize, int[] strides, Padding padding, int depthMultiplier = 1, Activation activation = default,
        bool useBias = true, string kernelInitializer = "glorot_uniform", Regularizer? kernelRegularizer = null)
    {
        if (depthMultiplier <= 0) throw new HetQException($"depthwise_conv2d: depth_multiplier must be positive, given {depthMultiplier}");
        KernelSize = kernelSize;
        Strides = strides;
        Padding = padding;
        DepthMultiplier = depthMultiplier;
        Activation = activation;
        UseBias = useBias;
        KernelInitializer = kernelInitializer;
        KernelRegularizer = kernelRegularizer;
    }

    public override string Type => "depthwise_conv2d";
    public override IReadOnlyList<Parameter> Parameters => Bias is null ? new[] { Kernel } : new[] { Kernel, Bias };
    private int C => InputShapes[0][^1];
    private int OutC => C * DepthMultiplier;

    protected override int[] Build(int[] s, Random rng)
    {
        if (s.Length != 3) throw ShapeError("expects a sample shape [height, width, channels]");
        Geometry = Window.Create(s[0], s[1], s[2], KernelSize[0], KernelSize[1], Strides[0], Strides[1], Padding, Name);
        _taps = Geometry.TapTable();
        var kshape = new[] { KernelSize[0], KernelSize[1], s[2], DepthMultiplier };
        Kernel = new Parameter($"{Name}/kernel", kshape) { Regularizer = KernelRegularizer };
        Initializers.Fill(KernelInitializer, Kernel.Value, kshape, rng);
        if (UseBias) Bias = new Parameter($"{Name}/bias", new[] { s[2] * DepthMultiplier });
        return new[] { Geometry.OutH, Geometry.OutW, s[2] * DepthMultiplier };
    }

    protected override Tensor Forward(Tensor x, ForwardContext ctx)
    {
        int n = x.Shape[0];
        var g = Geometry;
        int c = C, m = DepthMultiplier, oc = OutC;
        var y = Ensure(ref _y, n, OutputShape);
        float[] k = Kernel.Effective, xd = x.Data, yd = y.Data;
        int pixels = g.InH * g.InW;
        for (int b = 0; b < n; b++)
            for (int p = 0; p < _taps.Length; p++)
            {
                int yo = (b * _taps.Length + p) * oc;
                for (int j = 0; j < oc; j++) yd[yo + j] = Bias is null ? 0f : Bias.Effective[j];
                foreach (var (pixel, tap) in _taps[p])
                {
                    int xo = (b * pixels + pixel) * c, ko = tap * oc;
                    for (int ci = 0; ci < c; ci++)
                        for (int mi = 0; mi < m; mi++)
                            yd[yo + ci * m + mi] += xd[xo + ci] * k[ko + ci * m + mi];
                }
            }
        Activation.Apply(yd, oc);
        return y;
    }

    protected override Tensor BackwardUnary(Tensor gradOutput)
    {
        var x = Input!;
        int n = x.Shape[0];
        var g = Geometry;
        int c = C, m = DepthMultiplier, oc = OutC;
        Tensor gy = gradOutput;
        if (Activation.Kind != ActivationKind.Linear)
        {
            gy = Ensure(ref _gradPre, n, OutputShape);
            Activation.Backward(_y!.Data, gradOutput.Data, gy.Data, oc);
        }
        var gx = Ensure(ref _gradIn, n, InputShapes[0]);
        Array.Clear(gx.Data);
        float[] k = Kernel.Effective, kg = Kernel.Grad, xd = x.Data, gyd = gy.Data, gxd = gx.Data;
        int pixels = g.InH * g.InW;
        for (int b = 0; b < n; b++)
            for (int p = 0; p < _taps.Length; p++)
            {
                int yo = (b * _taps.Length + p) * oc;
                if (Bias is not null) for (int j = 0; j < oc; j++) Bias.Grad[j] += gyd[yo + j];
                foreach (var (pixel, tap) in _taps[p])
                {
                    int xo = (b * pixels + pixel) * c, ko = tap * oc;
                    for (int ci = 0; ci < c; ci++)
                        for (int mi = 0; mi < m; mi++)
                        {
                            float gv = gyd[yo + ci * m + mi];
                            kg[ko + ci * m + mi] += xd[xo + ci] * gv;
                            gxd[xo + ci] += k[ko + ci * m + mi] * gv;
                        }
                }
            }
        return gx;
    }

    public override Layer CloneForWorker()
    {
        var c = CopyBuildTo(new DepthwiseConv2D(KernelSize, Strides, Padding, DepthMultiplier, Activation, UseBias, KernelInitializer, KernelRegularizer));
        c.Geometry = Geometry;
        c._taps = _taps;
        c.Kernel = Kernel.ShareForWorker();
        c.Bias = Bias?.ShareForWorker();
        return c;
    }

    public override void WriteConfig(Utf8JsonWriter w)
    {
        LayerConfig.WriteInts(w, "kernel_size", KernelSize);
        LayerConfig.WriteInts(w, "strides", Strides);
        w.WriteString("padding", LayerConfig.PaddingName(Padding));
        w.WriteNumber("depth_multiplier", DepthMultiplier);
        LayerConfig.WriteActivation(w, Activation);
        w.WriteBoolean("use_bias", UseBias);
        w.WriteString("kernel_initializer", KernelInitializer);
        LayerConfig.WriteRegularizer(w, KernelRegularizer);
    }
}
