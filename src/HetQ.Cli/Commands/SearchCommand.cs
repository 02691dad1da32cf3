using System.CommandLine;
using System.Text.Json;
using HetQ.Search;

namespace HetQ.Cli.Commands;

/// <summary>`hetq search CONFIG.json [--worker] [--json]`.</summary>
internal static class SearchCommand
{
    public static Command Create()
    {
        var config = new Argument<string>("config") { Description = "search configuration (JSON): training config, space, objective, strategy, trials, study database" };
        var worker = new Option<bool>("--worker") { Description = "run as one of many workers sharing the study (PostgreSQL): claim trials until the study is complete, waiting for trials other workers run" };
        var json = new Option<bool>("--json") { Description = "progress to stderr; the last line on stdout is one JSON object: trials, best, pareto, plot, report" };
        var cmd = new Command("search", "Automatic heterogeneous quantization search: a quantizer per layer and parameter type, scored by accuracy and cost.")
        {
            config, worker, json,
        };
        cmd.SetAction((parse, cancel) =>
        {
            bool asJson = parse.GetValue(json);
            var progress = asJson ? Console.Error : Console.Out;
            var cfg = SearchConfig.Load(parse.GetValue(config)!);
            var job = new SearchJob(cfg, m => progress.WriteLine(m));
            string floatQuality = job.Quality.Task.Kind == Nn.TaskKind.Classification
                ? $"validation accuracy {job.FloatAccuracy:P2}"
                : $"validation {job.Quality.Task.MetricName} {job.Quality.FloatValue:G5} (val_acc below is the search quality: {(job.Quality.Task.HigherIsBetter ? "the metric" : "float / trial")})";
            progress.WriteLine($"float model: {floatQuality}; study {cfg.Study}; {Budget(cfg)}, {cfg.Baselines.Count} baselines");
            var r = job.Run(parse.GetValue(worker), p => progress.WriteLine(Format(p, cfg.Metric)), m => progress.WriteLine(m), cancel);
            if (asJson)
            {
                Console.WriteLine(CliJson.Serialize(new
                {
                    trials = r.Trials.Count,
                    done = r.Trials.Count(t => t.IsDone),
                    failed = r.Trials.Count(t => t.State == TrialState.Failed),
                    metric = r.Metric.Name(),
                    reference_cost = r.ReferenceCost,
                    float_accuracy = r.FloatAccuracy,
                    best = r.Best is null ? null : Describe(r.Best, r.BestModel),
                    pareto = r.Pareto.Select(t => Describe(t, t.Model)).ToList(),
                    plot = r.Plot,
                    report = r.Report,
                    seconds = Math.Round(r.Seconds, 1),
                }));
                return Task.FromResult(0);
            }
            Console.WriteLine();
            StudyCommand.PrintTable(r.Trials, r.Metric.Name(), top: 10);
            if (r.Best is { } b) Console.WriteLine($"best: trial {b.Number}, validation accuracy {b.Accuracy:P2}, {r.Metric.Name()} {b.Cost:N0} (reference {r.ReferenceCost:N0}); model {r.BestModel}");
            Console.WriteLine($"Pareto front: {r.Pareto.Count} trials; plot {r.Plot}");
            if (r.Report is not null) Console.WriteLine($"report: {r.Report}");
            return Task.FromResult(0);
        });
        return cmd;
    }

    internal static object Describe(TrialRecord t, string? model) => new
    {
        trial = t.Number,
        kind = t.KindName,
        rung = t.Rung,
        parent = t.Parent,
        accuracy = t.Accuracy,
        cost = t.Cost,
        score = t.Score,
        quantizers = t.Choice,
        metrics = t.Metrics is null ? null : JsonSerializer.Deserialize<Dictionary<string, double>>(t.Metrics),
        model,
    };

    private static string Budget(SearchConfig cfg) => cfg.Hyperband is { } h
        ? $"{cfg.Trials} configurations, hyperband ({cfg.Sampler.Name()}) epochs {string.Join("/", Enumerable.Range(0, h.MaxRung + 1).Select(h.Epochs))}, eta {h.Eta}, {h.Brackets} bracket(s)"
        : $"{cfg.Trials} trials of {cfg.Epochs} epochs ({cfg.Strategy.Name()})";

    private static string Format(SearchProgress p, CostMetric metric)
    {
        var t = p.Trial;
        string what = t.IsDone ? $"val_acc {t.Accuracy:P2}  {metric.Name()} {t.Cost:N0}  score {t.Score:F4}" : $"{t.State.Name()}: {t.Error}";
        string best = p.Best is { } b ? $"best {b.Score:F4} (trial {b.Number})" : "best -";
        return $"trial {p.Done}/{p.Total} [#{t.Number} {t.KindName}{(t.Parent is { } parent ? $" rung {t.Rung} from #{parent}" : t.Rung > 0 ? $" rung {t.Rung}" : "")}] {what} | {best} | {p.SecondsPerTrial:F0} s/trial, ETA {p.EtaSeconds / 60:F1} min";
    }
}
