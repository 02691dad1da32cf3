using HetQ.Data;

namespace HetQ.Tests.Data;

public sealed class BatchIteratorTests
{
    [Fact]
    public void An_epoch_covers_every_sample_once_and_keeps_the_last_partial_batch()
    {
        var it = new BatchIterator(10, 4, seed: 1);
        int[][] batches = [.. it.Epoch(0).Select(b => b.ToArray())];
        Assert.Equal(3, it.BatchCount);
        Assert.Equal([4, 4, 2], batches.Select(b => b.Length));
        Assert.Equal(Enumerable.Range(0, 10), batches.SelectMany(b => b).Order());
    }

    [Fact]
    public void Epochs_are_shuffled_differently_but_reproducibly()
    {
        int[] Flat(BatchIterator it, int e) => [.. it.Epoch(e).SelectMany(b => b.ToArray())];
        var a = new BatchIterator(50, 8, seed: 3);
        var b = new BatchIterator(50, 8, seed: 3);
        Assert.Equal(Flat(a, 0), Flat(b, 0));
        Assert.Equal(Flat(a, 1), Flat(b, 1));
        Assert.NotEqual(Flat(a, 0), Flat(a, 1));
    }

    [Fact]
    public void Without_shuffling_batches_come_in_order()
    {
        var it = new BatchIterator(5, 2, seed: 0, shuffle: false);
        Assert.Equal([0, 1, 2, 3, 4], it.Epoch(7).SelectMany(b => b.ToArray()));
    }

    [Fact]
    public void Gather_copies_the_samples_and_labels_of_a_batch()
    {
        var d = new Dataset("t", [2], [0, 1, 10, 11, 20, 21], [5, 6, 7], 8);
        var x = new float[4];
        var y = new int[2];
        BatchIterator.Gather(d, [2, 0], x, y);
        Assert.Equal([20f, 21f, 0f, 1f], x);
        Assert.Equal([7, 5], y);
    }
}
