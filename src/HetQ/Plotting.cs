using HetQ.Search;
using HetQ.Training;

namespace HetQ;

/// <summary>The PNG plots HetQ writes, drawn by the HetQ.Plots package (ScottPlot and its SkiaSharp natives stay out of the
/// core): a study's accuracy against cost, a learned-width Pareto front, the main job's accuracy against LUTs.</summary>
internal interface IPlotWriter
{
    void Study(string file, IReadOnlyList<TrialRecord> trials, IReadOnlyList<TrialRecord> front, TrialRecord? best, CostMetric metric,
        string title, double? floatAccuracy);

    void LearnedFront(string file, IReadOnlyList<(int Epoch, double Val, long Ebops)> epochs, IReadOnlyList<ParetoPoint> front,
        IReadOnlyList<BaselinePoint> baselines, double? floatAccuracy, string title, string metric);

    void Luts(string file, IReadOnlyList<(string Name, long Luts, double TestAccuracy)> models, double floatTestAccuracy);
}

/// <summary>The plot writer a program has wired up (HetQ.Plots.PngPlots.Register(); the hetq command does). Without one,
/// a job writes no plot and says so in one line.</summary>
internal static class Plotting
{
    private static volatile IPlotWriter? s_writer;

    internal static void Register(IPlotWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        s_writer = writer;
    }

    /// <summary>Draws <paramref name="file"/> with the registered writer and returns true; without one, logs one line
    /// naming the file and the package to add and returns false.</summary>
    internal static bool TryDraw(string file, Action<IPlotWriter> draw, Action<string>? log) => TryDraw(s_writer, file, draw, log);

    internal static bool TryDraw(IPlotWriter? writer, string file, Action<IPlotWriter> draw, Action<string>? log)
    {
        if (writer is null)
        {
            log?.Invoke(Missing(file));
            return false;
        }
        draw(writer);
        return true;
    }

    internal static string Missing(string file) =>
        $"{file}: not written: plots need the HetQ.Plots package (reference it and call HetQ.Plots.PngPlots.Register() once; the hetq command does)";
}
