using HetQ.Nn;

namespace HetQ.Tests.Nn;

public class LossOptimizerGoldenTests
{
    public static TheoryData<string> Losses => GoldenCase.Files("loss_");
    public static TheoryData<string> Optimizers => GoldenCase.Files("opt_");

    [Theory]
    [MemberData(nameof(Losses))]
    public void Loss_value_and_gradient_match_PyTorch(string file)
    {
        var g = GoldenCase.Load(file);
        var cfg = g.Config;
        var (shape, data) = GoldenCase.Array(g.Root.GetProperty("output"));
        var output = new Tensor(shape, data);
        int n = shape[0];
        var grad = new float[data.Length];
        string kind = g.Root.GetProperty("loss").GetString()!;
        string reduction = cfg.TryGetProperty("reduction", out var r) ? r.GetString()! : "mean_over_batch";
        double value;
        if (kind == "softmax_cross_entropy")
        {
            var labels = g.Root.GetProperty("labels").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            value = new SoftmaxCrossEntropy(cfg.GetProperty("label_smoothing").GetDouble()).Compute(output, labels, grad, 1f / n) / n;
        }
        else
        {
            var (_, targets) = GoldenCase.Array(g.Root.GetProperty("targets"));
            float[] weights = g.Root.TryGetProperty("weights", out var we) ? GoldenCase.Array(we).Item2 : [];
            // Our losses average over the outputs of a sample and leave the batch mean to gradScale.
            Assert.Equal(weights.Length > 0 ? "weighted_mean_over_all" : "mean_over_all", reduction);
            Loss loss = kind switch
            {
                "mse" => new MeanSquaredError(),
                "mae" => new MeanAbsoluteError(),
                "huber" => new Huber(cfg.GetProperty("delta").GetDouble()),
                "binary_cross_entropy" or "binary_cross_entropy_from_logits" => new BinaryCrossEntropy(cfg.GetProperty("from_logits").GetBoolean()),
                _ => throw new InvalidOperationException(kind),
            };
            value = loss.Compute(output, new LossBatch(default, targets, weights), grad, 1f / n) / n;
        }
        Assert.True(Math.Abs(value - g.Root.GetProperty("value").GetDouble()) <= 1e-5 * Math.Max(1, Math.Abs(value)), $"loss {value}, expected {g.Root.GetProperty("value").GetDouble()}");
        var expected = GoldenCase.Doubles(g.Root.GetProperty("grad"));
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - grad[i]) <= 1e-5 * Math.Max(1, Math.Abs(expected[i])), $"grad[{i}]: expected {expected[i]}, got {grad[i]}");
    }

    [Theory]
    [MemberData(nameof(Optimizers))]
    public void Optimizer_trajectory_matches_PyTorch(string file)
    {
        var g = GoldenCase.Load(file);
        var cfg = g.Config;
        double Get(string k, double d) => cfg.TryGetProperty(k, out var v) ? v.GetDouble() : d;
        string kind = g.Root.GetProperty("optimizer").GetString()!;
        Optimizer opt = kind switch
        {
            "sgd" => new Sgd(Get("lr", 0.01), Get("momentum", 0), cfg.TryGetProperty("nesterov", out var ne) && ne.GetBoolean()),
            "adam" => new Adam(Get("lr", 1e-3), Get("beta1", 0.9), Get("beta2", 0.999), Get("epsilon", 1e-7)),
            "adamw" => new Adam(Get("lr", 1e-3), Get("beta1", 0.9), Get("beta2", 0.999), Get("epsilon", 1e-7), Get("weight_decay", 0.01)),
            _ => throw new InvalidOperationException(kind),
        };
        var initial = GoldenCase.Doubles(g.Root.GetProperty("initial")).Select(x => (float)x).ToArray();
        var p = new Parameter("w", new[] { initial.Length }, value: initial);
        if (cfg.TryGetProperty("l2", out _) || cfg.TryGetProperty("l1", out _)) p.Regularizer = new Regularizer(Get("l1", 0), Get("l2", 0));
        var grads = g.Root.GetProperty("grads").EnumerateArray().Select(GoldenCase.Doubles).ToArray();
        var after = g.Root.GetProperty("params_after_each_step").EnumerateArray().Select(GoldenCase.Doubles).ToArray();
        for (int s = 0; s < grads.Length; s++)
        {
            for (int i = 0; i < p.Length; i++) p.Grad[i] = (float)grads[s][i];
            p.Regularizer?.AddGradient(p.Value, p.Grad);
            opt.Step(new[] { p });
            for (int i = 0; i < p.Length; i++)
                Assert.True(Math.Abs(after[s][i] - p.Value[i]) <= 1e-5 * Math.Max(1, Math.Abs(after[s][i])), $"step {s + 1}, w[{i}]: expected {after[s][i]}, got {p.Value[i]}");
        }
    }
}
