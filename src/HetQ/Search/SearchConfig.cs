using System.Text.Json;
using HetQ.Nn;
using HetQ.Quantization;
using HetQ.Training;

namespace HetQ.Search;

/// <summary>A uniform configuration trained as a baseline next to the searched ones.</summary>
public sealed record Baseline(string Name, string Kernel, string? Bias, string? Activation, int? Epochs = null);

/// <summary>A search configuration (see the README's "Search configuration").</summary>
public sealed class SearchConfig
{
    public required string Source { get; init; }
    public required string Name { get; init; }
    public required TrainConfig Train { get; init; }
    public string? InitialWeights { get; init; }
    public IQuantizer? Input { get; init; }
    public required int Trials { get; init; }
    public required int Epochs { get; init; }
    /// <summary>Learning rate of the trials' fine-tuning (default: the training configuration's).</summary>
    public double? LearningRate { get; init; }
    public required SearchStrategy Strategy { get; init; }
    /// <summary>Strategy "hyperband": its budgets; <see cref="Strategy"/> then names the sampler of new configurations in <see cref="Sampler"/>.</summary>
    public Hyperband? Hyperband { get; init; }
    /// <summary>Search trials train with the training config's learned bit widths (its <c>bitwidths</c> section) on top of
    /// the space's choices: the parts that section learns replace the quantizers the space picked, the rest (layer
    /// widths, the input or any part set to false there) stay searched; <c>space.beta</c> or <c>space.target_ebops</c>
    /// searches the penalty's strength (<see cref="PenaltyDimensions"/>).</summary>
    public bool Learned { get; init; }
    /// <summary>The sampler of new configurations under Hyperband (tpe or random); otherwise the strategy itself.</summary>
    public SearchStrategy Sampler { get; init; } = SearchStrategy.Tpe;
    public required int StartupTrials { get; init; }
    public required int Seed { get; init; }
    public required JsonSpec? Space { get; init; }
    public required ObjectiveKind Objective { get; init; }
    public required CostMetric Metric { get; init; }
    /// <summary>The design the <c>lut</c> metric estimates: its io (parallel, stream or auto, as <c>hw write --io</c>)
    /// and the dense layers' reuse factor (as <c>--reuse</c>).</summary>
    public string Io { get; init; } = "auto";
    public int Reuse { get; init; } = 1;
    /// <summary>The task and the quality metric trials are judged by: the training configuration's task, with the
    /// objective's "quality" (e.g. signal_efficiency) when given.</summary>
    public ModelTask Task { get; init; } = ModelTask.Classification;
    public required ForgivingFactor Forgiving { get; init; }
    /// <summary>Objective "floor": the largest accuracy drop (in points) from the float model's validation accuracy that a trial may have.</summary>
    public double MaxDrop { get; init; } = 1;
    public required IReadOnlyList<Baseline> Baselines { get; init; }
    public required string Study { get; init; }
    public required string Output { get; init; }
    public double HeartbeatTimeout { get; init; } = 600;
    public required string Json { get; init; }


    public static SearchConfig Load(string file)
    {
        var s = JsonSpec.Load(file);
        string dir = Path.GetDirectoryName(Path.GetFullPath(file))!;
        string Resolve(string p) => Data.DataFile.Resolve(p, dir);
        string name = s.String("name") ?? Path.GetFileNameWithoutExtension(file);
        var train = TrainConfig.Load(Resolve(s.RequireString("train")));
        var strategy = s.ObjectOrType("strategy");
        string typeName = strategy?.String("type") ?? "tpe";
        var type = SearchNames.Parse<SearchStrategy>(typeName)
            ?? throw (strategy ?? s).Error("type", $"unknown strategy '{typeName}' (known: {SearchNames.Known<SearchStrategy>()})");
        int startup = strategy?.Int("startup_trials") ?? 8;
        int seed = strategy?.Int("seed") ?? 1;
        Hyperband? hyperband = null;
        var sampler = type;
        if (type == SearchStrategy.Hyperband)
        {
            hyperband = Search.Hyperband.Create(strategy!.Int("min_epochs", 1), strategy.Int("max_epochs", 9), strategy.Int("eta", 3), strategy.Int("brackets", 1),
                (key, what) => strategy.Error(key, what));
            string samplerName = strategy.String("sampler") ?? "tpe";
            sampler = SearchNames.Parse<SearchStrategy>(samplerName) is { } sm and (SearchStrategy.Tpe or SearchStrategy.Random)
                ? sm : throw strategy.Error("sampler", $"must be 'tpe' or 'random', given '{samplerName}'");
        }
        strategy?.RejectUnknown();
        var objective = s.ObjectOrType("objective");
        string objName = objective?.String("type") ?? "forgiving";
        var objType = SearchNames.Parse<ObjectiveKind>(objName)
            ?? throw objective!.Error("type", $"must be 'forgiving', 'pareto' or 'floor', given '{objName}'");
        double maxDrop = objective?.Double("max_drop") ?? 1;
        if (maxDrop < 0) throw objective!.Error("max_drop", $"must be 0 or more (accuracy points), given {maxDrop}");
        if (objType != ObjectiveKind.Floor && objective?.Has("max_drop") == true) throw objective.Error("max_drop", "applies only to the objective type 'floor'");
        string metricName = objective?.String("metric") ?? "ebops";
        var metric = SearchNames.Parse<CostMetric>(metricName)
            ?? throw objective!.Error("metric", $"unknown cost metric '{metricName}' (known: {SearchNames.Known<CostMetric>()})");
        var task = train.Task;
        if (objective?.String("quality") is { } quality)
        {
            int qi = Array.IndexOf(ModelTask.MetricNames, quality);
            if (qi < 0) throw objective.Error("quality", $"unknown metric '{quality}' (known: {string.Join(", ", ModelTask.MetricNames)})");
            // The task's own rules say which metrics fit it.
            var spec = JsonSpec.Parse(JsonSerializer.Serialize(new { type = ModelTask.KindNames[(int)task.Kind], metric = quality }), objective.Source);
            try
            {
                task = ModelTask.Parse(spec) with { Score = task.Score, BackgroundRate = task.BackgroundRate };
            }
            catch (HetQException)
            {
                throw objective.Error("quality", $"'{quality}' does not apply to the task '{ModelTask.KindNames[(int)task.Kind]}' of {train.Source}");
            }
        }
        var ff = new ForgivingFactor(objective?.Double("delta_p") ?? 8, objective?.Double("delta_n") ?? 8, objective?.Double("rate") ?? 2, objective?.Double("stress") ?? 1);
        string io = objective?.String("io") ?? "auto";
        if (!Hardware.HardwareIoChoice.Names.Contains(io)) throw objective!.Error("io", $"must be one of {string.Join(", ", Hardware.HardwareIoChoice.Names)}, given '{io}'");
        int reuse = objective?.Int("reuse", 1) ?? 1;
        if (reuse < 1) throw objective!.Error("reuse", $"must be 1 or more, given {reuse}");
        if (metric != CostMetric.Lut && (objective?.Has("io") == true || objective?.Has("reuse") == true))
            throw objective!.Error(objective.Has("io") ? "io" : "reuse", "applies only to the metric 'lut' (the design whose LUTs are estimated)");
        objective?.RejectUnknown();
        var baselines = s.Objects("baselines").Select(b =>
        {
            var bl = new Baseline(b.RequireString("name"), b.RequireString("kernel"), b.String("bias"), b.String("activation"), b.Int("epochs"));
            if (bl.Epochs is < 0) throw b.Error("epochs", "must be 0 (quantize after training, no fine-tuning) or more");
            foreach (var q in new[] { bl.Kernel, bl.Bias, bl.Activation }) if (q is not null) QuantizerParser.Parse(q);
            b.RejectUnknown();
            return bl;
        }).ToList();
        int trials = s.Int("trials", 20), epochs = s.Int("epochs", 2);
        if (trials <= 0) throw s.Error("trials", $"must be positive, given {trials}");
        if (epochs <= 0) throw s.Error("epochs", $"must be positive, given {epochs}");
        // every relative path in the config is relative to the config file; the default output is under the current directory
        string output = s.String("output") is { } o ? Resolve(o) : Path.Combine("runs", name);
        Files.SafeOutput.CheckDirectory(output, Files.ArtefactKind.Run, s.String("output") is null ? $"{file}: default output" : $"{file}: output");
        var cfg = new SearchConfig
        {
            Source = file,
            Name = name,
            Train = train,
            InitialWeights = s.String("initial_weights") is { } iw ? Resolve(iw) : null,
            Input = LayerConfig.Quantizer(s, "input"),
            Trials = trials,
            Epochs = epochs,
            LearningRate = s.Double("learning_rate"),
            Strategy = type,
            Hyperband = hyperband,
            Learned = s.Bool("learned", false),
            Sampler = sampler,
            StartupTrials = startup,
            Seed = seed,
            Space = s.Object("space"),
            Objective = objType,
            Metric = metric,
            Io = io,
            Reuse = reuse,
            Task = task,
            Forgiving = ff,
            MaxDrop = maxDrop,
            Baselines = baselines,
            Study = s.String("study") is { } st ? (StudyStore.IsFile(st) ? Resolve(st) : st) : Path.Combine(output, "study.sqlite"),
            Output = output,
            HeartbeatTimeout = s.Double("heartbeat_timeout", 600),
            Json = s.Element.GetRawText(),
        };
        s.RejectUnknown();
        if (cfg.Learned && train.Bitwidths is null)
            throw s.Error("learned", $"needs a 'bitwidths' section in the training configuration {train.Source}");
        if (cfg.Learned && hyperband is not null)
            throw s.Error("learned", "cannot be combined with the hyperband strategy yet (a promoted trial would have to continue its learned widths)");
        PenaltyDimensions.Check(cfg.Space, cfg.Learned, train.Bitwidths);
        return cfg;
    }
}
