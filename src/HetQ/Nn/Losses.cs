using HetQ.Numerics;

namespace HetQ.Nn;

/// <summary>A training loss over model outputs [n, K] and class labels. <see cref="Compute"/> returns the
/// summed per-sample loss and writes dLoss/dOutput multiplied by <c>gradScale</c> (1 / batch size gives the mean).</summary>
public abstract class Loss
{
    public static readonly string[] Names = { "softmax_cross_entropy", "binary_cross_entropy", "mse" };

    public abstract string Name { get; }

    public abstract double Compute(Tensor output, ReadOnlySpan<int> labels, Span<float> grad, float gradScale);

    public static Loss Create(JsonSpec? s)
    {
        if (s is null) return new SoftmaxCrossEntropy(0);
        string type = s.String("type", "softmax_cross_entropy");
        Loss loss = type switch
        {
            "softmax_cross_entropy" or "categorical_crossentropy" or "cross_entropy" => new SoftmaxCrossEntropy(s.Double("label_smoothing", 0)),
            "binary_cross_entropy" or "binary_crossentropy" => new BinaryCrossEntropy(s.Bool("from_logits", false)),
            "mse" or "mean_squared_error" => new MeanSquaredError(),
            _ => throw s.Error("type", $"unknown loss '{type}' (known: {string.Join(", ", Names)})"),
        };
        s.RejectUnknown();
        return loss;
    }

    /// <summary>One-hot targets; with a single output the target is the label itself (0 or 1).</summary>
    protected static float[] OneHot(ReadOnlySpan<int> labels, int k)
    {
        var t = new float[labels.Length * k];
        for (int i = 0; i < labels.Length; i++)
        {
            if (k == 1) t[i] = labels[i];
            else t[i * k + labels[i]] = 1f;
        }
        return t;
    }
}

/// <summary>Softmax then cross-entropy on logits, with optional label smoothing (targets·(1−ε) + ε/K).</summary>
public sealed class SoftmaxCrossEntropy(double labelSmoothing) : Loss
{
    public double LabelSmoothing { get; } = labelSmoothing;
    public override string Name => "softmax_cross_entropy";

    public override double Compute(Tensor output, ReadOnlySpan<int> labels, Span<float> grad, float gradScale)
    {
        int n = labels.Length, k = output.RowSize;
        double total = 0;
        float ls = (float)LabelSmoothing;
        var z = output.Data.AsSpan(0, n * k);
        var g = grad.Slice(0, n * k);
        Span<float> logSum = n <= 4096 ? stackalloc float[n] : new float[n];
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
            float lse = MathF.Log(sum) + logSum[i], inv = 1f / sum;
            var zr = z.Slice(i * k, k);
            for (int j = 0; j < k; j++)
            {
                float t = (j == labels[i] ? 1f - ls : 0f) + ls / k;
                if (t != 0) total -= t * (double)(zr[j] - lse);
                gr[j] = (gr[j] * inv - t) * gradScale;
            }
        }
        return total;
    }
}

/// <summary>Binary cross-entropy averaged over the outputs, on probabilities (clipped to [1e-7, 1−1e-7]
/// as Keras does) or on logits.</summary>
public sealed class BinaryCrossEntropy(bool fromLogits) : Loss
{
    public bool FromLogits { get; } = fromLogits;
    public override string Name => "binary_cross_entropy";
    private const double Eps = 1e-7;

    public override double Compute(Tensor output, ReadOnlySpan<int> labels, Span<float> grad, float gradScale) =>
        ComputeTargets(output, OneHot(labels, output.RowSize), grad, gradScale);

    /// <summary>The same loss against explicit (soft) targets of the output's shape.</summary>
    public double ComputeTargets(Tensor output, ReadOnlySpan<float> targets, Span<float> grad, float gradScale)
    {
        int k = output.RowSize, n = output.Length / k;
        double total = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < k; j++)
            {
                int idx = i * k + j;
                double t = targets[idx], y = output.Data[idx];
                if (FromLogits)
                {
                    total += (Math.Max(y, 0) - y * t + Math.Log(1 + Math.Exp(-Math.Abs(y)))) / k;
                    grad[idx] = (float)((1 / (1 + Math.Exp(-y)) - t) / k * gradScale);
                }
                else
                {
                    double p = Math.Clamp(y, Eps, 1 - Eps);
                    total -= (t * Math.Log(p) + (1 - t) * Math.Log(1 - p)) / k;
                    grad[idx] = y <= Eps || y >= 1 - Eps ? 0f : (float)((p - t) / (p * (1 - p)) / k * gradScale);
                }
            }
        return total;
    }
}

/// <summary>Mean squared error against one-hot targets, averaged over the outputs.</summary>
public sealed class MeanSquaredError : Loss
{
    public override string Name => "mse";

    public override double Compute(Tensor output, ReadOnlySpan<int> labels, Span<float> grad, float gradScale) =>
        ComputeTargets(output, OneHot(labels, output.RowSize), grad, gradScale);

    /// <summary>The same loss against explicit targets of the output's shape.</summary>
    public double ComputeTargets(Tensor output, ReadOnlySpan<float> targets, Span<float> grad, float gradScale)
    {
        int k = output.RowSize, n = output.Length / k;
        double total = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < k; j++)
            {
                int idx = i * k + j;
                double d = output.Data[idx] - targets[idx];
                total += d * d / k;
                grad[idx] = (float)(2 * d / k * gradScale);
            }
        return total;
    }
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
