using System.Diagnostics;
using System.Text.Json;
using HetQ.Cost;
using HetQ.Data;
using HetQ.Graph;
using HetQ.Nn;
using HetQ.Quantization;
using HetQ.Training;

namespace HetQ.Search;

/// <summary>A search's state as progress reports it.</summary>
public sealed record SearchProgress(TrialRecord Trial, int Done, int Total, TrialRecord? Best, double SecondsPerTrial, double EtaSeconds);

/// <summary>The outcome of a search: every trial, the best one by score, the Pareto front, and where things were written.</summary>
public sealed record SearchResult(IReadOnlyList<TrialRecord> Trials, TrialRecord? Best, IReadOnlyList<TrialRecord> Pareto, double ReferenceCost,
    CostMetric Metric, string? BestModel, string? Plot, double Seconds, double FloatAccuracy, string? Report = null);

/// <summary>Runs trials of a search until the study has all its trials: each trial starts from the float model's
/// weights, takes its quantizers from the sampler, fine-tunes with quantization-aware training, is evaluated on the
/// validation part, frozen and costed on the integer graph.</summary>
public sealed class SearchJob
{
    private readonly SearchConfig _cfg;
    private readonly DataSplits _data;
    private readonly SearchSpace _space;
    private readonly double _reference;
    private readonly double _floatAccuracy;
    private readonly Model? _initial;
    private readonly SearchQuality _quality;

    /// <summary>Validation quality of the float model the trials start from (accuracy for a classifier; for other tasks
    /// the quality of <see cref="SearchQuality"/>: the metric itself when larger is better, float / metric otherwise).</summary>
    public double FloatAccuracy => _floatAccuracy;

    /// <summary>The metric the search judges trials by, and the float model's value of it.</summary>
    public SearchQuality Quality => _quality;

    public SearchSpace Space => _space;
    public double ReferenceCost => _reference;

    public SearchJob(SearchConfig cfg, Action<string>? log = null)
    {
        _cfg = cfg;
        log?.Invoke($"loading data set '{cfg.Train.Data.Name}'...");
        _data = DatasetLoader.Load(cfg.Train.Data, cfg.Train.BaseDirectory);
        _initial = cfg.InitialWeights is { } dir ? ModelIO.Load(dir).Model : null; // read once, copied into every trial
        var model = BaseModel();
        _space = SearchSpace.Create(model, cfg.Space);
        var reference = CostModel.Reference(model); // int8 weights and activations, int32 accumulators
        if (cfg.Metric == CostMetric.Lut && cfg.Reuse > 1) Hardware.ReusePlan.All(cfg.Reuse).Factors(reference, $"{cfg.Source}: objective.reuse");
        _reference = Cost(reference, CostModel.Estimate(reference));
        var val = _data.Validation.Count > 0 ? _data.Validation : _data.Test;
        var task = cfg.Task;
        double floatValue = Measure(task, Inference.Predict(model.WithoutQuantization(), val), model, val);
        _quality = new SearchQuality(task, floatValue);
        _floatAccuracy = _quality.Normalized(floatValue);
        if (task.Kind != TaskKind.Classification)
            log?.Invoke($"task {ModelTask.KindNames[(int)task.Kind]}: trials are judged by validation {task.MetricName} (float model {floatValue:G5})");
        log?.Invoke($"search space: {_space.Dimensions.Count} choices, {_space.Size:N0} configurations; reference cost ({cfg.Metric}, int8): {_reference:N0}");
    }

    private Model BaseModel(IReadOnlyDictionary<string, string>? choice = null)
    {
        var scaled = choice is null || _space is null ? null : WidthFactors.Scaled(_cfg.Train, _space.Dimensions, choice);
        // Without the training config's learned widths: the space's quantizers go on first, and with "learned" the
        // trial puts the learned ones on after the initial weights are in (RunTrial).
        var model = ((scaled ?? _cfg.Train) with { Bitwidths = null }).BuildModel(_data.Train.SampleShape);
        if (_initial is not null && scaled is not null) WidthFactors.CopySliced(_initial, model, $"{_cfg.Source}: initial_weights {_cfg.InitialWeights}");
        else if (_initial is not null) Training.TrainConfig.CopyWeights(_initial, model, $"{_cfg.Source}: initial_weights {_cfg.InitialWeights}");
        foreach (var n in model.Nodes) n.Layer.Quantizers = null;
        model.InputQuantizer = _cfg.Input is null ? null : new FakeQuantizer(_cfg.Input);
        return model;
    }

    private IReadOnlyList<(string, IReadOnlyDictionary<string, string>)> Baselines() =>
        _cfg.Baselines.Select(b => (b.Name, (IReadOnlyDictionary<string, string>)_space.Dimensions.Where(d => !PenaltyDimensions.Is(d)).ToDictionary(d => d.Name, d => d.Role switch
        {
            "kernel" => b.Kernel,
            "bias" => b.Bias ?? b.Kernel,
            WidthFactors.Role => "1",
            "input" => _cfg.Input?.Spec ?? throw new HetQException($"{_cfg.Source}: space.input is searched, so the baselines need the configuration's 'input' quantizer"),
            _ => b.Activation ?? throw new HetQException($"{_cfg.Source}: baseline '{b.Name}' needs an activation quantizer"),
        }))).ToList();

    /// <summary>Works on the study until it is complete; <paramref name="worker"/> mode also waits for trials that others run.</summary>
    public SearchResult Run(bool worker = false, Action<SearchProgress>? progress = null, Action<string>? log = null, CancellationToken cancel = default)
    {
        var sw = Stopwatch.StartNew();
        string output = Files.SafeOutput.CheckDirectory(_cfg.Output, Files.ArtefactKind.Run, $"{_cfg.Source}: output");
        Directory.CreateDirectory(output);
        if (!File.Exists(Path.Combine(output, Files.SafeOutput.MarkerFile))) Files.SafeOutput.Mark(output, Files.ArtefactKind.Run);
        using var store = StudyStore.Open(_cfg.Study, _cfg.Name);
        string stored = store.Initialize(_cfg.Json);
        if (stored != _cfg.Json) log?.Invoke($"study '{_cfg.Name}' in {store.Location} exists with another configuration; continuing it with the stored trials");
        store.QueueBaselines(Baselines());
        string id = StudyStore.WorkerId();
        ISampler sampler = _cfg.Sampler switch
        {
            SearchStrategy.Random => new RandomSampler(),
            SearchStrategy.Blocks => new BlockSampler(new TpeSampler(Math.Min(_cfg.StartupTrials, Math.Max(2, _cfg.Trials / Math.Max(1, _space.Dimensions.Select(d => d.Block).Distinct().Count()) / 2))), _cfg.Trials),
            _ => new TpeSampler(_cfg.StartupTrials),
        };
        var durations = new List<double>();
        while (!cancel.IsCancellationRequested)
        {
            var trial = store.ClaimOrCreate(id, _cfg.Trials + _cfg.Baselines.Count, _cfg.HeartbeatTimeout, (all, canCreate) =>
            {
                if (_cfg.Hyperband?.Promotion(all) is { } promotion) return promotion;
                if (!canCreate) return null;
                var rng = new Random(Numerics.Seeds.Derive(_cfg.Seed, all.Count));
                int rung = _cfg.Hyperband?.BracketOf(all.Count(t => t.IsSearch && t.Parent is null)) ?? 0;
                return new StudyStore.Proposal(Untried(sampler, _space, _cfg.Hyperband is null ? Finished(all) : History(all), all, rng), rung);
            });
            if (trial is null)
            {
                var all = store.Trials();
                if (!worker || all.All(t => t.IsFinished)) break;
                Thread.Sleep(1000);
                continue;
            }
            var t0 = Stopwatch.StartNew();
            using var beat = new Timer(_ => { try { store.Heartbeat(trial.Number, id); } catch (Exception) { } }, null, 5000, 5000);
            var outcome = RunTrial(trial, store, log);
            store.Complete(trial.Number, id, outcome.State, outcome.Accuracy, outcome.Cost, outcome.Score, outcome.Metrics, outcome.Model, outcome.Error, t0.Elapsed.TotalSeconds);
            durations.Add(t0.Elapsed.TotalSeconds);
            var now = store.Trials();
            int done = now.Count(t => t.IsFinished);
            // Under Hyperband the count is an estimate (ASHA may promote more): never less than the trials so far.
            int total = Math.Max((_cfg.Hyperband?.ExpectedTrials(_cfg.Trials) ?? _cfg.Trials) + _cfg.Baselines.Count, now.Count);
            double per = durations.Average();
            progress?.Invoke(new SearchProgress(now.First(t => t.Number == trial.Number), done, total, BestOf(now), per, per * (total - done)));
        }
        cancel.ThrowIfCancellationRequested();
        return Finish(store.Trials(), sw.Elapsed.TotalSeconds, log);
    }

    /// <summary>The configured cost metric of a frozen graph: one of the cost model's (from <paramref name="report"/>),
    /// or lut, the resource model's Xilinx LUT estimate of the design <c>hw write</c> would write with the objective's
    /// io and reuse factor (streaming for a convolutional model under io auto, folded dense layers under reuse).</summary>
    private double Cost(IntegerGraph graph, CostReport report) => _cfg.Metric switch
    {
        CostMetric.Lut => LutEstimate(graph, _cfg.Io, _cfg.Reuse),
        CostMetric.Bits => report.Total.ParameterBits,
        CostMetric.Energy => report.Total.Energy,
        CostMetric.Ebops => report.Total.Ebops,
        CostMetric.Bops => report.Total.Bops,
        _ => throw new System.Diagnostics.UnreachableException(),
    };

    /// <summary>The resource model's Xilinx LUT estimate of <paramref name="graph"/>'s design with io
    /// <paramref name="io"/> (parallel, stream or auto) and every dense layer folded by <paramref name="reuse"/>.</summary>
    internal static long LutEstimate(IntegerGraph graph, string io, int reuse) =>
        Hardware.ResourceModel.Estimate(graph, Hardware.SynthesisTarget.Xilinx, new Hardware.HardwareOptions(
            Io: Hardware.HardwareIoChoice.Choose(io, graph).Io, Reuse: reuse > 1 ? Hardware.ReusePlan.All(reuse) : null)).Lut;

    /// <summary>The sampler's proposal unless a search trial (finished, failed or still running) already has that
    /// configuration: then it proposes again (50 tries), then uniform random draws look for an untried one (1000 tries);
    /// only a space with every configuration tried gets a repeat.</summary>
    internal static IReadOnlyDictionary<string, string> Untried(ISampler sampler, SearchSpace space, IReadOnlyList<Observation> history,
        IReadOnlyList<TrialRecord> all, Random rng)
    {
        static string Key(IEnumerable<KeyValuePair<string, string>> c) =>
            string.Join("\u0001", c.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key + "=" + kv.Value));
        var tried = all.Where(t => t.IsSearch).Select(t => Key(t.Choice)).ToHashSet(StringComparer.Ordinal);
        var first = sampler.Propose(space, history, rng);
        if (!tried.Contains(Key(first))) return first;
        for (int i = 0; i < 50; i++)
        {
            var again = sampler.Propose(space, history, rng);
            if (!tried.Contains(Key(again))) return again;
        }
        var random = new RandomSampler();
        for (int i = 0; i < 1000; i++)
        {
            var draw = random.Propose(space, history, rng);
            if (!tried.Contains(Key(draw))) return draw;
        }
        return first;
    }

    /// <summary>The finished search trials with a score (baselines and failed trials left out).</summary>
    private static IEnumerable<TrialRecord> Scored(IEnumerable<TrialRecord> trials) =>
        trials.Where(t => t.IsDone && t.Score is not null && t.IsSearch);

    /// <summary>What the sampler learns from: every scored search trial.</summary>
    private static List<Observation> Finished(IReadOnlyList<TrialRecord> all) =>
        Scored(all).Select(t => new Observation(t.Choice, t.Score!.Value)).ToList();

    /// <summary>What the sampler learns from under Hyperband: each configuration once, at the highest rung it finished
    /// (its longest training).</summary>
    private static List<Observation> History(IReadOnlyList<TrialRecord> all) =>
        Scored(all)
            .GroupBy(t => JsonSerializer.Serialize(t.Choice.OrderBy(kv => kv.Key, StringComparer.Ordinal)))
            .Select(g => g.OrderByDescending(t => t.Rung).First())
            .OrderBy(t => t.Number)
            .Select(t => new Observation(t.Choice, t.Score!.Value)).ToList();

    private static TrialRecord? BestOf(IEnumerable<TrialRecord> trials) =>
        Scored(trials).OrderByDescending(t => t.Score).FirstOrDefault();

    private sealed record Outcome(TrialState State, double? Accuracy, double? Cost, double? Score, string? Metrics, string? Model, string? Error);

    /// <summary>Puts back the space's quantizer for every part the bitwidths section leaves out (set to false there).</summary>
    private static void KeepUnlearned(Model model, BitwidthsConfig bw, LayerQuantizers?[] chosen, FakeQuantizer? input)
    {
        if (bw.Input is null) model.InputQuantizer = input;
        for (int i = 0; i < model.Nodes.Count; i++)
        {
            var layer = model.Nodes[i].Layer;
            if (layer.Quantizers is not { } q || chosen[i] is not { } c) continue;
            layer.Quantizers = new LayerQuantizers(bw.Kernel is null ? c.Kernel : q.Kernel, bw.Bias is null ? c.Bias : q.Bias,
                bw.Activation is null ? c.Activation : q.Activation);
        }
    }

    /// <summary>The memory a trial may take (a test seam; default: what this process may still use).</summary>
    internal long? MemoryAvailable { get; init; }

    private Outcome RunTrial(TrialRecord trial, StudyStore store, Action<string>? log)
    {
        var model = BaseModel(trial.Choice);
        _space.Apply(model, trial.Choice);
        // A trial's widths (space.widths) set its size: one that cannot fit fails with the number, and the search goes on.
        try
        {
            if (Training.TrainingMemory.Estimate(model, _cfg.Train, _data.Train.Count).Check($"trial {trial.Number}", MemoryAvailable ?? Training.TrainingMemory.Available()) is { } warning)
                log?.Invoke(warning);
        }
        catch (HetQException e)
        {
            return new Outcome(TrialState.Failed, null, null, null, null, null, e.Message);
        }
        int? hyperbandEpochs = null, totalEpochs = null;
        if (_cfg.Hyperband is { } hb && trial.IsSearch)
        {
            var all = store.Trials();
            hyperbandEpochs = hb.EpochsToTrain(trial, all);
            totalEpochs = hb.Epochs(trial.Rung);
            if (trial.Parent is { } p)
            {
                var parent = all.First(t => t.Number == p);
                if (parent.Model is not { } parentDir || !Directory.Exists(parentDir))
                    throw new HetQException($"trial {trial.Number} continues trial {p}, whose model directory '{parent.Model}' is missing");
                Training.TrainConfig.CopyWeights(ModelIO.Load(parentDir).Model, model, $"trial {p}'s model {parentDir}");
            }
        }
        var t = _cfg.Train;
        var loss = Loss.Create(t.LossSpec);
        var optimizer = Optimizer.Create(t.OptimizerSpec);
        if (_cfg.LearningRate is { } lr) optimizer.LearningRate = lr;
        int epochs = hyperbandEpochs ?? _cfg.Baselines.FirstOrDefault(b => trial.Kind == TrialKind.Baseline && b.Name == trial.Baseline)?.Epochs ?? _cfg.Epochs;
        var options = new TrainOptions(Math.Max(1, epochs), t.BatchSize, Numerics.Seeds.Derive(t.Seed, trial.Number), t.Threads, t.ClipNorm, t.ClipValue, Schedule.Create(null));
        double valAcc, testAcc, valMetric, testMetric;
        // Learned widths on top of the space's choices (search trials only: the baselines stay uniform).
        // The penalty's strength is the trial's choice where the space searches it (space.beta, space.target_ebops).
        var bitwidths = _cfg.Learned && trial.IsSearch && _cfg.Train.Bitwidths is { } bw ? PenaltyDimensions.Apply(bw, _space.Dimensions, trial.Choice) : null;
        var quantizers = bitwidths is null ? null : model.Nodes.Select(n => n.Layer.Quantizers).ToArray();
        var inputQuantizer = model.InputQuantizer;
        bitwidths?.Apply(model);
        if (bitwidths is not null) KeepUnlearned(model, bitwidths, quantizers!, inputQuantizer);
        using (var trainer = new Trainer(model, loss, optimizer, options))
        {
            if (bitwidths is not null) trainer.Penalty = new EbopsPenalty(model, bitwidths);
            if (epochs > 0) trainer.Fit(_data.Train, null);
            var val = _data.Validation.Count > 0 ? _data.Validation : _data.Test;
            valMetric = Measure(_cfg.Task, trainer.Predict(val), model, val);
            testMetric = Measure(_cfg.Task, trainer.Predict(_data.Test), model, _data.Test);
            valAcc = _quality.Normalized(valMetric);
            testAcc = _quality.Normalized(testMetric);
        }
        string dir = Path.GetFullPath(Path.Combine(_cfg.Output, "trials", $"{trial.Number:D4}"));
        ModelIO.Save(model, new ModelMetadata($"{_cfg.Name}-trial-{trial.Number}", _data.Train.NumClasses, _data.Train.ClassNames, loss.Name, null, null, null, _cfg.Task), dir);
        var freeze = Freezer.Freeze(model, $"{_cfg.Name}-{trial.Number}");
        if (freeze.Graph is not null) freeze = freeze with { Graph = ReconstructionError.ForTask(freeze.Graph, _cfg.Task) };
        if (freeze.Graph is null)
            return new Outcome(TrialState.Failed, valAcc, null, null, JsonSerializer.Serialize(new { val_accuracy = valAcc, test_accuracy = testAcc }), dir,
                "not exactly representable: " + string.Join("; ", freeze.Problems));
        freeze.Graph.Save(Path.Combine(dir, "graph.json"));
        var report = CostModel.Estimate(freeze.Graph);
        double cost = Cost(freeze.Graph, report);
        double score = _cfg.Objective == ObjectiveKind.Floor
            ? new FloorObjective(_cfg.Forgiving, _quality.Floor(_cfg.MaxDrop)).Score(valAcc, _reference, cost)
            : _cfg.Forgiving.Score(valAcc, _reference, cost);
        var values = new Dictionary<string, object>
        {
            ["val_accuracy"] = valAcc,
            ["test_accuracy"] = testAcc,
        };
        if (_cfg.Task.Kind != TaskKind.Classification)
        {
            // val_accuracy and test_accuracy hold the quality the search ranks by; the metric itself is named.
            values["val_" + _cfg.Task.MetricName] = valMetric;
            values["test_" + _cfg.Task.MetricName] = testMetric;
        }
        values["epochs"] = totalEpochs ?? epochs;
        values["bits"] = report.Metric("bits");
        values["ebops"] = report.Metric("ebops");
        values["bops"] = report.Metric("bops");
        values["energy"] = report.Metric("energy");
        var metrics = JsonSerializer.Serialize(values);
        return new Outcome(TrialState.Done, valAcc, cost, score, metrics, dir, null);
    }

    /// <summary>The task's metric of outputs of <paramref name="data"/>.</summary>
    private static double Measure(ModelTask task, float[] outputs, Model model, Dataset data)
    {
        var scores = TaskMetrics.Measure(task, TaskMetrics.Doubles(outputs), Tensor.Size(model.OutputShape), data);
        return scores.Value(task.Metric)
            ?? throw new HetQException($"{data.Name}: the search metric {task.MetricName} cannot be measured on it (an AUC needs both classes, e.g. data.anomaly_classes)");
    }

    private SearchResult Finish(IReadOnlyList<TrialRecord> trials, double seconds, Action<string>? log)
    {
        var done = trials.Where(t => t.IsDone && t.Cost is not null).ToList();
        var best = _cfg.Objective == ObjectiveKind.Pareto
            ? Pareto.Front(done.Where(t => t.IsSearch), t => t.Accuracy!.Value, t => t.Cost!.Value).LastOrDefault()
            : BestOf(trials);
        var front = Pareto.Front(done, t => t.Accuracy!.Value, t => t.Cost!.Value);
        string? bestDir = null, plot = null, report = null;
        // Several workers may finish together and write the same files: the last one wins, none fails.
        try
        {
            if (best?.Model is { } m && Directory.Exists(m))
            {
                bestDir = Path.GetFullPath(Path.Combine(_cfg.Output, "best"));
                CopyDirectory(m, bestDir);
            }
            if (done.Count > 0)
            {
                string png = Path.GetFullPath(Path.Combine(_cfg.Output, "pareto.png"));
                string tmp = png + $".tmp-{Environment.ProcessId}.png";
                if (Plotting.TryDraw(png, w => w.Study(tmp, done, front, best, _cfg.Metric, $"{_cfg.Name}: validation accuracy against {_cfg.Metric.Name()}", _floatAccuracy), log))
                {
                    File.Move(tmp, png, overwrite: true);
                    plot = png;
                }
            }
            report = Path.GetFullPath(Path.Combine(_cfg.Output, SearchReport.FileName));
            Directory.CreateDirectory(Path.GetDirectoryName(report)!);
            Files.SafeOutput.WriteText(report, SearchReport.Markdown(_cfg,
                new SearchResult(trials, best, front, _reference, _cfg.Metric, bestDir, plot, seconds, _floatAccuracy)), "search report");
        }
        catch (IOException)
        {
            // another worker is writing the same result files at this moment
        }
        return new SearchResult(trials, best, front, _reference, _cfg.Metric, bestDir, plot, seconds, _floatAccuracy, report);
    }

    /// <summary>Copies a model directory by an atomic swap: <paramref name="to"/> is replaced only when it is a HetQ model.</summary>
    private static void CopyDirectory(string from, string to) =>
        Files.SafeOutput.ReplaceDirectory(to, Files.ArtefactKind.Model, tmp =>
        {
            foreach (var f in Directory.GetFiles(from)) File.Copy(f, Path.Combine(tmp, Path.GetFileName(f)));
        }, "best model");
}
