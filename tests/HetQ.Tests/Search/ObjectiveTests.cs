using HetQ.Search;

namespace HetQ.Tests.Search;

public class ObjectiveTests
{
    [Fact]
    public void The_forgiving_factor_is_AutoQKeras_formula()
    {
        var ff = new ForgivingFactor();
        // Half the reference cost: delta = 0.08 * ln(2)/ln(2) = 0.08; score = 0.9 * 1.08.
        Assert.Equal(0.9 * 1.08, ff.Score(0.9, 1000, 500), 12);
        // Twice the reference: delta = 0.08 * ln(0.5)/ln(2) = -0.08.
        Assert.Equal(0.9 * 0.92, ff.Score(0.9, 1000, 2000), 12);
        // delta_p and delta_n apply on their own sides; rate 4 halves the effect per halving.
        var asym = new ForgivingFactor(DeltaP: 10, DeltaN: 2, Rate: 4);
        Assert.Equal(0.10 * Math.Log(4) / Math.Log(4), asym.Delta(400, 100), 12);
        Assert.Equal(0.02 * Math.Log(0.25) / Math.Log(4), asym.Delta(100, 400), 12);
        // stress scales the reference.
        Assert.Equal(0, new ForgivingFactor(Stress: 0.5).Delta(1000, 500), 12);
    }

    [Fact]
    public void The_Pareto_front_keeps_exactly_the_non_dominated_points()
    {
        var pts = new (double a, double c)[] { (0.9, 10.0), (0.8, 5.0), (0.85, 12.0), (0.95, 20.0), (0.8, 6.0), (0.5, 1.0) };
        var front = Pareto.Front(pts, p => p.a, p => p.c);
        Assert.Equal(new[] { (0.5, 1.0), (0.8, 5.0), (0.9, 10.0), (0.95, 20.0) }, front.Select(p => (p.a, p.c)));
    }

    [Fact]
    public void TPE_concentrates_on_the_choices_of_the_best_trials()
    {
        var space = new SearchSpace(new[]
        {
            new Dimension("a", "a", "kernel", new[] { "0", "1", "2", "3", "4", "5", "6", "7" }),
            new Dimension("b", "b", "kernel", new[] { "0", "1", "2", "3", "4", "5", "6", "7" }),
        });
        double Objective(IReadOnlyDictionary<string, string> c) => -Math.Abs(int.Parse(c["a"]) - 5) - Math.Abs(int.Parse(c["b"]) - 2);
        var history = new List<Observation>();
        var rng = new Random(7);
        var tpe = new TpeSampler(startupTrials: 10);
        for (int i = 0; i < 60; i++)
        {
            var c = tpe.Propose(space, history, rng);
            history.Add(new Observation(c, Objective(c)));
        }
        int hits = history.Skip(40).Count(o => o.Score == 0);
        var random = new RandomSampler();
        int randomHits = Enumerable.Range(0, 2000).Count(_ => Objective(random.Propose(space, history, rng)) == 0);
        Assert.True(hits >= 6, $"TPE found the optimum {hits} times in its last 20 proposals");
        Assert.True(hits / 20.0 > 4 * randomHits / 2000.0, $"TPE {hits}/20 against random {randomHits}/2000");
    }
}

public class BlockSamplerTests
{
    [Fact]
    public void Blocks_are_searched_in_order_keeping_the_best_earlier_choices_and_the_widest_later_ones()
    {
        var space = new SearchSpace(new[]
        {
            new Dimension("b1/kernel", "b1", "kernel", new[] { "quantized_bits(2,0,1)", "quantized_bits(4,0,1)", "quantized_bits(8,0,1)" }),
            new Dimension("b2/kernel", "b2", "kernel", new[] { "quantized_bits(2,0,1)", "quantized_bits(4,0,1)", "quantized_bits(8,0,1)" }),
        });
        var sampler = new BlockSampler(new RandomSampler(), totalTrials: 6);
        var rng = new Random(1);
        var history = new List<Observation>();
        for (int i = 0; i < 3; i++)
        {
            var c = sampler.Propose(space, history, rng);
            Assert.Equal("quantized_bits(8,0,1)", c["b2/kernel"]); // later block: widest candidate
            history.Add(new Observation(c, c["b1/kernel"] == "quantized_bits(4,0,1)" ? 1 : 0));
        }
        var best = history.OrderByDescending(o => o.Score).First().Choice["b1/kernel"];
        for (int i = 0; i < 3; i++)
        {
            var c = sampler.Propose(space, history, rng);
            Assert.Equal(best, c["b1/kernel"]); // earlier block: the best trial's choice
            history.Add(new Observation(c, 0.5));
        }
    }

    [Fact]
    public void A_model_that_costs_nothing_scores_by_its_accuracy_not_an_infinite_reward()
    {
        var f = new ForgivingFactor(DeltaP: 3, DeltaN: 8, Rate: 2);
        double zero = f.Score(0.097, 60904, 0);
        Assert.True(double.IsFinite(zero));
        Assert.Equal(f.Score(0.097, 60904, 1), zero);
        // An accurate model at a realistic cost outranks the all-zero one (a 5-trial search once chose it as best).
        Assert.True(f.Score(0.95, 60904, 2333) > zero);
        Assert.True(double.IsFinite(new FloorObjective(f, 0.9).Score(0.95, 60904, 0)));
    }
}
