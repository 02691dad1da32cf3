using HetQ.Data;
using HetQ.Nn;
using HetQ.Search;

namespace HetQ.Tests.Nn;

public class TaskMetricsTests
{
    [Fact]
    public void Roc_auc_is_the_share_of_signal_background_pairs_ranked_right_with_ties_half()
    {
        // scikit-learn: roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) = 0.75
        Assert.Equal(0.75, TaskMetrics.RocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]), 12);
        Assert.Equal(0.5, TaskMetrics.RocAuc([0.5, 0.5], [0, 1]), 12);
        Assert.Equal(1.0, TaskMetrics.RocAuc([1, 2, 3, 4], [0, 0, 1, 1]), 12);
        Assert.Equal(0.0, TaskMetrics.RocAuc([4, 3, 2, 1], [0, 0, 1, 1]), 12);
        // 3 signal x 2 background: pairs (s > b) counted by hand: 0.9>{0.2,0.6}, 0.6=0.6 (half), 0.3>0.2 -> 4.5 / 6
        Assert.Equal(4.5 / 6, TaskMetrics.RocAuc([0.9, 0.6, 0.3, 0.2, 0.6], [1, 1, 1, 0, 0]), 12);
        Assert.Throws<HetQException>(() => TaskMetrics.RocAuc([1, 2], [1, 1]));
    }

    [Fact]
    public void Signal_efficiency_holds_the_background_above_the_threshold_at_the_rate()
    {
        // 1000 background scores 0..999, rate 1 %: at most 10 above the threshold 989; signal 985.5..994.5 passes 6 of 10 (989.5 and up).
        var scores = Enumerable.Range(0, 1000).Select(i => (double)i).Concat(Enumerable.Range(985, 10).Select(i => i + 0.5)).ToArray();
        var labels = Enumerable.Repeat(0, 1000).Concat(Enumerable.Repeat(1, 10)).ToArray();
        Assert.Equal(0.6, TaskMetrics.SignalEfficiency(scores, labels, 0.01), 12);
        int above = scores.Take(1000).Count(s => s > 989);
        Assert.Equal(10, above);
        // A rate below one background event: nothing above the largest background passes.
        Assert.Equal(0.0, TaskMetrics.SignalEfficiency(scores, labels, 1e-4), 12);
    }

    [Fact]
    public void An_autoencoders_scores_are_summed_squared_errors_and_rank_the_anomalies()
    {
        var features = new float[] { 0, 0, 1, 1, 0.5f, 0.5f };
        var d = new Dataset("t", [2], features, [0, 1, 0], 2).WithTargets(features, 2, null);
        var task = new ModelTask(TaskKind.Autoencoder, QualityMetric.Auc);
        double[] outputs = [0.1, 0, 0, 0, 0.5, 0.5]; // errors 0.01, 2, 0
        var s = TaskMetrics.Measure(task, outputs, 2, d);
        Assert.Equal(1.0, s.Auc);
        Assert.Equal((0.01 + 2) / 6, s.Mse!.Value, 12);
        Assert.Equal(1.0, s.Value(QualityMetric.Auc));
        var l1 = TaskMetrics.Measure(task with { Score = ScoreNorm.L1 }, outputs, 2, d);
        Assert.Equal(1.0, l1.Auc);
        Assert.Equal((0.1 + 2) / 6, l1.Mae!.Value, 12);
    }

    [Fact]
    public void A_regression_reports_mse_and_mae_against_its_targets()
    {
        var d = new Dataset("r", [1], [0f, 0f], [0, 0], 0).WithTargets([1f, 3f], 1, null);
        var s = TaskMetrics.Measure(new ModelTask(TaskKind.Regression, QualityMetric.Mse), [2.0, 1.0], 1, d);
        Assert.Equal((1 + 4) / 2.0, s.Mse);
        Assert.Equal(1.5, s.Mae);
        Assert.Null(s.Auc);
        Assert.Null(s.Accuracy);
    }

    [Fact]
    public void The_search_quality_of_an_error_is_float_over_trial_and_its_floor_a_percentage()
    {
        var mse = new SearchQuality(new ModelTask(TaskKind.Regression, QualityMetric.Mse), 0.02);
        Assert.Equal(1.0, mse.Normalized(0.02), 12);
        Assert.Equal(0.5, mse.Normalized(0.04), 12);
        Assert.Equal(1 / 1.1, mse.Floor(10), 12);
        var auc = new SearchQuality(new ModelTask(TaskKind.Autoencoder, QualityMetric.Auc), 0.85);
        Assert.Equal(0.8, auc.Normalized(0.8), 12);
        Assert.Equal(0.84, auc.Floor(1), 12);
    }
}

public class RegressionLossTests
{
    public static TheoryData<string> Losses() => new() { "mse", "mae", "huber", "bce_logits", "softmax" };

    private static Loss Create(string name) => name switch
    {
        "mse" => new MeanSquaredError(),
        "mae" => new MeanAbsoluteError(),
        "huber" => new Huber(0.7),
        "bce_logits" => new BinaryCrossEntropy(true),
        _ => new SoftmaxCrossEntropy(0.1),
    };

    [Theory]
    [MemberData(nameof(Losses))]
    public void Weighted_loss_gradients_match_central_finite_differences(string name)
    {
        var rng = new Random(7);
        int n = 5, k = 3;
        var output = Enumerable.Range(0, n * k).Select(_ => (float)(rng.NextDouble() * 3 - 1.5)).ToArray();
        var targets = Enumerable.Range(0, n * k).Select(_ => (float)rng.NextDouble()).ToArray();
        var weights = new float[] { 1f, 0.5f, 0f, 2f, 1.25f };
        var labels = new[] { 0, 2, 1, 1, 0 };
        var loss = Create(name);
        bool classes = name == "softmax";
        double Value(float[] o)
        {
            var g = new float[o.Length];
            return loss.Compute(new Tensor([n, k], (float[])o.Clone()), new LossBatch(labels, classes ? default : targets, weights), g, 1f);
        }
        var grad = new float[n * k];
        loss.Compute(new Tensor([n, k], (float[])output.Clone()), new LossBatch(labels, classes ? default : targets, weights), grad, 1f);
        for (int i = 0; i < output.Length; i++)
        {
            const float h = 1e-3f;
            // Skip points within h of a kink (|d| = 0 for MAE, |d| = delta for Huber).
            double d = output[i] - targets[i];
            if (name == "mae" && Math.Abs(d) < 2 * h || name == "huber" && Math.Abs(Math.Abs(d) - 0.7) < 2 * h) continue;
            var plus = (float[])output.Clone();
            var minus = (float[])output.Clone();
            plus[i] += h;
            minus[i] -= h;
            double fd = (Value(plus) - Value(minus)) / ((double)plus[i] - minus[i]);
            Assert.True(Math.Abs(fd - grad[i]) <= 2e-3 * Math.Max(1, Math.Abs(fd)), $"{name} output {i}: finite difference {fd}, gradient {grad[i]}");
            if (weights[i / k] == 0) Assert.Equal(0f, grad[i]);
        }
    }

    [Fact]
    public void Huber_needs_a_positive_delta_and_losses_are_named_in_the_error()
    {
        var spec = JsonSpec.Parse("{\"type\": \"huber\", \"delta\": 0}", "c.json");
        var e = Assert.Throws<HetQException>(() => Loss.Create(spec));
        Assert.Contains("delta", e.Message);
        var unknown = Assert.Throws<HetQException>(() => Loss.Create(JsonSpec.Parse("{\"type\": \"hinge\"}", "c.json")));
        Assert.Contains("mae", unknown.Message);
        Assert.Contains("huber", unknown.Message);
    }
}
