using HetQ.Data;
using HetQ.Nn;
using HetQ.Numerics;
using HetQ.Training;

namespace HetQ.Tests.Training;

public class DistillationTests
{
    private const string Float = """
    { "name": "teacher", "seed": 5, "data": { "name": "digits", "validation_fraction": 0.1, "test_fraction": 0.2 },
      "model": { "layers": [ { "type": "dense", "units": 16, "activation": "relu", "name": "fc1" }, { "type": "dense", "units": 10, "name": "out" } ] },
      "optimizer": { "type": "adam", "learning_rate": 0.005 }, "epochs": 5, "batch_size": 32 }
    """;

    [Fact]
    public void A_uniform_teacher_is_label_smoothing()
    {
        // Four classes: 1/4 and the halves are exact in binary, so the two targets are the same floats.
        var z = new Tensor([2, 4], [0.5f, -1f, 2f, 0.25f, 1f, 1f, -0.5f, 3f]);
        int[] labels = [2, 3];
        var uniform = Enumerable.Repeat(0.25f, 8).ToArray();
        var gd = new float[8];
        var gs = new float[8];
        double ld = new SoftmaxCrossEntropy(0, 0.5).Compute(z, new LossBatch(labels, uniform), gd, 0.5f);
        double ls = new SoftmaxCrossEntropy(0.5).Compute(z, new LossBatch(labels), gs, 0.5f);
        Assert.Equal(gs, gd);
        Assert.Equal(ls, ld);
        // Without soft targets in the batch (validation), the loss is the plain one.
        var gp = new float[8];
        var gl = new float[8];
        Assert.Equal(new SoftmaxCrossEntropy(0).Compute(z, labels, gp, 1f), new SoftmaxCrossEntropy(0, 0.5).Compute(z, labels, gl, 1f));
        Assert.Equal(gp, gl);
    }

    [Fact]
    public void The_soft_targets_are_the_teachers_probabilities_and_a_distilled_run_trains()
    {
        using var dir = new TempDir();
        TrainJob.Run(TrainConfig.Load(dir.Write("float.json", Float)), dir.File("float"));
        var cfg = TrainConfig.Load(dir.Write("student.json", Float.Replace("\"teacher\"", "\"student\"")
            .Replace("\"epochs\": 5", "\"epochs\": 3, \"distillation\": { \"teacher\": \"float\", \"weight\": 0.7 }")));
        Assert.Equal(dir.File("float"), cfg.Distillation!.Teacher);
        Assert.Equal(0.7, cfg.Distillation.Weight);
        var splits = DatasetLoader.Load(cfg.Data, cfg.BaseDirectory);
        var p = cfg.Distillation.SoftTargets(splits.Train, 10, "student.json");
        var logits = Inference.Predict(ModelIO.Load(dir.File("float")).Model, splits.Train);
        for (int i = 0; i < splits.Train.Count; i++)
        {
            var row = p.AsSpan(i * 10, 10);
            Assert.InRange(System.Numerics.Tensors.TensorPrimitives.Sum<float>(row), 0.9999f, 1.0001f);
            Assert.Equal(System.Numerics.Tensors.TensorPrimitives.IndexOfMax<float>(logits.AsSpan(i * 10, 10)), System.Numerics.Tensors.TensorPrimitives.IndexOfMax<float>(row));
        }
        var r = TrainJob.Run(cfg, dir.File("student"));
        Assert.True(r.TestAccuracy > 0.8, $"test accuracy {r.TestAccuracy}");
        // The targets change training: the same run without distillation ends with other weights.
        var plain = TrainJob.Run(TrainConfig.Load(dir.Write("plain.json", Float.Replace("\"epochs\": 5", "\"epochs\": 3"))), dir.File("plain"));
        Assert.NotEqual(File.ReadAllBytes(Path.Combine(r.ModelDirectory, "weights.bin")), File.ReadAllBytes(Path.Combine(plain.ModelDirectory, "weights.bin")));
    }

    [Theory]
    [InlineData("\"loss\": \"mse\", \"task\": \"regression\", \"distillation\": { \"teacher\": \"float\" }", "distillation.teacher")]
    [InlineData("\"distillation\": { \"weight\": 0.5 }", "distillation.teacher")]
    [InlineData("\"distillation\": { \"teacher\": \"float\", \"weight\": 0 }", "distillation.weight")]
    [InlineData("\"distillation\": { \"teacher\": \"float\", \"weight\": 1.5 }", "distillation.weight")]
    [InlineData("\"distillation\": { \"teacher\": \"float\", \"temperature\": 2 }", "temperature")]
    public void Configuration_errors_name_the_key(string extra, string named)
    {
        using var dir = new TempDir();
        var e = Assert.Throws<HetQException>(() => TrainConfig.Load(dir.Write("c.json", Float.Replace("\"epochs\": 5", extra + ", \"epochs\": 5"))));
        Assert.Contains(named, e.Message);
    }

    [Fact]
    public void A_teacher_that_is_not_a_model_directory_is_one_clear_error()
    {
        using var dir = new TempDir();
        var cfg = TrainConfig.Load(dir.Write("c.json", Float.Replace("\"epochs\": 5", "\"distillation\": { \"teacher\": \"nothing\" }, \"epochs\": 5")));
        var e = Assert.Throws<HetQException>(() => TrainJob.Run(cfg, dir.File("m")));
        Assert.Contains("distillation.teacher", e.Message);
        Assert.False(Directory.Exists(dir.File("m")), "nothing is written");
    }
}
