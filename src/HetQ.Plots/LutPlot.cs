namespace HetQ.Plots;

/// <summary>The main job's test accuracy against Yosys LUTs (PNG): one marker per synthesized model and the float model's
/// test accuracy as a dashed line, LUTs on a log axis.</summary>
internal static class LutPlot
{
    internal static void Write(string file, IReadOnlyList<(string Name, long Luts, double TestAccuracy)> models, double floatTestAccuracy)
    {
        var plt = new ScottPlot.Plot();
        foreach (var (name, luts, accuracy) in models)
        {
            var m = plt.Add.Marker(ParetoPlot.X(luts), 100 * accuracy, ScottPlot.MarkerShape.FilledCircle, 10);
            m.LegendText = name;
        }
        var fl = plt.Add.HorizontalLine(100 * floatTestAccuracy);
        fl.LegendText = "float";
        fl.LinePattern = ScottPlot.LinePattern.Dashed;
        plt.Axes.Bottom.Label.Text = "LUTs (Yosys, log scale)";
        plt.Axes.Bottom.TickGenerator = ParetoPlot.LogTicks();
        plt.Axes.Left.Label.Text = "test accuracy (%)";
        plt.Title("accuracy against LUTs");
        plt.ShowLegend(ScottPlot.Alignment.LowerRight);
        plt.SavePng(file, 900, 600);
    }
}
