using HetQ.Training;

namespace HetQ.Tests.Training;

public class TrainJobTests
{
    internal const string DigitsConfig = """
    {
      "name": "tiny", "seed": 1,
      "data": { "name": "digits" },
      "model": { "layers": [ { "type": "dense", "units": 32, "activation": "relu" }, { "type": "dense", "units": 10 } ] },
      "optimizer": { "type": "adam", "learning_rate": 0.003 },
      "epochs": 15, "batch_size": 32,
      "early_stopping": { "monitor": "val_accuracy", "patience": 20 }
    }
    """;

    [Fact]
    public void Training_the_digits_MLP_reaches_high_accuracy_and_saves_a_loadable_model()
    {
        using var dir = new TempDir();
        var cfg = TrainConfig.Load(dir.Write("tiny.json", DigitsConfig));
        var r = TrainJob.Run(cfg, dir.File("model"));
        Assert.True(r.TestAccuracy > 0.93, $"test accuracy {r.TestAccuracy}");
        var (model, meta) = HetQ.Nn.ModelIO.Load(r.ModelDirectory);
        Assert.Equal(10, meta.NumClasses);
        Assert.Equal(new[] { 64 }, model.InputShape);
    }

    [Theory]
    [InlineData("\"epochs\": 0", "epochs")]
    [InlineData("\"optimizer\": { \"type\": \"adamax\" }", "optimizer")] // a second "optimizer" key: duplicate keys are an error
    [InlineData("\"loss\": \"hinge\"", "hinge")]
    [InlineData("\"schedule\": { \"type\": \"cosine\", \"warmup\": 2 }", "warmup")]
    [InlineData("\"data\": { \"name\": \"cifar\" }", "cifar")]
    [InlineData("\"epoch\": 3", "epoch")]
    public void A_bad_configuration_fails_before_training_and_names_the_key(string fragment, string named)
    {
        using var dir = new TempDir();
        string text = DigitsConfig.Replace("\"epochs\": 15", fragment.StartsWith("\"epochs\"", StringComparison.Ordinal) ? fragment : "\"epochs\": 15, " + fragment);
        if (fragment.StartsWith("\"data\"", StringComparison.Ordinal)) text = text.Replace("\"data\": { \"name\": \"digits\" },", "");
        var e = Assert.Throws<HetQException>(() => TrainConfig.Load(dir.Write("bad.json", text)));
        Assert.Contains(named, e.Message);
    }

    [Fact]
    public void Threads_default_to_the_cores_and_more_than_the_cores_are_refused()
    {
        using var dir = new TempDir();
        Assert.Equal(Environment.ProcessorCount, TrainConfig.Load(dir.Write("ok.json", DigitsConfig)).Threads);
        string text = DigitsConfig.Replace("\"epochs\": 15", $"\"epochs\": 15, \"threads\": {Environment.ProcessorCount + 1}");
        var e = Assert.Throws<HetQException>(() => TrainConfig.Load(dir.Write("bad.json", text)));
        Assert.Contains("threads", e.Message);
        Assert.Contains($"1 to {Environment.ProcessorCount}", e.Message);
    }

    [Fact]
    public void Invalid_JSON_reports_the_line()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<HetQException>(() => TrainConfig.Load(dir.Write("bad.json", "{\n \"epochs\": ,\n}")));
        Assert.Contains("line 2", e.Message);
    }
}
