namespace HetQ.Search;

/// <summary>AutoQKeras's forgiving factor: score = accuracy · (1 + Δ), Δ = δ·ln(ref/trial)/ln(rate) with δ = δp
/// (percent) when the trial costs less than the reference and δn otherwise; the reference is multiplied by
/// <c>stress</c> to push towards smaller models (forgiving_factor.py, autoqkeras_internal.py).</summary>
public sealed record ForgivingFactor(double DeltaP = 8, double DeltaN = 8, double Rate = 2, double Stress = 1)
{
    /// <remarks>A cost below 1 (a model whose weights all round to zero costs 0 EBOPs) counts as 1, so its score stays
    /// finite and is decided by its accuracy instead of an infinite reward.</remarks>
    public double Delta(double reference, double trial)
    {
        trial = Math.Max(trial, 1);
        double r = Math.Max(reference * Stress, 1);
        double d = (trial < r ? DeltaP : DeltaN) / 100.0;
        return d * (Math.Log(r / trial) / Math.Log(Rate));
    }

    public double Score(double accuracy, double reference, double trial) => accuracy * (1 + Delta(reference, trial));
}

/// <summary>The "floor" objective: the cheapest model whose accuracy is at least <see cref="Floor"/>. A trial at or
/// above the floor scores 2 + Δ (Δ the forgiving factor's, so cheaper is better); one below it scores its forgiving
/// score (at most about 1.3 for the usual deltas), so every trial above the floor outranks every trial below it,
/// and below it accuracy and cost still guide the sampler and the promotions.</summary>
public sealed record FloorObjective(ForgivingFactor Forgiving, double Floor)
{
    public bool Meets(double accuracy) => accuracy >= Floor;

    public double Score(double accuracy, double reference, double trial) =>
        Meets(accuracy) ? 2 + Forgiving.Delta(reference, trial) : Forgiving.Score(accuracy, reference, trial);
}

/// <summary>The non-dominated trials: no other trial has at least the accuracy at no more cost, with one strictly better.</summary>
public static class Pareto
{
    public static List<T> Front<T>(IEnumerable<T> items, Func<T, double> accuracy, Func<T, double> cost)
    {
        var list = items.ToList();
        return list.Where(a => !list.Any(b => !ReferenceEquals(a, b)
                && accuracy(b) >= accuracy(a) && cost(b) <= cost(a) && (accuracy(b) > accuracy(a) || cost(b) < cost(a))))
            .OrderBy(cost).ToList();
    }
}

/// <summary>What a search ranks trials by for its task: the task's metric made "larger is better" and comparable with
/// the float model's: the metric itself for accuracy, AUC and signal efficiency, float value / trial value for MSE and
/// MAE (1 at the float model's error, smaller for a larger error). The floor objective's max_drop is in points of the
/// metric for the former (1 = 0.01 of AUC) and in percent of the float model's error for the latter.</summary>
public sealed record SearchQuality(Nn.ModelTask Task, double FloatValue)
{
    public double Normalized(double value) =>
        Task.HigherIsBetter ? value : value <= 0 ? (FloatValue <= 0 ? 1 : double.MaxValue) : FloatValue / value;

    /// <summary>The normalized floor of the "floor" objective for a drop of <paramref name="maxDrop"/>.</summary>
    public double Floor(double maxDrop) =>
        Task.HigherIsBetter ? FloatValue - maxDrop / 100 : 1 / (1 + maxDrop / 100);
}
