namespace HetQ.Search;

/// <summary>A finished trial as the samplers see it: its choices and its score (higher is better).</summary>
public sealed record Observation(IReadOnlyDictionary<string, string> Choice, double Score);

/// <summary>Proposes the next configuration from the finished ones.</summary>
public interface ISampler
{
    IReadOnlyDictionary<string, string> Propose(SearchSpace space, IReadOnlyList<Observation> history, Random rng);
}

/// <summary>Uniform random choices.</summary>
public sealed class RandomSampler : ISampler
{
    public IReadOnlyDictionary<string, string> Propose(SearchSpace space, IReadOnlyList<Observation> history, Random rng) =>
        space.Dimensions.ToDictionary(d => d.Name, d => d.Choices[rng.Next(d.Choices.Count)]);
}

/// <summary>Tree-structured Parzen estimator over categorical dimensions (Bergstra et al. 2011): after
/// <see cref="StartupTrials"/> random trials, the finished trials are split at the γ quantile of the score into
/// good and bad; per dimension, smoothed choice frequencies give l(x) (good) and g(x) (bad); of
/// <see cref="Candidates"/> draws from l, the one with the largest Π l/g is proposed.</summary>
public sealed class TpeSampler(int startupTrials = 10, double gamma = 0.25, int candidates = 24, double prior = 1.0) : ISampler
{
    public int StartupTrials { get; } = startupTrials;
    public int Candidates { get; } = candidates;

    public IReadOnlyDictionary<string, string> Propose(SearchSpace space, IReadOnlyList<Observation> history, Random rng)
    {
        if (history.Count < StartupTrials) return new RandomSampler().Propose(space, history, rng);
        var sorted = history.OrderByDescending(o => o.Score).ToList();
        int nGood = Math.Max(1, (int)Math.Ceiling(gamma * sorted.Count));
        var good = sorted.Take(nGood).ToList();
        var bad = sorted.Skip(nGood).ToList();
        var l = new Dictionary<string, double[]>();
        var g = new Dictionary<string, double[]>();
        foreach (var d in space.Dimensions)
        {
            l[d.Name] = Density(d, good);
            g[d.Name] = Density(d, bad);
        }
        Dictionary<string, string>? best = null;
        double bestScore = double.NegativeInfinity;
        for (int c = 0; c < Candidates; c++)
        {
            var choice = new Dictionary<string, string>();
            double logRatio = 0;
            foreach (var d in space.Dimensions)
            {
                int k = Draw(l[d.Name], rng);
                choice[d.Name] = d.Choices[k];
                logRatio += Math.Log(l[d.Name][k]) - Math.Log(g[d.Name][k]);
            }
            if (logRatio > bestScore)
            {
                bestScore = logRatio;
                best = choice;
            }
        }
        return best!;
    }

    private double[] Density(Dimension d, List<Observation> obs)
    {
        var p = new double[d.Choices.Count];
        Array.Fill(p, prior);
        foreach (var o in obs)
            if (o.Choice.TryGetValue(d.Name, out var v))
            {
                int k = IndexOf(d.Choices, v);
                if (k >= 0) p[k] += 1;
            }
        double sum = p.Sum();
        for (int i = 0; i < p.Length; i++) p[i] /= sum;
        return p;
    }

    private static int IndexOf(IReadOnlyList<string> list, string v)
    {
        for (int i = 0; i < list.Count; i++) if (list[i] == v) return i;
        return -1;
    }

    private static int Draw(double[] p, Random rng)
    {
        double u = rng.NextDouble(), acc = 0;
        for (int i = 0; i < p.Length; i++)
        {
            acc += p[i];
            if (u < acc) return i;
        }
        return p.Length - 1;
    }
}

/// <summary>Block-by-block schedule for deep models (AutoQKerasScheduler): the trials are shared among the blocks in
/// order; while block b is searched (by <paramref name="inner"/>), earlier blocks keep the choices of the best trial so
/// far and later blocks keep their widest candidate.</summary>
public sealed class BlockSampler(ISampler inner, int totalTrials) : ISampler
{
    public IReadOnlyDictionary<string, string> Propose(SearchSpace space, IReadOnlyList<Observation> history, Random rng)
    {
        var blocks = space.Dimensions.Select(d => d.Block).Distinct().ToList();
        int perBlock = Math.Max(1, (int)Math.Ceiling((double)totalTrials / blocks.Count));
        int current = Math.Min(blocks.Count - 1, history.Count / perBlock);
        var best = history.OrderByDescending(o => o.Score).FirstOrDefault();
        var sub = new SearchSpace(space.Dimensions.Where(d => d.Block == blocks[current]).ToList());
        var inBlock = history.Skip(current * perBlock).Select(o => new Observation(
            o.Choice.Where(kv => sub.Dimensions.Any(d => d.Name == kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value), o.Score)).ToList();
        var proposal = inner.Propose(sub, inBlock, rng);
        var choice = new Dictionary<string, string>();
        foreach (var d in space.Dimensions)
        {
            int b = blocks.IndexOf(d.Block);
            choice[d.Name] = b == current ? proposal[d.Name]
                : b < current && best is not null && best.Choice.TryGetValue(d.Name, out var v) ? v
                : Widest(d);
        }
        return choice;
    }

    /// <summary>The candidate with the most bits (the least lossy one); for a width, the largest factor; for the
    /// penalty, the weakest.</summary>
    public static string Widest(Dimension d) => d.Role == WidthFactors.Role
        ? d.Choices.OrderByDescending(c => double.Parse(c, System.Globalization.CultureInfo.InvariantCulture)).First()
        : PenaltyDimensions.Is(d) ? PenaltyDimensions.Weakest(d)
        : d.Choices.OrderByDescending(c => Quantization.QuantizerParser.Parse(c).Bits).First();
}
