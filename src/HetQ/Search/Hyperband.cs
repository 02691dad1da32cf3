namespace HetQ.Search;

/// <summary>Hyperband with a budget in epochs, in its asynchronous form (ASHA, Li et al. 2020, "A System for Massively
/// Parallel Hyperparameter Tuning"): rung k trains a configuration for <see cref="Epochs"/>(k) epochs in all, from
/// <see cref="MinEpochs"/> growing by <see cref="Eta"/> per rung; the top rung trains <see cref="MaxEpochs"/>.
/// Bracket b starts its configurations at rung b (b = 0 is the most aggressive, successive halving from the smallest
/// budget); new configurations go to the brackets in turn. Whenever a worker needs work, the highest rung (of any
/// bracket) with a finished trial that ranks in the top ⌊n/η⌋ of the n finished trials of its bracket and rung and is not
/// yet promoted has that trial promoted (best score first); otherwise a new configuration is drawn. A promoted trial
/// continues training from its parent's saved weights for the difference of the two budgets (the optimizer's moments
/// start anew). The decision is a function of the stored trials only, taken in the store's claim transaction, so
/// several workers and a resumed run promote each trial once.</summary>
public sealed record Hyperband(int MinEpochs, int MaxEpochs, int Eta, int Brackets)
{
    /// <summary>Checks the arithmetic: 1 ≤ min ≤ max, η ≥ 2, 1 ≤ brackets ≤ rungs.</summary>
    public static Hyperband Create(int minEpochs, int maxEpochs, int eta, int brackets, Func<string, string, Exception> error)
    {
        if (minEpochs < 1) throw error("min_epochs", $"must be at least 1, given {minEpochs}");
        if (maxEpochs < minEpochs) throw error("max_epochs", $"must be at least min_epochs ({minEpochs}), given {maxEpochs}");
        if (eta < 2) throw error("eta", $"must be at least 2, given {eta}");
        var h = new Hyperband(minEpochs, maxEpochs, eta, 1);
        if (brackets < 1 || brackets > h.MaxRung + 1)
            throw error("brackets", $"must be between 1 and the number of rungs ({h.MaxRung + 1} for epochs {string.Join(", ", Enumerable.Range(0, h.MaxRung + 1).Select(h.Epochs))}), given {brackets}");
        return h with { Brackets = brackets };
    }

    /// <summary>The highest rung: the largest k with min·η^k ≤ max.</summary>
    public int MaxRung
    {
        get
        {
            int k = 0;
            for (long e = MinEpochs; e * Eta <= MaxEpochs; e *= Eta) k++;
            return k;
        }
    }

    /// <summary>Total epochs a configuration has trained once it finished rung <paramref name="rung"/>: min·η^rung, and max at the top rung.</summary>
    public int Epochs(int rung)
    {
        if (rung < 0 || rung > MaxRung) throw new ArgumentOutOfRangeException(nameof(rung), $"rung {rung} is outside 0..{MaxRung}");
        if (rung == MaxRung) return MaxEpochs;
        long e = MinEpochs;
        for (int i = 0; i < rung; i++) e *= Eta;
        return (int)e;
    }

    /// <summary>The bracket (= starting rung) of the <paramref name="index"/>-th new configuration (0-based).</summary>
    public int BracketOf(int index) => index % Brackets;

    /// <summary>How many trials a study of <paramref name="configurations"/> configurations runs when every rung
    /// promotes exactly ⌊n/η⌋ of its n trials, as synchronous successive halving does. An estimate for progress
    /// reports: ASHA promotes as trials finish, and a trial promoted early stays promoted when better ones finish
    /// later, so a study may run a few more.</summary>
    public int ExpectedTrials(int configurations)
    {
        int total = 0;
        for (int b = 0; b < Brackets; b++)
        {
            int n = configurations / Brackets + (b < configurations % Brackets ? 1 : 0);
            for (int k = b; k <= MaxRung && n > 0; k++)
            {
                total += n;
                n /= Eta;
            }
        }
        return total;
    }

    /// <summary>The next promotion among the trials (only search trials take part), or null when none is due.
    /// A trial's bracket is the rung of the configuration it descends from.</summary>
    public StudyStore.Proposal? Promotion(IReadOnlyList<TrialRecord> trials)
    {
        var search = trials.Where(t => t.IsSearch).ToList();
        var byNumber = search.ToDictionary(t => t.Number);
        var promoted = search.Where(t => t.Parent is not null).Select(t => t.Parent!.Value).ToHashSet();
        int BracketOfTrial(TrialRecord t)
        {
            while (t.Parent is { } p && byNumber.TryGetValue(p, out var parent)) t = parent;
            return t.Rung;
        }
        for (int k = MaxRung - 1; k >= 0; k--)
        {
            TrialRecord? best = null;
            foreach (var group in search.Where(t => t.Rung == k && t.IsFinished).GroupBy(BracketOfTrial))
            {
                // Failed trials count in n (they finished the rung) and rank last.
                var ranked = group.OrderByDescending(t => t.IsDone && t.Score is not null ? t.Score!.Value : double.NegativeInfinity).ThenBy(t => t.Number).ToList();
                int top = ranked.Count / Eta;
                var candidate = ranked.Take(top).FirstOrDefault(t => t.IsDone && t.Score is not null && !promoted.Contains(t.Number));
                if (candidate is not null && (best is null || candidate.Score > best.Score || (candidate.Score == best.Score && candidate.Number < best.Number)))
                    best = candidate;
            }
            if (best is not null) return new StudyStore.Proposal(best.Choice, k + 1, best.Number);
        }
        return null;
    }

    /// <summary>The epochs trial <paramref name="trial"/> trains: its rung's budget less its parent's.</summary>
    public int EpochsToTrain(TrialRecord trial, IReadOnlyList<TrialRecord> trials)
    {
        if (trial.Parent is not { } p) return Epochs(trial.Rung);
        var parent = trials.FirstOrDefault(t => t.Number == p) ?? throw new HetQException($"trial {trial.Number} continues trial {p}, which is not in the study");
        return Epochs(trial.Rung) - Epochs(parent.Rung);
    }
}
