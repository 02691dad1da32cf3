using HetQ.Numerics;

namespace HetQ.Nn;

/// <summary>What a loss compares the outputs [n, K] with: class labels, and optionally real-valued targets [n, K]
/// (regression, an autoencoder's input) and per-sample weights [n] (empty: every sample weighs 1).</summary>
public readonly ref struct LossBatch
{
    public ReadOnlySpan<int> Labels { get; }
    public ReadOnlySpan<float> Targets { get; }
    public ReadOnlySpan<float> Weights { get; }

    public LossBatch(ReadOnlySpan<int> labels, ReadOnlySpan<float> targets = default, ReadOnlySpan<float> weights = default)
    {
        Labels = labels;
        Targets = targets;
        Weights = weights;
    }

    public float Weight(int i) => Weights.IsEmpty ? 1f : Weights[i];
}

/// <summary>A training loss over model outputs [n, K]. <see cref="Compute(Tensor, LossBatch, Span{float}, float)"/> returns the
/// summed (weighted) per-sample loss and writes dLoss/dOutput multiplied by <c>gradScale</c> (1 / batch size gives the mean).</summary>
public abstract class Loss
{
    public static readonly string[] Names = { "softmax_cross_entropy", "binary_cross_entropy", "mse", "mae", "huber" };

    public abstract string Name { get; }

    /// <summary>Whether the loss compares real-valued targets (regression, autoencoders) rather than classes.</summary>
    public virtual bool UsesTargets => false;

    public abstract double Compute(Tensor output, LossBatch batch, Span<float> grad, float gradScale);

    /// <summary>The loss against class labels, every sample of weight 1.</summary>
    public double Compute(Tensor output, ReadOnlySpan<int> labels, Span<float> grad, float gradScale) =>
        Compute(output, new LossBatch(labels), grad, gradScale);

    public static Loss Create(JsonSpec? s)
    {
        if (s is null) return new SoftmaxCrossEntropy(0);
        string type = s.String("type", "softmax_cross_entropy");
        Loss loss = type switch
        {
            "softmax_cross_entropy" or "categorical_crossentropy" or "cross_entropy" => new SoftmaxCrossEntropy(s.DoubleIn("label_smoothing", 0, 0, 1, hiOpen: true)),
            "binary_cross_entropy" or "binary_crossentropy" => new BinaryCrossEntropy(s.Bool("from_logits", false)),
            "mse" or "mean_squared_error" => new MeanSquaredError(),
            "mae" or "mean_absolute_error" => new MeanAbsoluteError(),
            "huber" => new Huber(Positive(s, "delta", 1.0)),
            _ => throw s.Error("type", $"unknown loss '{type}' (known: {string.Join(", ", Names)})"),
        };
        s.RejectUnknown();
        return loss;
    }

    private static double Positive(JsonSpec s, string key, double fallback)
    {
        double v = s.Double(key, fallback);
        return v > 0 ? v : throw s.Error(key, $"must be positive, given {v}");
    }

    /// <summary>The batch's real-valued targets, or one-hot targets from its labels (with a single output the
    /// target is the label itself, 0 or 1).</summary>
    protected static ReadOnlySpan<float> TargetsOf(LossBatch b, int n, int k)
    {
        if (!b.Targets.IsEmpty)
        {
            if (b.Targets.Length != n * k) throw new HetQException($"the loss got {b.Targets.Length / Math.Max(1, n)} targets per sample for {k} outputs");
            return b.Targets;
        }
        var t = new float[n * k];
        for (int i = 0; i < n; i++)
        {
            if (k == 1) t[i] = b.Labels[i];
            else t[i * k + b.Labels[i]] = 1f;
        }
        return t;
    }
}

/// <summary>Softmax then cross-entropy on logits, with optional label smoothing (targets·(1−ε) + ε/K). With
/// <see cref="SoftWeight"/> above 0 and soft targets in the batch (a teacher's probabilities: distillation), the target
/// is (1 − w)·(smoothed label) + w·(soft target).</summary>
public sealed class SoftmaxCrossEntropy(double labelSmoothing, double softWeight = 0) : Loss
{
    public double LabelSmoothing { get; } = labelSmoothing;

    /// <summary>The weight of the soft targets (distillation); 0 for labels only.</summary>
    public double SoftWeight { get; } = softWeight;
    public override string Name => "softmax_cross_entropy";

    public override double Compute(Tensor output, LossBatch batch, Span<float> grad, float gradScale)
    {
        var labels = batch.Labels;
        int n = labels.Length, k = output.RowSize;
        double total = 0;
        float ls = (float)LabelSmoothing;
        var z = output.Data.AsSpan(0, n * k);
        var g = grad.Slice(0, n * k);
        Span<float> logSum = n <= 4096 ? stackalloc float[n] : new float[n];
        float sw = (float)SoftWeight;
        bool distill = sw > 0 && !batch.Targets.IsEmpty;
        if (distill && batch.Targets.Length != n * k) throw new HetQException($"the loss got {batch.Targets.Length / Math.Max(1, n)} soft targets per sample for {k} outputs");
        // g = exp(z - rowmax) for the whole batch in one vectorised call, then per-row normalisation.
        for (int i = 0; i < n; i++)
        {
            var zr = z.Slice(i * k, k);
            float max = zr[0];
            for (int j = 1; j < k; j++) max = Math.Max(max, zr[j]);
            logSum[i] = max;
            for (int j = 0; j < k; j++) g[i * k + j] = zr[j] - max;
        }
        System.Numerics.Tensors.TensorPrimitives.Exp(g, g);
        for (int i = 0; i < n; i++)
        {
            var gr = g.Slice(i * k, k);
            float sum = 0;
            for (int j = 0; j < k; j++) sum += gr[j];
            float lse = MathF.Log(sum) + logSum[i], inv = 1f / sum, w = batch.Weight(i);
            var zr = z.Slice(i * k, k);
            var soft = distill ? batch.Targets.Slice(i * k, k) : default;
            for (int j = 0; j < k; j++)
            {
                float t = (j == labels[i] ? 1f - ls : 0f) + ls / k;
                if (distill) t = (1f - sw) * t + sw * soft[j];
                if (t != 0) total -= w * t * (double)(zr[j] - lse);
                gr[j] = (gr[j] * inv - t) * gradScale * w;
            }
        }
        return total;
    }
}

/// <summary>Binary cross-entropy averaged over the outputs, on probabilities (clipped to [1e-7, 1−1e-7]
/// as Keras does) or on logits; targets are the labels (0 or 1) or real-valued soft targets.</summary>
public sealed class BinaryCrossEntropy(bool fromLogits) : Loss
{
    public bool FromLogits { get; } = fromLogits;
    public override string Name => "binary_cross_entropy";
    private const double Eps = 1e-7;

    /// <summary>The same loss against explicit (soft) targets of the output's shape.</summary>
    public double ComputeTargets(Tensor output, ReadOnlySpan<float> targets, Span<float> grad, float gradScale) =>
        Compute(output, new LossBatch(default, targets), grad, gradScale);

    public override double Compute(Tensor output, LossBatch batch, Span<float> grad, float gradScale)
    {
        int k = output.RowSize, n = output.Length / k;
        var targets = TargetsOf(batch, n, k);
        double total = 0;
        for (int i = 0; i < n; i++)
        {
            double w = batch.Weight(i);
            for (int j = 0; j < k; j++)
            {
                int idx = i * k + j;
                double t = targets[idx], y = output.Data[idx];
                if (FromLogits)
                {
                    total += w * (Math.Max(y, 0) - y * t + Math.Log(1 + Math.Exp(-Math.Abs(y)))) / k;
                    grad[idx] = (float)(w * (1 / (1 + Math.Exp(-y)) - t) / k * gradScale);
                }
                else
                {
                    double p = Math.Clamp(y, Eps, 1 - Eps);
                    total -= w * (t * Math.Log(p) + (1 - t) * Math.Log(1 - p)) / k;
                    grad[idx] = y <= Eps || y >= 1 - Eps ? 0f : (float)(w * (p - t) / (p * (1 - p)) / k * gradScale);
                }
            }
        }
        return total;
    }
}

/// <summary>A loss that is the mean over the outputs of an element-wise function of output − target.</summary>
public abstract class ElementwiseLoss : Loss
{
    public override bool UsesTargets => true;

    /// <summary>The loss of one difference d = output − target and its derivative.</summary>
    protected abstract (double Value, double Derivative) Of(double d);

    /// <summary>The same loss against explicit targets of the output's shape.</summary>
    public double ComputeTargets(Tensor output, ReadOnlySpan<float> targets, Span<float> grad, float gradScale) =>
        Compute(output, new LossBatch(default, targets), grad, gradScale);

    public override double Compute(Tensor output, LossBatch batch, Span<float> grad, float gradScale)
    {
        int k = output.RowSize, n = output.Length / k;
        var targets = TargetsOf(batch, n, k);
        double total = 0;
        for (int i = 0; i < n; i++)
        {
            double w = batch.Weight(i);
            for (int j = 0; j < k; j++)
            {
                int idx = i * k + j;
                var (v, dv) = Of((double)output.Data[idx] - targets[idx]);
                total += w * v / k;
                grad[idx] = (float)(w * dv / k * gradScale);
            }
        }
        return total;
    }
}

/// <summary>Mean squared error against the targets (one-hot labels when the data set has none), averaged over the outputs.</summary>
public sealed class MeanSquaredError : ElementwiseLoss
{
    public override string Name => "mse";
    protected override (double, double) Of(double d) => (d * d, 2 * d);
}

/// <summary>Mean absolute error, averaged over the outputs; the derivative at 0 is 0 (PyTorch's sign).</summary>
public sealed class MeanAbsoluteError : ElementwiseLoss
{
    public override string Name => "mae";
    protected override (double, double) Of(double d) => (Math.Abs(d), Math.Sign(d));
}

/// <summary>Huber loss with threshold δ: d²/2 for |d| ≤ δ, δ·(|d| − δ/2) beyond (Keras's and PyTorch's huber_loss), averaged over the outputs.</summary>
public sealed class Huber(double delta) : ElementwiseLoss
{
    public double Delta { get; } = delta;
    public override string Name => "huber";

    protected override (double, double) Of(double d) =>
        Math.Abs(d) <= Delta ? (0.5 * d * d, d) : (Delta * (Math.Abs(d) - 0.5 * Delta), Delta * Math.Sign(d));
}

/// <summary>Classification metrics on model outputs. A one-output model is a binary classifier: class 1 when its
/// probability (a sigmoid's output) is above 0.5, or, on logits (the graph drops a final sigmoid), when the logit is
/// above 0; both are the same decision.</summary>
public static class Metrics
{
    /// <summary>The predicted class of one output row (a single output: above 0.5, or above 0 when
    /// <paramref name="logits"/>).</summary>
    public static int Predict(ReadOnlySpan<float> row, bool logits = false)
    {
        if (row.Length == 1) return row[0] > (logits ? 0f : 0.5f) ? 1 : 0;
        int best = 0;
        for (int j = 1; j < row.Length; j++) if (row[j] > row[best]) best = j;
        return best;
    }

    /// <summary><see cref="Predict(ReadOnlySpan{float}, bool)"/> on double outputs (the emulator's values).</summary>
    public static int Predict(ReadOnlySpan<double> row, bool logits = false)
    {
        if (row.Length == 1) return row[0] > (logits ? 0 : 0.5) ? 1 : 0;
        int best = 0;
        for (int j = 1; j < row.Length; j++) if (row[j] > row[best]) best = j;
        return best;
    }

    public static int CountCorrect(Tensor output, ReadOnlySpan<int> labels, bool logits = false)
    {
        int k = output.RowSize, correct = 0;
        for (int i = 0; i < labels.Length; i++) if (Predict(output.Data.AsSpan(i * k, k), logits) == labels[i]) correct++;
        return correct;
    }
}
