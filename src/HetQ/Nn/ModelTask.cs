using System.Text.Json;

namespace HetQ.Nn;

/// <summary>What a model is for: a classifier (argmax of K outputs), a binary tagger (one output, signal against
/// background), a regression (real-valued targets) or an autoencoder (the target is the input; the reconstruction
/// error is the anomaly score).</summary>
public enum TaskKind { Classification, Binary, Regression, Autoencoder }

/// <summary>The quality a task is judged and searched by.</summary>
public enum QualityMetric { Accuracy, Auc, SignalEfficiency, Mse, Mae }

/// <summary>An autoencoder's anomaly score: the sum over the elements of the squared (L2) or absolute (L1)
/// difference between the (quantized) input and the output.</summary>
public enum ScoreNorm { L2, L1 }

/// <summary>The "task" section of a training configuration, saved with the model: the kind, the metric that
/// train, eval and search report and optimise, the anomaly score, and the background rate at which the signal
/// efficiency is taken.</summary>
public sealed record ModelTask(TaskKind Kind, QualityMetric Metric, ScoreNorm Score = ScoreNorm.L2, double BackgroundRate = 1e-3)
{
    public static ModelTask Classification { get; } = new(TaskKind.Classification, QualityMetric.Accuracy);

    public static readonly string[] KindNames = ["classification", "binary", "regression", "autoencoder"];
    public static readonly string[] MetricNames = ["accuracy", "auc", "signal_efficiency", "mse", "mae"];

    /// <summary>The metric's name in reports and JSON (test_auc, val_mse...).</summary>
    public string MetricName => MetricNames[(int)Metric];

    public static string NameOf(QualityMetric m) => MetricNames[(int)m];

    /// <summary>Whether a larger value of the metric is better (accuracy, AUC, efficiency) or a smaller one (MSE, MAE).</summary>
    public bool HigherIsBetter => IsHigherBetter(Metric);

    public static bool IsHigherBetter(QualityMetric m) => m is QualityMetric.Accuracy or QualityMetric.Auc or QualityMetric.SignalEfficiency;

    /// <summary>The metric a task reports unless told otherwise.</summary>
    public static QualityMetric DefaultMetric(TaskKind k) => k switch
    {
        TaskKind.Binary or TaskKind.Autoencoder => QualityMetric.Auc,
        TaskKind.Regression => QualityMetric.Mse,
        _ => QualityMetric.Accuracy,
    };

    /// <summary>A task from its section: a kind name ("autoencoder") or an object with type, metric, score and
    /// background_rate; null gives classification.</summary>
    public static ModelTask Parse(JsonSpec? s)
    {
        if (s is null) return Classification;
        string type = s.String("type", "classification");
        int k = Array.IndexOf(KindNames, type);
        if (k < 0) throw s.Error("type", $"unknown task '{type}' (known: {string.Join(", ", KindNames)})");
        var kind = (TaskKind)k;
        var metric = DefaultMetric(kind);
        if (s.String("metric") is { } m)
        {
            int i = Array.IndexOf(MetricNames, m);
            if (i < 0) throw s.Error("metric", $"unknown metric '{m}' (known: {string.Join(", ", MetricNames)})");
            metric = (QualityMetric)i;
            bool fits = kind switch
            {
                TaskKind.Classification => metric == QualityMetric.Accuracy,
                TaskKind.Binary => metric is QualityMetric.Auc or QualityMetric.SignalEfficiency,
                TaskKind.Regression => metric is QualityMetric.Mse or QualityMetric.Mae,
                _ => metric is not QualityMetric.Accuracy,
            };
            if (!fits) throw s.Error("metric", $"'{m}' does not apply to the task '{type}'");
        }
        var score = ScoreNorm.L2;
        if (s.String("score") is { } sc)
        {
            if (kind != TaskKind.Autoencoder) throw s.Error("score", "applies only to the task 'autoencoder'");
            score = sc switch
            {
                "mse" or "l2" => ScoreNorm.L2,
                "mae" or "l1" => ScoreNorm.L1,
                _ => throw s.Error("score", $"must be 'mse' (sum of squared differences) or 'mae' (sum of absolute differences), given '{sc}'"),
            };
        }
        double rate = s.Double("background_rate", 1e-3);
        if (!(rate > 0 && rate < 1)) throw s.Error("background_rate", $"must be between 0 and 1 (exclusive), given {rate}");
        s.RejectUnknown();
        return new ModelTask(kind, metric, score, rate);
    }

    public void Write(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("type", KindNames[(int)Kind]);
        w.WriteString("metric", MetricName);
        if (Kind == TaskKind.Autoencoder) w.WriteString("score", Score == ScoreNorm.L2 ? "mse" : "mae");
        w.WriteNumber("background_rate", BackgroundRate);
        w.WriteEndObject();
    }
}
