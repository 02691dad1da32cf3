namespace HetQ.Search;

/// <summary>Where a trial is in its life; stored in the study as its lowercase name.</summary>
public enum TrialState
{
    /// <summary>Waiting for a worker.</summary>
    Queued,
    /// <summary>Claimed by a worker that heartbeats while it trains.</summary>
    Running,
    /// <summary>Finished with a score.</summary>
    Done,
    /// <summary>Finished without a score (its error says why).</summary>
    Failed,
}

/// <summary>What a trial is: a configuration the search proposed, or a uniform baseline of the configuration.</summary>
public enum TrialKind
{
    /// <summary>Proposed by the sampler (or promoted by Hyperband).</summary>
    Search,
    /// <summary>One of the configuration's baselines (its name in <see cref="TrialRecord.Baseline"/>).</summary>
    Baseline,
}

/// <summary>How the search proposes configurations.</summary>
public enum SearchStrategy
{
    /// <summary>Uniformly at random.</summary>
    Random,
    /// <summary>Tree-structured Parzen estimator.</summary>
    Tpe,
    /// <summary>Block by block (TPE within a block, the rest fixed to the best trial's choices).</summary>
    Blocks,
    /// <summary>Hyperband (ASHA) budgets, new configurations from its sampler.</summary>
    Hyperband,
}

/// <summary>How a trial is scored.</summary>
public enum ObjectiveKind
{
    /// <summary>AutoQKeras's forgiving factor: accuracy traded against cost relative to the reference.</summary>
    Forgiving,
    /// <summary>The forgiving score, the best trial chosen on the accuracy-cost Pareto front.</summary>
    Pareto,
    /// <summary>The cheapest model whose accuracy drop stays within a floor.</summary>
    Floor,
}

/// <summary>The cost a search minimises: a cost-model metric or the resource model's LUT estimate.</summary>
public enum CostMetric
{
    /// <summary>Effective bit operations (HGQ).</summary>
    Ebops,
    /// <summary>Parameter and activation bits.</summary>
    Bits,
    /// <summary>QTools energy (pJ).</summary>
    Energy,
    /// <summary>Bit operations.</summary>
    Bops,
    /// <summary>The resource model's Xilinx LUT estimate of the Verilog.</summary>
    Lut,
}

/// <summary>The configuration and study spelling of the search enums: the member's name in lower case.</summary>
internal static class SearchNames
{
    /// <summary>The lowercase name of <paramref name="value"/> ("tpe", "done", "ebops").</summary>
    public static string Name<T>(this T value) where T : struct, Enum => value.ToString().ToLowerInvariant();

    /// <summary>The member named <paramref name="name"/> (exactly its lowercase name), if any.</summary>
    public static T? Parse<T>(string name) where T : struct, Enum
    {
        foreach (var v in Enum.GetValues<T>())
            if (v.Name() == name) return v;
        return null;
    }

    /// <summary>Every member's lowercase name, for error messages.</summary>
    public static string Known<T>() where T : struct, Enum => string.Join(", ", Enum.GetValues<T>().Select(v => v.Name()));
}
