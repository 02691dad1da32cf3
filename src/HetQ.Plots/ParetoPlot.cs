using HetQ.Search;

namespace HetQ.Plots;

/// <summary>The accuracy-against-cost plot of a study (PNG): every trial, the Pareto front, baselines and the best trial marked;
/// the cost on a log axis (costs span orders of magnitude: on a linear axis every searched point sits in the left tenth).</summary>
internal static class ParetoPlot
{
    /// <summary>Where a cost sits on the plot's x axis: its decimal logarithm (a cost below 1 at 0).</summary>
    internal static double X(double cost) => Math.Log10(Math.Max(1, cost));

    /// <summary>Ticks at the powers of ten of <see cref="X"/>, labelled with the cost itself, with logarithmic minor ticks.</summary>
    internal static ScottPlot.TickGenerators.NumericAutomatic LogTicks() => new()
    {
        MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
        IntegerTicksOnly = true,
        LabelFormatter = v => Math.Pow(10, v).ToString("N0", System.Globalization.CultureInfo.InvariantCulture),
    };

    internal static void Write(string file, IReadOnlyList<TrialRecord> trials, IReadOnlyList<TrialRecord> front, TrialRecord? best, CostMetric metric, string title,
        double? floatAccuracy = null)
    {
        var plt = new ScottPlot.Plot();
        if (floatAccuracy is { } fa)
        {
            var line = plt.Add.HorizontalLine(100 * fa);
            line.LegendText = $"float model ({100 * fa:F1} %)";
            line.LinePattern = ScottPlot.LinePattern.Dashed;
        }
        var search = trials.Where(t => t.IsSearch).ToList();
        if (search.Count > 0)
        {
            var s = plt.Add.ScatterPoints(search.Select(t => X(t.Cost!.Value)).ToArray(), search.Select(t => 100 * t.Accuracy!.Value).ToArray());
            s.LegendText = "searched trials";
            s.MarkerSize = 6;
        }
        if (front.Count > 0)
        {
            var f = plt.Add.ScatterLine(front.Select(t => X(t.Cost!.Value)).ToArray(), front.Select(t => 100 * t.Accuracy!.Value).ToArray());
            f.LegendText = "Pareto front";
            f.LineWidth = 2;
            f.MarkerSize = 0;
        }
        foreach (var b in trials.Where(t => t.Kind == TrialKind.Baseline))
        {
            var m = plt.Add.Marker(X(b.Cost!.Value), 100 * b.Accuracy!.Value, ScottPlot.MarkerShape.FilledDiamond, 12);
            m.LegendText = b.Baseline ?? "";
        }
        if (best is not null)
        {
            var m = plt.Add.Marker(X(best.Cost!.Value), 100 * best.Accuracy!.Value, ScottPlot.MarkerShape.OpenCircle, 18);
            m.LegendText = $"best (trial {best.Number})";
        }
        plt.Axes.Bottom.TickGenerator = LogTicks();
        plt.Axes.Bottom.Label.Text = metric.Name() + (metric == CostMetric.Energy ? " (pJ)" : "") + " (log scale)";
        plt.Axes.Left.Label.Text = "validation accuracy (%)";
        plt.Title(title);
        plt.ShowLegend(ScottPlot.Alignment.LowerRight);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(file))!);
        plt.SavePng(file, 900, 600);
    }
}
