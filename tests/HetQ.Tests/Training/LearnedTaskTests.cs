using HetQ.Nn;
using HetQ.Training;

namespace HetQ.Tests.Training;

/// <summary>Learned-width training on the trigger tasks: the Pareto front is kept and reported by the task's own
/// metric (MSE for a regression, AUC of the reconstruction error for an autoencoder, AUC for a binary tagger), each
/// front model frozen and emulated with 0 mismatches.</summary>
public class LearnedTaskTests(ITestOutputHelper output)
{
    private const string Config = """
    {
      "name": "learned-task", "seed": 11,
      "task": TASK,
      "data": DATA,
      "model": { "layers": [ { "type": "dense", "units": UNITS, "activation": "relu", "name": "fc1" }, { "type": "dense", "units": OUT, "name": "out" } ] },
      "loss": LOSS,
      "optimizer": { "type": "adam", "learning_rate": 0.003 },
      "epochs": 6, "batch_size": 32,
      "bitwidths": {
        "input": { "granularity": "element", "init": 4 },
        "kernel": { "granularity": "weight", "init": 5 },
        "bias": { "granularity": "channel", "init": 6 },
        "activation": { "granularity": "element", "init": 4 },
        "beta": { "schedule": "log", "start": 1e-7, "end": 1e-5 }
      }
    }
    """;

    public static TheoryData<string, string, string, string, int> Tasks => new()
    {
        // Digits: the bottom two pixel rows predicted from the rest.
        { "regression", """{ "type": "regression", "metric": "mse" }""",
          """{ "name": "digits", "target_columns": [48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63], "stratify": false, "validation_fraction": 0.1, "test_fraction": 0.2 }""",
          "\"mse\"", 16 },
        // Digits at 4x4, ones held out as the anomaly.
        { "autoencoder", """{ "type": "autoencoder", "metric": "auc" }""",
          """{ "name": "digits", "downsample": 2, "anomaly_classes": [1], "targets": "input", "validation_fraction": 0.1, "test_fraction": 0.2 }""",
          "\"mse\"", 16 },
        // Digits: threes against the rest.
        { "binary", """{ "type": "binary", "metric": "auc", "background_rate": 0.01 }""",
          """{ "name": "digits", "signal_classes": [3], "validation_fraction": 0.1, "test_fraction": 0.2 }""",
          """{ "type": "binary_cross_entropy", "from_logits": true }""", 1 },
    };

    [Theory]
    [MemberData(nameof(Tasks))]
    public void The_front_is_kept_and_reported_by_the_tasks_metric(string kind, string task, string data, string loss, int outputs)
    {
        using var dir = new TempDir();
        var cfg = TrainConfig.Load(dir.Write("task.json", Config.Replace("TASK", task).Replace("DATA", data).Replace("LOSS", loss)
            .Replace("OUT", outputs.ToString(System.Globalization.CultureInfo.InvariantCulture))
            // An autoencoder needs a bottleneck (an identity map reconstructs the anomaly as well as the rest).
            .Replace("UNITS", kind == "autoencoder" ? "3" : "16")));
        var r = TrainJob.Run(cfg, dir.File("model"));
        var front = r.Pareto!.OrderBy(p => p.Ebops).ToList();
        Assert.NotEmpty(front);
        bool higher = cfg.Task.HigherIsBetter;
        foreach (var p in front)
        {
            output.WriteLine($"{kind}: epoch {p.Epoch}, {p.Ebops:N0} EBOPs, val {p.Metric} {p.ValAccuracy:G4}, test {p.TestMetric:G4}, mismatches {p.Mismatches}");
            Assert.Equal(cfg.Task.MetricName, p.Metric);
            Assert.Equal(0, p.Mismatches);
            Assert.NotNull(p.TestMetric);
            Assert.Null(p.TestAccuracy);
        }
        // Non-dominated by the task's direction: cheaper points are strictly worse.
        for (int i = 1; i < front.Count; i++)
            Assert.True(higher ? front[i].ValAccuracy > front[i - 1].ValAccuracy : front[i].ValAccuracy < front[i - 1].ValAccuracy,
                $"epoch {front[i].Epoch} after epoch {front[i - 1].Epoch}");
        var best = front[^1];
        if (kind == "regression")
        {
            // Better than predicting the mean of the test targets.
            var splits = HetQ.Data.DatasetLoader.Load(cfg.Data, cfg.BaseDirectory);
            var t = splits.Test.Targets!;
            double mean = t.Average(v => (double)v), variance = t.Average(v => (v - mean) * (v - mean));
            Assert.True(best.TestMetric < variance, $"test MSE {best.TestMetric} against the targets' variance {variance}");
        }
        // A 3-unit autoencoder of 4x4 digits after 6 epochs is a weak anomaly detector (test AUC 0.60-0.66 measured),
        // but better than chance; the tagger separates threes well.
        else Assert.True(best.TestMetric > (kind == "autoencoder" ? 0.55 : 0.8), $"test AUC {best.TestMetric}");
    }
}
