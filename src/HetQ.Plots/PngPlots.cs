using HetQ.Search;
using HetQ.Training;

namespace HetQ.Plots;

/// <summary>Wires HetQ's PNG plots (ScottPlot) into the core: after <see cref="Register"/>, a search writes its Pareto plot,
/// a learned-width run its front and the main job its LUT plot.</summary>
public static class PngPlots
{
    /// <summary>Registers the plot writer (idempotent).</summary>
    public static void Register() => Plotting.Register(new Writer());

    private sealed class Writer : IPlotWriter
    {
        public void Study(string file, IReadOnlyList<TrialRecord> trials, IReadOnlyList<TrialRecord> front, TrialRecord? best, CostMetric metric,
            string title, double? floatAccuracy) => ParetoPlot.Write(file, trials, front, best, metric, title, floatAccuracy);

        public void LearnedFront(string file, IReadOnlyList<(int Epoch, double Val, long Ebops)> epochs, IReadOnlyList<ParetoPoint> front,
            IReadOnlyList<BaselinePoint> baselines, double? floatAccuracy, string title, string metric) =>
            ParetoFrontPlot.Write(file, epochs, front, baselines, floatAccuracy, title, metric);

        public void Luts(string file, IReadOnlyList<(string Name, long Luts, double TestAccuracy)> models, double floatTestAccuracy) =>
            LutPlot.Write(file, models, floatTestAccuracy);
    }
}
