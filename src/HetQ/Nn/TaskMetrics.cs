using HetQ.Data;

namespace HetQ.Nn;

/// <summary>The metrics of a task on one data set; a metric that does not apply (or that the data cannot give, such as
/// an AUC without both classes) is null.</summary>
public sealed record TaskScores(int Samples, double? Accuracy, double? Auc, double? SignalEfficiency, double? Mse, double? Mae)
{
    public double? Value(QualityMetric m) => m switch
    {
        QualityMetric.Accuracy => Accuracy,
        QualityMetric.Auc => Auc,
        QualityMetric.SignalEfficiency => SignalEfficiency,
        QualityMetric.Mse => Mse,
        _ => Mae,
    };

    /// <summary>Every metric that has a value, by name (accuracy, auc, signal_efficiency, mse, mae).</summary>
    public IEnumerable<(string Name, double Value)> Present()
    {
        foreach (QualityMetric m in Enum.GetValues<QualityMetric>())
            if (Value(m) is double v) yield return (ModelTask.NameOf(m), v);
    }
}

/// <summary>Metrics triggers use, on model outputs: accuracy; ROC AUC and signal efficiency at a fixed background
/// rate for taggers and anomaly scores; MSE and MAE for regressions and reconstructions.</summary>
public static class TaskMetrics
{
    /// <summary>The metrics of <paramref name="task"/> for outputs [Count × k] of <paramref name="data"/>. An
    /// autoencoder's reference is <paramref name="reference"/> (default: the data's targets, i.e. its input); its
    /// anomaly score is the <see cref="ModelTask.Score"/> of output − reference, or <paramref name="scores"/> when given.</summary>
    public static TaskScores Measure(ModelTask task, ReadOnlySpan<double> outputs, int k, Dataset data,
        ReadOnlySpan<double> reference = default, ReadOnlySpan<double> scores = default)
    {
        int n = data.Count;
        if (outputs.Length != n * k) throw new ArgumentException($"{outputs.Length} outputs for {n} samples of {k}");
        switch (task.Kind)
        {
            case TaskKind.Classification:
            {
                int correct = 0;
                var row = new float[k];
                for (int i = 0; i < n; i++)
                {
                    for (int j = 0; j < k; j++) row[j] = (float)outputs[i * k + j];
                    if (Metrics.Predict(row) == data.Labels[i]) correct++;
                }
                return new TaskScores(n, (double)correct / Math.Max(1, n), null, null, null, null);
            }
            case TaskKind.Binary:
            {
                var s = new double[n];
                for (int i = 0; i < n; i++) s[i] = outputs[i * k];
                return Ranked(task, n, s, data.Labels, null, null);
            }
            default:
            {
                ReadOnlySpan<double> t = reference;
                double[]? own = null;
                if (t.IsEmpty)
                {
                    if (data.Targets is null) throw new HetQException($"{data.Name}: the task '{ModelTask.KindNames[(int)task.Kind]}' needs real-valued targets (data.targets or data.target_columns)");
                    own = data.Targets.Select(v => (double)v).ToArray();
                    t = own;
                }
                if (t.Length != outputs.Length)
                    throw new HetQException($"{data.Name}: {t.Length / Math.Max(1, n)} targets per sample for {k} model outputs");
                double se = 0, ae = 0;
                var per = new double[n];
                for (int i = 0; i < n; i++)
                {
                    double sq = 0, ab = 0;
                    for (int j = 0; j < k; j++)
                    {
                        double d = outputs[i * k + j] - t[i * k + j];
                        sq += d * d;
                        ab += Math.Abs(d);
                    }
                    se += sq;
                    ae += ab;
                    per[i] = task.Score == ScoreNorm.L2 ? sq : ab;
                }
                double mse = se / Math.Max(1, (long)n * k), mae = ae / Math.Max(1, (long)n * k);
                if (task.Kind == TaskKind.Regression) return new TaskScores(n, null, null, null, mse, mae);
                return Ranked(task, n, scores.IsEmpty ? per : scores.ToArray(), data.Labels, mse, mae);
            }
        }
    }

    private static TaskScores Ranked(ModelTask task, int n, double[] s, int[] labels, double? mse, double? mae)
    {
        bool both = labels.Contains(0) && labels.Contains(1);
        return new TaskScores(n, null, both ? RocAuc(s, labels) : null, both ? SignalEfficiency(s, labels, task.BackgroundRate) : null, mse, mae);
    }

    /// <summary>The area under the ROC curve of <paramref name="scores"/> (higher: more signal-like) for labels 1
    /// (signal, anomaly) against 0: the probability that a random signal scores above a random background, ties
    /// counting one half (the Mann-Whitney statistic, as scikit-learn's roc_auc_score).</summary>
    public static double RocAuc(ReadOnlySpan<double> scores, ReadOnlySpan<int> labels)
    {
        int n = scores.Length;
        var order = Enumerable.Range(0, n).ToArray();
        var s = scores.ToArray();
        Array.Sort(s.ToArray(), order);
        long pos = 0, neg = 0;
        double rankSum = 0;
        for (int i = 0; i < n;)
        {
            int j = i;
            while (j + 1 < n && s[order[j + 1]] == s[order[i]]) j++;
            double rank = (i + j) / 2.0 + 1; // mean rank of the tied block
            for (int m = i; m <= j; m++)
                if (labels[order[m]] == 1) { rankSum += rank; pos++; }
                else neg++;
            i = j + 1;
        }
        if (pos == 0 || neg == 0) throw new HetQException("ROC AUC needs samples of both classes");
        return (rankSum - pos * (pos + 1) / 2.0) / ((double)pos * neg);
    }

    /// <summary>The fraction of signal (label 1) scoring above the threshold at which at most
    /// <paramref name="backgroundRate"/> of the background (label 0) scores above it: the efficiency of a trigger
    /// whose fake rate is held at that rate.</summary>
    public static double SignalEfficiency(ReadOnlySpan<double> scores, ReadOnlySpan<int> labels, double backgroundRate)
    {
        var background = new List<double>();
        for (int i = 0; i < scores.Length; i++) if (labels[i] == 0) background.Add(scores[i]);
        if (background.Count == 0) throw new HetQException("signal efficiency needs background samples");
        background.Sort();
        // The threshold is the background score with floor(rate·B) background samples above it, so that a cut
        // "score > threshold" passes at most rate·B of them.
        int allowed = (int)Math.Floor(backgroundRate * background.Count);
        double threshold = background[background.Count - 1 - Math.Min(allowed, background.Count - 1)];
        long signal = 0, passed = 0;
        for (int i = 0; i < scores.Length; i++)
            if (labels[i] == 1)
            {
                signal++;
                if (scores[i] > threshold) passed++;
            }
        return signal == 0 ? 0 : (double)passed / signal;
    }

    /// <summary>Float outputs as doubles (for <see cref="Measure"/>).</summary>
    public static double[] Doubles(ReadOnlySpan<float> v)
    {
        var d = new double[v.Length];
        for (int i = 0; i < v.Length; i++) d[i] = v[i];
        return d;
    }
}
