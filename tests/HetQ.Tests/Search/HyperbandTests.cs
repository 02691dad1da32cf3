using HetQ.Search;

namespace HetQ.Tests.Search;

public class HyperbandTests
{
    private static Hyperband Hb(int min, int max, int eta, int brackets = 1) =>
        Hyperband.Create(min, max, eta, brackets, (k, w) => new HetQException($"{k}: {w}"));

    private static TrialRecord T(int n, int rung, double? score, int? parent = null, TrialState state = TrialState.Done, TrialKind kind = TrialKind.Search) =>
        new(n, kind, new Dictionary<string, string> { ["x"] = n.ToString() }, state, null, score, 1, score, null, null, null, 1, 1, rung, parent);

    [Fact]
    public void Rungs_grow_by_eta_from_min_epochs_and_the_top_rung_trains_max_epochs()
    {
        var a = Hb(2, 18, 3);
        Assert.Equal(2, a.MaxRung);
        Assert.Equal(new[] { 2, 6, 18 }, Enumerable.Range(0, 3).Select(a.Epochs));
        var b = Hb(1, 10, 3);
        Assert.Equal(2, b.MaxRung);
        Assert.Equal(new[] { 1, 3, 10 }, Enumerable.Range(0, 3).Select(b.Epochs)); // 9 would be the rule; the top rung is max
        Assert.Equal(0, Hb(4, 4, 2).MaxRung);
        Assert.Equal(4, Hb(4, 4, 2).Epochs(0));
        Assert.Equal(new[] { 1, 2, 4, 8 }, Enumerable.Range(0, 4).Select(Hb(1, 8, 2).Epochs));
        Assert.Throws<ArgumentOutOfRangeException>(() => a.Epochs(3));
    }

    [Fact]
    public void Bad_budgets_are_errors_naming_the_key()
    {
        Assert.Contains("min_epochs", Assert.Throws<HetQException>(() => Hb(0, 9, 3)).Message);
        Assert.Contains("max_epochs", Assert.Throws<HetQException>(() => Hb(4, 3, 3)).Message);
        Assert.Contains("eta", Assert.Throws<HetQException>(() => Hb(1, 9, 1)).Message);
        var e = Assert.Throws<HetQException>(() => Hb(1, 9, 3, brackets: 4));
        Assert.Contains("brackets", e.Message);
        Assert.Contains("1, 3, 9", e.Message);
    }

    [Fact]
    public void Brackets_take_new_configurations_in_turn_and_the_expected_count_follows_successive_halving()
    {
        var one = Hb(1, 9, 3);
        Assert.Equal(9 + 3 + 1, one.ExpectedTrials(9));
        Assert.Equal(8 + 2, one.ExpectedTrials(8));
        var three = Hb(1, 9, 3, brackets: 3);
        Assert.Equal(new[] { 0, 1, 2, 0, 1 }, Enumerable.Range(0, 5).Select(three.BracketOf));
        // 9 configurations, 3 per bracket: bracket 0 runs 3 + 1 (rung 1) + 0, bracket 1: 3 + 1, bracket 2: 3.
        Assert.Equal(11, three.ExpectedTrials(9));
    }

    [Fact]
    public void The_best_of_the_top_fraction_is_promoted_once_and_higher_rungs_go_first()
    {
        var hb = Hb(1, 9, 3);
        var trials = new List<TrialRecord> { T(0, 0, 0.99, kind: TrialKind.Baseline), T(1, 0, 0.5), T(2, 0, 0.9), T(3, 0, 0.7) };
        var p = hb.Promotion(trials)!;
        Assert.Equal((1, (int?)2), (p.Rung, p.Parent));                 // top ⌊3/3⌋ = 1: trial 2; the baseline takes no part
        Assert.Equal(trials[2].Choice, p.Choice);
        trials.Add(T(4, 1, null, parent: 2, state: TrialState.Running));
        Assert.Null(hb.Promotion(trials));                              // trial 2 is promoted already; 3 trials allow only one
        trials.Add(T(5, 0, 0.8));
        trials.Add(T(6, 0, null, state: TrialState.Failed));                     // counts in n, never promoted
        trials.Add(T(7, 0, 0.1));
        Assert.Equal(5, hb.Promotion(trials)!.Parent);                  // 6 finished: top 2 are 2 and 5
        trials.Add(T(8, 1, null, parent: 5, state: TrialState.Running));
        Assert.Null(hb.Promotion(trials));
        // Three finished at rung 1: the best of them goes to rung 2 before anything at rung 0.
        trials[4] = T(4, 1, 0.6, parent: 2);
        trials[8] = T(8, 1, 0.95, parent: 5);
        trials.Add(T(9, 1, 0.3, parent: 3));
        trials.AddRange(new[] { T(10, 0, 0.85), T(11, 0, 0.2), T(12, 0, 0.3) });
        var top = hb.Promotion(trials)!;
        Assert.Equal((2, (int?)8), (top.Rung, top.Parent));
        trials.Add(T(13, 2, null, parent: 8, state: TrialState.Running));
        Assert.Equal((1, (int?)10), (hb.Promotion(trials)!.Rung, hb.Promotion(trials)!.Parent)); // 9 at rung 0: top 3 = 2, 10, 5
    }

    [Fact]
    public void Brackets_rank_their_own_trials_only()
    {
        var hb = Hb(1, 9, 3, brackets: 2);
        // Bracket 1 starts at rung 1: its three trials compete among themselves, not with bracket 0's promoted ones.
        var trials = new List<TrialRecord> { T(0, 0, 0.9), T(1, 0, 0.1), T(2, 0, 0.2), T(3, 1, 0.99, parent: 0), T(4, 1, 0.3), T(5, 1, 0.4), T(6, 1, 0.35) };
        var p = hb.Promotion(trials)!;
        Assert.Equal((2, (int?)5), (p.Rung, p.Parent)); // bracket 1 at rung 1: 3 trials, top 1 = trial 5 (bracket 0 has only one at rung 1;
                                                        // mixed, the four at rung 1 would promote trial 3)
    }

    [Fact]
    public void A_study_store_runs_every_promotion_once_and_stops_when_the_top_of_every_rung_is_promoted()
    {
        using var dir = new TempDir();
        var hb = Hb(1, 9, 3);
        using var store = StudyStore.Open(dir.File("s.sqlite"), "s");
        store.Initialize("{}");
        int created = 0;
        while (store.ClaimOrCreate("w:1", 9, 60, (all, canCreate) =>
               hb.Promotion(all) ?? (canCreate ? new StudyStore.Proposal(new Dictionary<string, string> { ["x"] = (created++).ToString() }) : null)) is { } t)
        {
            // Score: a fixed function of the configuration, growing with the rung (longer training).
            double score = (int.Parse(t.Choice["x"]) * 37 % 9) / 10.0 + t.Rung;
            Assert.True(store.Complete(t.Number, "w:1", TrialState.Done, score, 1, score, null, null, null, 0));
        }
        var trials = store.Trials();
        Assert.Equal(9, trials.Count(t => t.Parent is null));
        Assert.Null(hb.Promotion(trials));
        var parents = trials.Where(t => t.Parent is not null).Select(t => t.Parent!.Value).ToList();
        Assert.Equal(parents.Count, parents.Distinct().Count());
        Assert.All(trials.Where(t => t.Parent is not null), t => Assert.Equal(trials.Single(p => p.Number == t.Parent).Rung + 1, t.Rung));
        Assert.All(trials.Where(t => t.Parent is not null), t => Assert.Equal(trials.Single(p => p.Number == t.Parent).Choice["x"], t.Choice["x"]));
        for (int k = 0; k < hb.MaxRung; k++)
        {
            // ASHA: at the end the top ⌊n/η⌋ of every rung are promoted (and, promoted as they finished, possibly a few more).
            var rung = trials.Where(t => t.Rung == k).OrderByDescending(t => t.Score).ToList();
            Assert.All(rung.Take(rung.Count / 3), t => Assert.Contains(t.Number, parents));
            Assert.True(trials.Count(t => t.Rung == k + 1) >= rung.Count / 3);
        }
        Assert.Contains(trials, t => t.Rung == 2);
    }
}

public class FloorAndInputTests
{
    [Fact]
    public void Above_the_floor_cheaper_wins_and_every_trial_above_it_outranks_every_trial_below()
    {
        var floor = new FloorObjective(new ForgivingFactor(3, 8, 2, 1), 0.88);
        double above = floor.Score(0.881, 1000, 500), aboveCheaper = floor.Score(0.880, 1000, 250), aboveDear = floor.Score(0.95, 1000, 4000);
        double below = floor.Score(0.879, 1000, 1), belowBetter = floor.Score(0.87, 1000, 10);
        Assert.True(aboveCheaper > above);
        Assert.True(above > aboveDear);
        Assert.True(aboveDear > below, $"{aboveDear} above the floor, {below} below it");
        Assert.Equal(2 + 0.03, above, 12);                                  // half the reference: Δ = δp
        Assert.Equal(new ForgivingFactor(3, 8, 2, 1).Score(0.87, 1000, 10), belowBetter, 12);
    }

    [Fact]
    public void The_input_quantizer_is_a_dimension_when_the_space_lists_candidates()
    {
        using var dir = new TempDir();
        dir.Write("train.json", """
        { "name": "t", "seed": 3, "data": { "name": "digits" },
          "model": { "layers": [ { "type": "dense", "units": 8, "activation": "relu", "name": "fc1" }, { "type": "dense", "units": 10, "name": "out" } ] },
          "optimizer": { "type": "adam" }, "epochs": 1, "batch_size": 32 }
        """);
        var model = HetQ.Training.TrainConfig.Load(dir.File("train.json")).BuildModel(new[] { 64 });
        var space = SearchSpace.Create(model, HetQ.Nn.JsonSpec.Parse("""
            { "input": ["ap_ufixed<3,0,RND_CONV,SAT>", "ap_ufixed<6,0,RND_CONV,SAT>"], "default": { "kernel": ["ternary"], "bias": ["quantized_bits(8,3,1)"], "activation": ["quantized_relu(4,2)"] } }
            """, "t"));
        var input = space.Dimensions.Single(d => d.Role == "input");
        Assert.Equal(SearchSpace.InputDimension, input.Name);
        Assert.Equal(2, input.Choices.Count);
        var choice = space.Dimensions.ToDictionary(d => d.Name, d => d.Choices[^1]);
        space.Apply(model, choice);
        Assert.Equal(6, model.InputQuantizer!.Quantizer.Bits);
        Assert.Contains("at least one", Assert.Throws<HetQException>(() => SearchSpace.Create(model, HetQ.Nn.JsonSpec.Parse("""{ "input": [] }""", "t"))).Message);
    }
}
