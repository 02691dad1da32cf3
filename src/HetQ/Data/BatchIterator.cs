namespace HetQ.Data;

/// <summary>Mini-batches of sample indices: a seeded shuffle per epoch (the same seed and epoch
/// give the same batches), the last partial batch kept.</summary>
internal sealed class BatchIterator
{
    private readonly int[] _order;

    public int Count { get; }
    public int BatchSize { get; }
    public long Seed { get; }
    public bool Shuffle { get; }
    public int BatchCount => (Count + BatchSize - 1) / BatchSize;

    public BatchIterator(int count, int batchSize, long seed, bool shuffle = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        Count = count;
        BatchSize = batchSize;
        Seed = seed;
        Shuffle = shuffle;
        _order = new int[count];
    }

    /// <summary>The batches of one epoch. Each batch is a view of an internal buffer that the
    /// next call to <see cref="Epoch"/> overwrites; copy it to keep it.</summary>
    public IEnumerable<ReadOnlyMemory<int>> Epoch(int epoch)
    {
        for (int i = 0; i < Count; i++) _order[i] = i;
        if (Shuffle) new SeededRandom(SeededRandom.Derive(Seed, epoch)).Shuffle<int>(_order);
        return Slices();
    }

    private IEnumerable<ReadOnlyMemory<int>> Slices()
    {
        for (int start = 0; start < Count; start += BatchSize)
            yield return _order.AsMemory(start, Math.Min(BatchSize, Count - start));
    }

    /// <summary>Copies the samples at <paramref name="indices"/> into <paramref name="features"/>
    /// (batch-major) and their labels into <paramref name="labels"/>.</summary>
    public static void Gather(Dataset data, ReadOnlySpan<int> indices, Span<float> features, Span<int> labels)
    {
        int s = data.SampleSize;
        if (features.Length < indices.Length * s || labels.Length < indices.Length)
            throw new ArgumentException($"buffers too small for a batch of {indices.Length} samples of size {s}");
        for (int i = 0; i < indices.Length; i++)
        {
            data.Sample(indices[i]).CopyTo(features.Slice(i * s, s));
            labels[i] = data.Labels[indices[i]];
        }
    }
}
