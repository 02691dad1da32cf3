using System.Text.Json;
using HetQ.Data;
using HetQ.Files;
using HetQ.Nn;

namespace HetQ.Training;

/// <summary>The outcome of <c>hetq train</c>.</summary>
public sealed record TrainResult(string ModelDirectory, double TestAccuracy, double TestLoss, int Epochs, double Seconds,
    TrainHistory History, int TrainSamples, int TestSamples, int Parameters, ModelTask? Task = null, TaskScores? Test = null)
{
    /// <summary>Learned bit widths: the non-dominated checkpoints, frozen and costed (null for other runs).</summary>
    public IReadOnlyList<ParetoPoint>? Pareto { get; init; }

    /// <summary>Learned bit widths: the baselines evaluated beside the front.</summary>
    public IReadOnlyList<BaselinePoint>? Baselines { get; init; }

    /// <summary>Learned bit widths: each epoch's beta and surrogate EBOPs (what the controller steered by).</summary>
    public IReadOnlyList<BetaStep>? BetaSteps { get; init; }

    /// <summary>Learned bit widths: the PNG of the front.</summary>
    public string? ParetoPlot { get; init; }
}

/// <summary>Runs a training configuration end to end: load the data, build the model, train, evaluate
/// on the test part, save the model directory.</summary>
public static class TrainJob
{
    /// <summary>Runs the configuration; <paramref name="onBatch"/>, when given, hears after every batch: the epoch, the batches done in it and the batches per epoch.</summary>
    public static TrainResult Run(TrainConfig cfg, string? outputOverride = null, Action<string>? log = null,
        Action<EpochResult>? onEpoch = null, CancellationToken cancel = default, Action<int, int, int>? onBatch = null)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        // Every output is checked before any work starts: a bad one fails now, not after the training.
        string output = SafeOutput.CheckDirectory(outputOverride ?? cfg.Output, ArtefactKind.Model, outputOverride is null ? $"{cfg.Source}: output" : "--out", [], Carried(cfg));
        if (cfg.CheckpointDirectory is { } ck0)
        {
            string checkpoint = SafeOutput.CheckDirectory(ck0, ArtefactKind.Model, $"{cfg.Source}: checkpoint_dir");
            if (checkpoint == output) throw new HetQException($"{cfg.Source}: checkpoint_dir is the output directory {output}; give another");
        }
        foreach (var b in cfg.Bitwidths?.Baselines ?? [])
        {
            string dir = Path.IsPathRooted(b) ? b : Path.Combine(cfg.BaseDirectory, b);
            if (!File.Exists(Path.Combine(dir, "model.json")))
                throw new HetQException($"{cfg.Source}: bitwidths.baselines: '{b}' is not a model directory ({Path.GetFullPath(dir)} has no model.json); train it first");
        }
        log?.Invoke($"loading data set '{cfg.Data.Name}'...");
        var splits = DatasetLoader.Load(cfg.Data, cfg.BaseDirectory);
        var shape = splits.Train.SampleShape;
        var model = cfg.BuildModel(shape);
        if (cfg.Task.Kind == TaskKind.Classification && splits.Train.NumClasses > 1 && model.OutputShape[^1] != splits.Train.NumClasses && model.OutputShape[^1] != 1)
            throw new HetQException($"{cfg.Source}: the model has {model.OutputShape[^1]} outputs but data set '{cfg.Data.Name}' has {splits.Train.NumClasses} classes");
        if (model.OutputShape.Length != 1)
            throw new HetQException($"{cfg.Source}: the model's output has shape [{string.Join(",", model.OutputShape)}]; add a flatten or global_avg_pool layer before the last dense layer");
        CheckTask(cfg, splits.Train, model);
        log?.Invoke($"train {splits.Train.Count}, validation {splits.Validation.Count}, test {splits.Test.Count} samples of shape [{string.Join(",", shape)}]; {model.TrainableParameters.Sum(p => p.Length)} trainable parameters");
        var memory = TrainingMemory.Estimate(model, cfg, splits.Train.Count);
        if (memory.Check(cfg.Source, TrainingMemory.Available()) is { } warning) log?.Invoke(warning);
        var loss = Loss.Create(cfg.LossSpec);
        var train = splits.Train;
        if (cfg.Distillation is { } distill)
        {
            log?.Invoke($"distillation: soft targets from {distill.Teacher} (weight {distill.Weight:G3})");
            int k = Tensor.Size(model.OutputShape);
            train = train.WithTargets(distill.SoftTargets(train, k, cfg.Source), k, train.Weights);
            loss = new SoftmaxCrossEntropy(((SoftmaxCrossEntropy)loss).LabelSmoothing, distill.Weight);
        }
        var optimizer = Optimizer.Create(cfg.OptimizerSpec);
        var options = new TrainOptions(cfg.Epochs, cfg.BatchSize, cfg.Seed, cfg.Threads, cfg.ClipNorm, cfg.ClipValue, cfg.Schedule, cfg.EarlyStopping);
        using var trainer = new Trainer(model, loss, optimizer, options);
        trainer.OnEpoch = onEpoch;
        trainer.OnBatch = onBatch;
        if (cfg.CheckpointDirectory is { } ck)
            trainer.OnImproved = _ => ModelIO.Save(model, Metadata(cfg, splits, loss, null), ck);
        ParetoTracker? pareto = null;
        EbopsPenalty? penalty = null;
        if (cfg.Bitwidths is { } bw)
        {
            trainer.Penalty = penalty = new EbopsPenalty(model, bw);
            pareto = new ParetoTracker(model, cfg.Name, Path.Combine(outputOverride ?? cfg.Output, ParetoTracker.Folder), () => Metadata(cfg, splits, loss, null), log, cfg.Task, splits.Validation, bw.Stream);
            trainer.OnEpoch = r =>
            {
                onEpoch?.Invoke(r);
                if (bw.Controller is { } c)
                    log?.Invoke(FormattableString.Invariant($"epoch {r.Epoch}: beta {penalty.Beta:G3}, surrogate {penalty.LastEbops:N0} {(bw.Cost == PenaltyCost.Luts ? "LUTs" : "EBOPs")} (target {c.TargetEbops:N0})"));
                pareto.OnEpoch(r);
            };
        }
        var history = trainer.Fit(train, splits.Validation, cancel);
        penalty?.Finish(history.Epochs.Count);
        var (testLoss, testAcc) = trainer.Evaluate(splits.Test);
        var test = TaskMetrics.Measure(cfg.Task, TaskMetrics.Doubles(trainer.Predict(splits.Test)), Tensor.Size(model.OutputShape), splits.Test);
        var summary = new Dictionary<string, object>
        {
            ["epochs"] = history.Epochs.Count,
            ["best_epoch"] = history.BestEpoch,
            ["test_accuracy"] = testAcc,
            ["test_loss"] = testLoss,
            ["seconds"] = history.Seconds,
            ["config"] = Path.GetFullPath(cfg.Source),
        };
        if (cfg.Task.Kind != TaskKind.Classification) summary.Remove("test_accuracy");
        foreach (var (metric, value) in test.Present()) summary["test_" + metric] = value;
        var training = JsonSerializer.SerializeToElement(summary);
        // The pareto/ checkpoints live inside the output directory, which saving replaces: the save carries them over.
        ModelIO.Save(model, Metadata(cfg, splits, loss, training), output, carry: Carried(cfg));
        var result = new TrainResult(Path.GetFullPath(output), testAcc, testLoss, history.Epochs.Count, sw.Elapsed.TotalSeconds, history,
            splits.Train.Count, splits.Test.Count, model.TrainableParameters.Sum(p => p.Length), cfg.Task, test);
        if (pareto is null) return result;
        log?.Invoke($"evaluating {pareto.Front.Count} Pareto checkpoints on the test set...");
        var front = pareto.Finish(splits.Test);
        var baselines = cfg.Bitwidths!.Baselines.Select(b => ParetoTracker.Baseline(Path.IsPathRooted(b) ? b : Path.Combine(cfg.BaseDirectory, b), splits, cfg.Task)).ToList();
        double? floatVal = null;
        if (cfg.InitialWeights is { } iw)
        {
            var (fm, _) = ModelIO.Load(Path.IsPathRooted(iw) ? iw : Path.Combine(cfg.BaseDirectory, iw));
            int k = Tensor.Size(fm.OutputShape);
            var floatOut = Inference.Predict(fm.WithoutQuantization(), splits.Validation);
            floatVal = cfg.Task.Kind == TaskKind.Classification ? Inference.Accuracy(floatOut, k, splits.Validation.Labels)
                : TaskMetrics.Measure(cfg.Task, TaskMetrics.Doubles(floatOut), k, splits.Validation).Value(cfg.Task.Metric);
        }
        string png = Path.Combine(Path.GetFullPath(output), "pareto.png");
        bool drawn = Plotting.TryDraw(png, w => w.LearnedFront(png, pareto.All, front, baselines, floatVal, $"{cfg.Name}: learned bit widths, Pareto front", cfg.Task.MetricName), log);
        return result with { Pareto = front, Baselines = baselines, ParetoPlot = drawn ? png : null, BetaSteps = penalty!.Steps };
    }

    /// <summary>The subdirectories of the output that a save keeps: a learned-width run's Pareto checkpoints.</summary>
    internal static string[] Carried(TrainConfig cfg) => cfg.Bitwidths is null ? [] : [ParetoTracker.Folder];

    /// <summary>A regression or autoencoder needs targets as wide as the model's output; a tagger one output.</summary>
    private static void CheckTask(TrainConfig cfg, Dataset train, Model model)
    {
        int k = Tensor.Size(model.OutputShape);
        string kind = ModelTask.KindNames[(int)cfg.Task.Kind];
        switch (cfg.Task.Kind)
        {
            case TaskKind.Regression or TaskKind.Autoencoder when train.Targets is null:
                throw new HetQException($"{cfg.Source}: the task '{kind}' needs real-valued targets: set data.target_columns"
                    + (cfg.Task.Kind == TaskKind.Autoencoder ? " or data.targets: \"input\"" : ""));
            case TaskKind.Regression or TaskKind.Autoencoder when train.TargetSize != k:
                throw new HetQException($"{cfg.Source}: the model has {k} outputs but each sample has {train.TargetSize} targets");
            case TaskKind.Binary when k != 1:
                throw new HetQException($"{cfg.Source}: the task 'binary' needs a model with one output (the signal score); it has {k}");
            case TaskKind.Binary when train.NumClasses > 2:
                throw new HetQException($"{cfg.Source}: the task 'binary' needs two classes (0 background, 1 signal); set data.signal_classes");
        }
        if (cfg.Task.Kind is TaskKind.Classification or TaskKind.Binary && Loss.Create(cfg.LossSpec).UsesTargets && train.Targets is not null)
            throw new HetQException($"{cfg.Source}: the data has real-valued targets, so the task is 'regression' or 'autoencoder' (set \"task\")");
    }

    private static ModelMetadata Metadata(TrainConfig cfg, DataSplits splits, Loss loss, JsonElement? training) =>
        new(cfg.Name, splits.Train.NumClasses, splits.Train.ClassNames, loss.Name, AbsoluteData(cfg), training, cfg.Quantization, cfg.Task);

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
