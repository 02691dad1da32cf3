using HetQ.Data;
using HetQ.Emulation;
using HetQ.Graph;
using HetQ.Nn;
using HetQ.Training;

namespace HetQ.Pipeline;

/// <summary>A model against the float model on the same validation samples (a paired comparison): how many samples
/// only the model classifies right (<see cref="Won"/>) and how many only float does (<see cref="Lost"/>).</summary>
public sealed record PairedGap(int Samples, int Won, int Lost)
{
    /// <summary>The model's validation accuracy minus float's (a fraction).</summary>
    public double Difference => Samples == 0 ? 0 : (double)(Won - Lost) / Samples;

    /// <summary>The standard error of <see cref="Difference"/>: the spread of the per-sample differences (+1, 0, -1)
    /// over the square root of the sample count; a model that disagrees with float on many samples has a larger one.</summary>
    public double StandardError => Samples == 0 ? double.PositiveInfinity
        : Math.Sqrt(Math.Max(0, Won + Lost - (double)(Won - Lost) * (Won - Lost) / Samples)) / Samples;

    /// <summary>One standard error below <see cref="Difference"/>: the model is accepted when even this is within the margin.</summary>
    public double LowerBound => Difference - StandardError;

    /// <summary>True when <see cref="LowerBound"/> is no more than <paramref name="points"/> accuracy points below float.</summary>
    public bool Within(double points) => LowerBound >= -points / 100 - 1e-12;

    public string Describe() => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"{100 * Difference:+0.00;-0.00;0.00} ± {100 * StandardError:F2} points against float on {Samples} validation samples ({Won} won, {Lost} lost)");
}

/// <summary>The main job's selection rule, on validation data only: the cheapest candidate whose paired validation
/// accuracy against float, less one standard error, is within the margin. Requiring the margin with one standard
/// error to spare keeps a candidate that reached the margin by a few lucky validation samples out.</summary>
public static class Selection
{
    /// <summary>The margin below float, in accuracy points, that the headline targets.</summary>
    public const double MarginPoints = 1.0;

    /// <summary>Per validation sample, whether the float model (no quantization) classifies it right.</summary>
    public static bool[] FloatCorrect(Model model, Dataset data)
    {
        var m = model.WithoutQuantization();
        int k = Tensor.Size(m.OutputShape);
        var y = Inference.Predict(m, data);
        bool logits = !EvalJob.OutputIsProbability(model);
        return Enumerable.Range(0, data.Count).Select(i => Metrics.Predict(y.AsSpan(i * k, k), logits) == data.Labels[i]).ToArray();
    }

    /// <summary>Per sample, whether the frozen integer graph (the emulator, what the chip computes) classifies it right.</summary>
    public static bool[] EmulatedCorrect(Model model, string name, Dataset data)
    {
        var freeze = Freezer.Freeze(model, name);
        var graph = freeze.Graph ?? throw new HetQException($"{name}: not exactly representable in fixed point ({string.Join("; ", freeze.Problems)})");
        bool logits = !EvalJob.OutputIsProbability(model) || freeze.LogitsNode != freeze.Model.Nodes.Count - 1;
        var emu = new Emulator(graph);
        var values = emu.Values(emu.Run(data.Features));
        int k = emu.OutputSize;
        return Enumerable.Range(0, data.Count).Select(i => Metrics.Predict(values.AsSpan(i * k, k), logits) == data.Labels[i]).ToArray();
    }

    public static PairedGap Compare(bool[] model, bool[] reference)
    {
        if (model.Length != reference.Length) throw new ArgumentException("the two models were scored on different samples", nameof(model));
        int won = 0, lost = 0;
        for (int i = 0; i < model.Length; i++)
        {
            if (model[i] && !reference[i]) won++;
            else if (!model[i] && reference[i]) lost++;
        }
        return new PairedGap(model.Length, won, lost);
    }

    /// <summary>The cheapest of <paramref name="candidates"/> within the margin, else the one with the highest lower bound.</summary>
    public static (T Pick, PairedGap Gap, bool Within)? Cheapest<T>(IEnumerable<(T Item, double Cost, PairedGap Gap)> candidates)
    {
        var all = candidates.ToList();
        if (all.Count == 0) return null;
        var within = all.Where(c => c.Gap.Within(MarginPoints)).OrderBy(c => c.Cost).ToList();
        if (within.Count > 0) return (within[0].Item, within[0].Gap, true);
        var best = all.OrderByDescending(c => c.Gap.LowerBound).ThenBy(c => c.Cost).First();
        return (best.Item, best.Gap, false);
    }
}
