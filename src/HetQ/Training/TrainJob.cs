using System.Text.Json;
using HetQ.Data;
using HetQ.Files;
using HetQ.Nn;

namespace HetQ.Training;

/// <summary>The outcome of <c>hetq train</c>.</summary>
public sealed record TrainResult(string ModelDirectory, double TestAccuracy, double TestLoss, int Epochs, double Seconds,
    TrainHistory History, int TrainSamples, int TestSamples, int Parameters);

/// <summary>Runs a training configuration end to end: load the data, build the model, train, evaluate
/// on the test part, save the model directory.</summary>
public static class TrainJob
{
    public static TrainResult Run(TrainConfig cfg, string? outputOverride = null, Action<string>? log = null,
        Action<EpochResult>? onEpoch = null, CancellationToken cancel = default)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        // Every output is checked before any work starts: a bad one fails now, not after the training.
        string output = SafeOutput.CheckDirectory(outputOverride ?? cfg.Output, ArtefactKind.Model, outputOverride is null ? $"{cfg.Source}: output" : "--out");
        if (cfg.CheckpointDirectory is { } ck0)
        {
            string checkpoint = SafeOutput.CheckDirectory(ck0, ArtefactKind.Model, $"{cfg.Source}: checkpoint_dir");
            if (checkpoint == output) throw new HetQException($"{cfg.Source}: checkpoint_dir is the output directory {output}; give another");
        }
        log?.Invoke($"loading data set '{cfg.Data.Name}'...");
        var splits = DatasetLoader.Load(cfg.Data, cfg.BaseDirectory);
        var shape = splits.Train.SampleShape;
        var model = cfg.BuildModel(shape);
        if (splits.Train.NumClasses > 1 && model.OutputShape[^1] != splits.Train.NumClasses && model.OutputShape[^1] != 1)
            throw new HetQException($"{cfg.Source}: the model has {model.OutputShape[^1]} outputs but data set '{cfg.Data.Name}' has {splits.Train.NumClasses} classes");
        if (model.OutputShape.Length != 1)
            throw new HetQException($"{cfg.Source}: the model's output has shape [{string.Join(",", model.OutputShape)}]; add a flatten or global_avg_pool layer before the last dense layer");
        log?.Invoke($"train {splits.Train.Count}, validation {splits.Validation.Count}, test {splits.Test.Count} samples of shape [{string.Join(",", shape)}]; {model.TrainableParameters.Sum(p => p.Length)} trainable parameters");
        var loss = Loss.Create(cfg.LossSpec);
        var optimizer = Optimizer.Create(cfg.OptimizerSpec);
        var options = new TrainOptions(cfg.Epochs, cfg.BatchSize, cfg.Seed, cfg.Threads, cfg.ClipNorm, cfg.ClipValue, cfg.Schedule, cfg.EarlyStopping);
        using var trainer = new Trainer(model, loss, optimizer, options);
        trainer.OnEpoch = onEpoch;
        if (cfg.CheckpointDirectory is { } ck)
            trainer.OnImproved = _ => ModelIO.Save(model, Metadata(cfg, splits, loss, null), ck);
        var history = trainer.Fit(splits.Train, splits.Validation, cancel);
        var (testLoss, testAcc) = trainer.Evaluate(splits.Test);
        var training = JsonSerializer.SerializeToElement(new Dictionary<string, object>
        {
            ["epochs"] = history.Epochs.Count,
            ["best_epoch"] = history.BestEpoch,
            ["test_accuracy"] = testAcc,
            ["test_loss"] = testLoss,
            ["seconds"] = history.Seconds,
            ["config"] = Path.GetFullPath(cfg.Source),
        });
        ModelIO.Save(model, Metadata(cfg, splits, loss, training), output);
        return new TrainResult(Path.GetFullPath(output), testAcc, testLoss, history.Epochs.Count, sw.Elapsed.TotalSeconds, history,
            splits.Train.Count, splits.Test.Count, model.TrainableParameters.Sum(p => p.Length));
    }

    private static ModelMetadata Metadata(TrainConfig cfg, DataSplits splits, Loss loss, JsonElement? training) =>
        new(cfg.Name, splits.Train.NumClasses, splits.Train.ClassNames, loss.Name, AbsoluteData(cfg), training, cfg.Quantization);

    /// <summary>The data section with relative paths made absolute, so a saved model can find its data from anywhere.</summary>
    private static JsonElement AbsoluteData(TrainConfig cfg)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(cfg.DataJson.GetRawText());
        if (node is System.Text.Json.Nodes.JsonObject o)
            foreach (var key in new[] { "path", "train_images", "train_labels", "test_images", "test_labels", "features", "labels" })
                if (o[key]?.GetValue<string>() is { } p && !Path.IsPathRooted(p))
                    o[key] = Path.GetFullPath(Path.Combine(cfg.BaseDirectory, p));
        return JsonSerializer.SerializeToElement(node);
    }
}
