using System.Globalization;
using System.Text;
using System.Text.Json;

namespace HetQ.Search;

/// <summary>The Markdown report `hetq search` writes to OUTPUT/report.md: the study, the chosen models with their test
/// accuracy beside the validation accuracy they were chosen on, the Pareto front, every trial, and the plot.</summary>
public static class SearchReport
{
    /// <summary>The file name of the report in the search's output directory.</summary>
    public const string FileName = "report.md";

    /// <summary>The report's Markdown text for the result <paramref name="r"/> of the search <paramref name="cfg"/>.</summary>
    public static string Markdown(SearchConfig cfg, SearchResult r)
    {
        bool classification = cfg.Task.Kind == Nn.TaskKind.Classification;
        string quality = classification ? "accuracy" : $"{cfg.Task.MetricName} quality";
        string metric = r.Metric.Name();
        var sb = new StringBuilder();
        void Line(string s = "") => sb.Append(s).Append('\n');
        Line($"# Search {Cell(cfg.Name)}");
        Line();
        var done = r.Trials.Count(t => t.IsDone);
        var failed = r.Trials.Count(t => t.State == TrialState.Failed);
        Line(Invariant($"{r.Trials.Count} trials ({done} done, {failed} failed) in {r.Seconds:F0} s; strategy {cfg.Strategy.Name()}, objective {cfg.Objective.Name()}, ")
                       + Invariant($"cost {metric}; study `{Cell(cfg.Study)}`; configuration `{Cell(Path.GetFullPath(cfg.Source))}`."));
        Line(Invariant($"Float model: validation {quality} {Pct(r.FloatAccuracy)}. Reference cost (the same model in int8 with int32 accumulators): {r.ReferenceCost:N0} {metric}."));
        if (!classification)
            Line($"The {quality} is the metric itself when larger is better, else float value / trial value; `test_{cfg.Task.MetricName}` is in each trial's metrics.");
        Line("Models are chosen on the validation part; the test part shows how the choice holds on data it was not chosen on.");
        Line();

        Line("## Chosen models");
        Line();
        Line($"| choice | trial | validation {quality} | test {quality} | {metric} | x reference | model |");
        Line("|---|---:|---:|---:|---:|---:|---|");
        var chosen = new List<(string Why, TrialRecord T)>();
        if (r.Best is { } best) chosen.Add(("best score", best));
        var front = r.Pareto.Where(t => t.IsSearch).ToList();
        if (front.Where(t => t.Accuracy >= r.FloatAccuracy - 0.01).OrderBy(t => t.Cost).FirstOrDefault() is { } within)
            chosen.Add(("cheapest searched within 1 validation point of float", within));
        if (front.OrderByDescending(t => t.Accuracy).ThenBy(t => t.Cost).FirstOrDefault() is { } top)
            chosen.Add(("most accurate searched", top));
        foreach (var b in r.Trials.Where(t => t.Kind == TrialKind.Baseline && t.IsDone)) chosen.Add(($"baseline {b.Baseline}", b));
        foreach (var (why, t) in chosen)
            Line(Invariant($"| {Cell(why)} | {t.Number} | {Pct(t.Accuracy)} | {Pct(Test(t))} | {Num(t.Cost)} | {Factor(r.ReferenceCost, t.Cost)} | {(t.Model is { } m ? $"`{Cell(m)}`" : "-")} |"));
        if (r.BestModel is { } bm) Line($"\nThe best-scoring model is copied to `{Cell(bm)}`.");
        Line();

        Line($"## Pareto front (validation {quality} against {metric})");
        Line();
        Line($"| trial | kind | validation {quality} | test {quality} | {metric} | quantizers |");
        Line("|---:|---|---:|---:|---:|---|");
        foreach (var t in r.Pareto.OrderBy(t => t.Cost))
            Line(Invariant($"| {t.Number} | {Cell(Kind(t))} | {Pct(t.Accuracy)} | {Pct(Test(t))} | {Num(t.Cost)} | {Cell(Choice(t))} |"));
        Line();
        if (r.Plot is not null)
        {
            Line($"![validation {quality} against {metric}, log scale]({Path.GetFileName(r.Plot)})");
            Line();
        }

        Line("## Trials");
        Line();
        Line($"| trial | kind | state | validation {quality} | test {quality} | {metric} | score | seconds | quantizers |");
        Line("|---:|---|---|---:|---:|---:|---:|---:|---|");
        foreach (var t in r.Trials.OrderBy(t => t.Number))
            Line(Invariant($"| {t.Number} | {Cell(Kind(t))} | {t.State.Name()}{(t.Error is { } e ? ": " + Cell(e) : "")} | {Pct(t.Accuracy)} | {Pct(Test(t))} | {Num(t.Cost)} | ")
                           + Invariant($"{(t.Score is { } s ? s.ToString("F4", CultureInfo.InvariantCulture) : "-")} | {(t.Seconds is { } sec ? sec.ToString("F1", CultureInfo.InvariantCulture) : "-")} | {Cell(Choice(t))} |"));
        return sb.ToString();
    }

    /// <summary>The test accuracy (the search quality on the test part) a trial recorded, if any.</summary>
    internal static double? Test(TrialRecord t)
    {
        if (t.Metrics is null) return null;
        using var doc = JsonDocument.Parse(t.Metrics);
        return doc.RootElement.TryGetProperty("test_accuracy", out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;
    }

    private static string Kind(TrialRecord t) =>
        t.Parent is { } parent ? $"{t.KindName} r{t.Rung}<#{parent}" : t.Rung > 0 ? $"{t.KindName} r{t.Rung}" : t.KindName;

    private static string Choice(TrialRecord t) => string.Join(", ", t.Choice.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}"));

    private static string Pct(double? v) => v is { } x ? (100 * x).ToString("F2", CultureInfo.InvariantCulture) + " %" : "-";

    private static string Num(double? v) => v is { } x ? x.ToString("N0", CultureInfo.InvariantCulture) : "-";

    private static string Factor(double reference, double? cost) =>
        cost is > 0 && reference > 0 ? (cost.Value / reference).ToString("0.###", CultureInfo.InvariantCulture) : "-";

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    /// <summary>Text safe in a Markdown table cell: one line, no pipes, printable.</summary>
    private static string Cell(string s) =>
        Files.SafeOutput.Printable(s.Replace("\r", " ", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal)).Replace("|", "\\|", StringComparison.Ordinal);
}
