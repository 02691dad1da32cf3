using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using System.Text.Json;
using HetQ.Numerics;

namespace HetQ.Nn.Layers;

/// <summary>Fully connected layer on the last axis: y = f(x·W + b), kernel [in, units] (Keras layout),
/// with the activation f fused into the output pass.</summary>
public sealed class Dense : UnaryLayer
{
    public int Units { get; }
    public bool UseBias { get; }
    public Activation Activation { get; }
    public string KernelInitializer { get; }
    public Regularizer? KernelRegularizer { get; }
    public Parameter Kernel { get; private set; } = null!;
    public Parameter? Bias { get; private set; }

    /// <summary>False when the input is the model's input: the input gradient is then not computed.</summary>
    public bool NeedsInputGradient { get; set; } = true;

    private Tensor? _y, _gradPre, _gradIn;

    public Dense(int units, Activation activation = default, bool useBias = true, string kernelInitializer = "glorot_uniform", Regularizer? kernelRegularizer = null)
    {
        if (units <= 0) throw new HetQException($"dense: units must be positive, given {units}");
        Units = units;
        Activation = activation;
        UseBias = useBias;
        KernelInitializer = kernelInitializer;
        KernelRegularizer = kernelRegularizer;
    }

    public override string Type => "dense";
    public override IReadOnlyList<Parameter> Parameters => Bias is null ? new[] { Kernel } : new[] { Kernel, Bias };
    private int InFeatures => InputShapes[0][^1];

    protected override int[] Build(int[] inputShape, Random rng)
    {
        if (inputShape.Length == 0) throw ShapeError("needs at least one input dimension");
        Kernel = new Parameter($"{Name}/kernel", new[] { inputShape[^1], Units }) { Regularizer = KernelRegularizer };
        Initializers.Fill(KernelInitializer, Kernel.Value, Kernel.Shape, rng);
        if (UseBias) Bias = new Parameter($"{Name}/bias", new[] { Units });
        var outShape = (int[])inputShape.Clone();
        outShape[^1] = Units;
        return outShape;
    }

    protected override Tensor Forward(Tensor x, ForwardContext ctx)
    {
        var y = Ensure(ref _y, x.Shape[0], OutputShape);
        int rows = x.Length / InFeatures;
        if (Activation.Kind is ActivationKind.Linear or ActivationKind.Relu)
        {
            Gemm.MultiplyBiasRelu(x.Data, Kernel.Effective, Bias is null ? default : Bias.Effective, Activation.Kind == ActivationKind.Relu,
                y.Data, rows, Units, InFeatures);
            return y;
        }
        Gemm.Multiply(x.Data, InFeatures, Kernel.Effective, Units, y.Data, Units, rows, Units, InFeatures);
        Epilogue(y.Data, rows);
        return y;
    }

    private void Epilogue(float[] y, int rows)
    {
        if (Bias is not null)
        {
            ReadOnlySpan<float> b = Bias.Effective;
            for (int r = 0; r < rows; r++)
            {
                var row = y.AsSpan(r * Units, Units);
                TensorPrimitives.Add(row, b, row);
            }
        }
        Activation.Apply(y.AsSpan(0, rows * Units), Units);
    }

    protected override Tensor BackwardUnary(Tensor gradOutput)
    {
        var x = Input!;
        int rows = x.Length / InFeatures;
        Tensor g = gradOutput;
        bool biasDone = false;
        if (Activation.Kind == ActivationKind.Relu && Bias is not null)
        {
            g = Ensure(ref _gradPre, gradOutput.Shape[0], OutputShape);
            ReluMaskColumnSums(_y!.Data, gradOutput.Data, g.Data, rows, Units, Bias.Grad);
            biasDone = true;
        }
        else if (Activation.Kind != ActivationKind.Linear)
        {
            g = Ensure(ref _gradPre, gradOutput.Shape[0], OutputShape);
            Activation.Backward(_y!.Data, gradOutput.Data, g.Data, Units);
        }
        Gemm.MultiplyTransA(x.Data, g.Data, Kernel.Grad, InFeatures, Units, rows, accumulate: true);
        if (Bias is not null && !biasDone) ColumnSums(g.Data, rows, Units, Bias.Grad);
        if (!NeedsInputGradient) return null!;
        var gx = Ensure(ref _gradIn, x.Shape[0], InputShapes[0]);
        Gemm.MultiplyTransB(g.Data, Kernel.Effective, gx.Data, rows, InFeatures, Units);
        return gx;
    }

    /// <summary>g = gy where y &gt; 0 else 0 (the ReLU backward) and acc[j] += Σ_r g[r, j] in one pass over the rows: the same
    /// sums as <see cref="ColumnSums"/> in the same order (each vector lane adds rows in turn onto acc; the columns past the
    /// last 8-column strip sum from zero, then add to acc), so the bias gradient keeps its bits.</summary>
    internal static void ReluMaskColumnSums(ReadOnlySpan<float> y, ReadOnlySpan<float> gy, Span<float> g, int rows, int cols, Span<float> acc)
    {
        int strips = System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated ? cols / 8 * 8 : 0;
        Span<float> sums = cols <= 1024 ? stackalloc float[cols] : new float[cols];
        acc.Slice(0, strips).CopyTo(sums);
        sums.Slice(strips).Clear();
        for (int r = 0; r < rows; r++)
        {
            int o = r * cols, j = 0;
            if (System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated)
                for (; j + 16 <= strips; j += 16)
                {
                    var yv = Vector512.Create(y.Slice(o + j, 16));
                    var v = Vector512.Create(gy.Slice(o + j, 16)) & Vector512.GreaterThan(yv, Vector512<float>.Zero);
                    v.CopyTo(g.Slice(o + j, 16));
                    (Vector512.Create(sums.Slice(j, 16)) + v).CopyTo(sums.Slice(j, 16));
                }
            for (; j + 8 <= strips; j += 8)
            {
                var yv = Vector256.Create(y.Slice(o + j, 8));
                var v = Vector256.Create(gy.Slice(o + j, 8)) & Vector256.GreaterThan(yv, Vector256<float>.Zero);
                v.CopyTo(g.Slice(o + j, 8));
                (Vector256.Create(sums.Slice(j, 8)) + v).CopyTo(sums.Slice(j, 8));
            }
            for (; j < cols; j++)
            {
                float v = y[o + j] > 0 ? gy[o + j] : 0f;
                g[o + j] = v;
                sums[j] += v;
            }
        }
        sums.Slice(0, strips).CopyTo(acc);
        for (int j = strips; j < cols; j++) acc[j] += sums[j];
    }

    /// <summary>acc[j] += Σ_r m[r, j]: vectorised over 8-column strips.</summary>
    internal static void ColumnSums(ReadOnlySpan<float> m, int rows, int cols, Span<float> acc)
    {
        int j = 0;
        if (System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated)
            for (; j + 8 <= cols; j += 8)
            {
                var s = System.Runtime.Intrinsics.Vector256.Create(acc.Slice(j, 8));
                for (int r = 0; r < rows; r++) s += System.Runtime.Intrinsics.Vector256.Create(m.Slice(r * cols + j, 8));
                s.CopyTo(acc.Slice(j, 8));
            }
        for (; j < cols; j++)
        {
            float s = 0;
            for (int r = 0; r < rows; r++) s += m[r * cols + j];
            acc[j] += s;
        }
    }

    public override Layer CloneForWorker()
    {
        var c = CopyBuildTo(new Dense(Units, Activation, UseBias, KernelInitializer, KernelRegularizer) { NeedsInputGradient = NeedsInputGradient });
        c.Kernel = Kernel.ShareForWorker();
        c.Bias = Bias?.ShareForWorker();
        return c;
    }

    public override void WriteConfig(Utf8JsonWriter w)
    {
        w.WriteNumber("units", Units);
        LayerConfig.WriteActivation(w, Activation);
        w.WriteBoolean("use_bias", UseBias);
        w.WriteString("kernel_initializer", KernelInitializer);
        LayerConfig.WriteRegularizer(w, KernelRegularizer);
    }
}
