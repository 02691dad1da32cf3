using HetQ.Data;

namespace HetQ.Tests.Data;

public sealed class SplittingTests
{
    private static int[] Labels(params int[] perClass)
        => perClass.SelectMany((n, c) => Enumerable.Repeat(c, n)).ToArray();

    [Fact]
    public void A_stratified_split_has_the_rounded_size_and_keeps_each_class_proportion()
    {
        int[] labels = Labels(500, 300, 200);
        (int[] a, int[] b) = Splitting.Stratified(labels, 0.2, seed: 7);
        Assert.Equal(800, a.Length);
        Assert.Equal(200, b.Length);
        Assert.Equal(100, b.Count(i => labels[i] == 0));
        Assert.Equal(60, b.Count(i => labels[i] == 1));
        Assert.Equal(40, b.Count(i => labels[i] == 2));
        Assert.Equal(Enumerable.Range(0, 1000), a.Concat(b).Order());
    }

    [Fact]
    public void Stratified_rounding_leftovers_go_to_the_classes_with_the_largest_remainders()
    {
        int[] labels = Labels(7, 7, 6);
        (int[] _, int[] b) = Splitting.Stratified(labels, 0.25, seed: 1);
        Assert.Equal(5, b.Length);
        int[] perClass = [.. Enumerable.Range(0, 3).Select(c => b.Count(i => labels[i] == c))];
        Assert.Equal([2, 2, 1], perClass);
    }

    [Fact]
    public void A_random_split_covers_every_index_once()
    {
        (int[] a, int[] b) = Splitting.Random(101, 0.3, seed: 3);
        Assert.Equal(71, a.Length);
        Assert.Equal(30, b.Length);
        Assert.Equal(Enumerable.Range(0, 101), a.Concat(b).Order());
    }

    [Fact]
    public void The_same_seed_gives_the_same_shuffle_and_another_seed_a_different_one()
    {
        Assert.Equal(Splitting.Shuffle(1000, 42), Splitting.Shuffle(1000, 42));
        Assert.NotEqual(Splitting.Shuffle(1000, 42), Splitting.Shuffle(1000, 43));
        (int[] a1, int[] b1) = Splitting.Stratified(Labels(50, 50), 0.1, 5);
        (int[] a2, int[] b2) = Splitting.Stratified(Labels(50, 50), 0.1, 5);
        Assert.Equal(a1, a2);
        Assert.Equal(b1, b2);
    }

    [Fact]
    public void The_generator_is_xoshiro256_starstar_seeded_by_splitmix64_so_shuffles_are_stable()
    {
        var r = new SeededRandom(42);
        Assert.Equal(0x15780b2e0c2ec716UL, r.NextUInt64());
        Assert.Equal(0x6104d9866d113a7eUL, r.NextUInt64());
        Assert.Equal(0xae17533239e499a1UL, r.NextUInt64());
    }

    [Fact]
    public void Bounded_integers_are_roughly_uniform()
    {
        var r = new SeededRandom(9);
        var counts = new int[10];
        for (int i = 0; i < 100_000; i++) counts[r.NextInt(10)]++;
        Assert.All(counts, c => Assert.InRange(c, 9_500, 10_500));
    }
}
