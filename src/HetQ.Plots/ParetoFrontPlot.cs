using HetQ.Training;

namespace HetQ.Plots;

/// <summary>The PNG of a learned-width run: every epoch, the Pareto front, uniform baselines and the float model's
/// validation accuracy, EBOPs on a log axis.</summary>
internal static class ParetoFrontPlot
{
    internal static void Write(string file, IReadOnlyList<(int Epoch, double Val, long Ebops)> epochs, IReadOnlyList<ParetoPoint> front,
        IReadOnlyList<BaselinePoint> baselines, double? floatAccuracy, string title, string metric = "accuracy")
    {
        // Accuracy in percent; another task's metric (auc, mse...) as it is.
        double k = metric == "accuracy" ? 100 : 1;
        var plt = new ScottPlot.Plot();
        static double X(long ebops) => Math.Log10(Math.Max(1, ebops));
        if (floatAccuracy is { } fa)
        {
            var line = plt.Add.HorizontalLine(k * fa);
            line.LegendText = k == 100 ? $"float model ({100 * fa:F2} %)" : $"float model ({fa:G4})";
            line.LinePattern = ScottPlot.LinePattern.Dashed;
        }
        if (epochs.Count > 0)
        {
            var s = plt.Add.ScatterPoints(epochs.Select(e => X(e.Ebops)).ToArray(), epochs.Select(e => k * e.Val).ToArray());
            s.LegendText = "epochs";
            s.MarkerSize = 5;
        }
        if (front.Count > 0)
        {
            var sorted = front.OrderBy(p => p.Ebops).ToList();
            var f = plt.Add.Scatter(sorted.Select(p => X(p.Ebops)).ToArray(), sorted.Select(p => k * p.ValAccuracy).ToArray());
            f.LegendText = "Pareto front (learned widths)";
            f.LineWidth = 2;
            f.MarkerSize = 8;
        }
        foreach (var b in baselines)
        {
            var m = plt.Add.Marker(X(b.Ebops), k * b.ValAccuracy, ScottPlot.MarkerShape.FilledDiamond, 12);
            m.LegendText = b.Label;
        }
        plt.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            IntegerTicksOnly = true,
            LabelFormatter = v => Math.Pow(10, v).ToString("N0", System.Globalization.CultureInfo.InvariantCulture),
        };
        plt.Axes.Bottom.Label.Text = "EBOPs (log scale)";
        plt.Axes.Left.Label.Text = k == 100 ? "validation accuracy (%)" : $"validation {metric}";
        plt.Title(title);
        plt.ShowLegend(ScottPlot.Alignment.LowerRight);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(file))!);
        plt.SavePng(file, 900, 600);
    }
}
