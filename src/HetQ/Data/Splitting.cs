namespace HetQ.Data;

/// <summary>Deterministic seeded splits of a data set into two parts: random, or stratified so
/// that each class keeps its proportion in both parts.</summary>
internal static class Splitting
{
    /// <summary>Indices 0..labels.Length-1 split into a first part and a second part of
    /// round(n * <paramref name="secondFraction"/>) samples, each class contributing in proportion
    /// to its size (largest remainders break the rounding). Both parts come out shuffled.</summary>
    public static (int[] First, int[] Second) Stratified(ReadOnlySpan<int> labels, double secondFraction, long seed)
    {
        CheckFraction(secondFraction);
        int n = labels.Length;
        int numClasses = 0;
        foreach (int l in labels)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(l, nameof(labels));
            numClasses = Math.Max(numClasses, l + 1);
        }
        var byClass = new List<int>[numClasses];
        for (int c = 0; c < numClasses; c++) byClass[c] = [];
        for (int i = 0; i < n; i++) byClass[labels[i]].Add(i);

        int total = (int)Math.Round(n * secondFraction, MidpointRounding.AwayFromZero);
        var take = new int[numClasses];
        var remainder = new double[numClasses];
        int allotted = 0;
        for (int c = 0; c < numClasses; c++)
        {
            double exact = byClass[c].Count * secondFraction;
            take[c] = (int)Math.Floor(exact);
            remainder[c] = exact - take[c];
            allotted += take[c];
        }
        // Hand the leftover samples to the classes with the largest remainders (ties: lower class first).
        int[] order = Enumerable.Range(0, numClasses).OrderByDescending(c => remainder[c]).ThenBy(c => c).ToArray();
        for (int k = 0; allotted < total && k < order.Length; k++)
        {
            int c = order[k];
            if (take[c] < byClass[c].Count) { take[c]++; allotted++; }
        }

        var rng = new SeededRandom(seed);
        var first = new List<int>(n - total);
        var second = new List<int>(total);
        for (int c = 0; c < numClasses; c++)
        {
            int[] members = [.. byClass[c]];
            rng.Shuffle<int>(members);
            second.AddRange(members.AsSpan(0, take[c]));
            first.AddRange(members.AsSpan(take[c]));
        }
        int[] a = [.. first], b = [.. second];
        rng.Shuffle<int>(a);
        rng.Shuffle<int>(b);
        return (a, b);
    }

    /// <summary>Indices 0..n-1 shuffled, then cut: the second part has round(n * <paramref name="secondFraction"/>) samples.</summary>
    public static (int[] First, int[] Second) Random(int n, double secondFraction, long seed)
    {
        CheckFraction(secondFraction);
        int[] p = new SeededRandom(seed).Permutation(n);
        int total = (int)Math.Round(n * secondFraction, MidpointRounding.AwayFromZero);
        return (p[..(n - total)], p[(n - total)..]);
    }

    /// <summary>A seeded random permutation of 0..n-1.</summary>
    public static int[] Shuffle(int n, long seed) => new SeededRandom(seed).Permutation(n);

    private static void CheckFraction(double f)
    {
        if (!(f >= 0 && f <= 1)) throw new ArgumentOutOfRangeException(nameof(f), f, "a split fraction must lie in [0, 1]");
    }
}
