using HetQ.Cost;
using HetQ.Graph;
using HetQ.Nn;
using HetQ.Search;
using HetQ.Training;

namespace HetQ.Tests.Search;

/// <summary>AutoQ choices and learned bit widths in one search: the space picks layer widths and the input
/// quantizer, every search trial then learns its weights' and activations' widths against the EBOPs penalty.</summary>
public class LearnedSearchTests
{
    private static string Train(TempDir dir) => dir.Write("train.json", """
        {
          "name": "t", "seed": 3,
          "data": { "name": "digits", "validation_fraction": 0.2, "test_fraction": 0.2 },
          "model": { "layers": [
            { "type": "dense", "units": 16, "activation": "relu", "name": "fc1" },
            { "type": "dense", "units": 10, "name": "out" } ] },
          "optimizer": { "type": "adam", "learning_rate": 0.005 },
          "epochs": 1, "batch_size": 32, "threads": 1,
          "bitwidths": {
            "input": false,
            "kernel": { "granularity": "weight", "init": 4 },
            "bias": { "granularity": "channel", "init": 6 },
            "activation": { "granularity": "element", "init": 4 },
            "beta": 1e-5
          }
        }
        """);

    private static string Search(TempDir dir, string extra) => dir.Write("search.json", $$"""
        {
          "train": "train.json", "trials": 4, "epochs": 4, {{extra}}
          "input": "ap_ufixed<6,1,RND_CONV,SAT>",
          "strategy": { "type": "random", "seed": 2 },
          "objective": { "type": "forgiving", "metric": "ebops" },
          "space": {
            "input": ["ap_ufixed<3,1,RND_CONV,SAT>", "ap_ufixed<5,1,RND_CONV,SAT>"],
            "default": { "kernel": ["quantized_bits(8,0,1,alpha=1)"], "bias": ["quantized_bits(8,3,1,alpha=1)"], "activation": ["quantized_relu(8,3)"] },
            "widths": { "fc1": [0.5, 1] } },
          "baselines": [ { "name": "uniform 8-bit", "kernel": "quantized_bits(8,0,1,alpha=1)", "bias": "quantized_bits(8,3,1,alpha=1)", "activation": "quantized_relu(8,3)" } ],
          "output": "out"
        }
        """);

    [Fact]
    public void Search_trials_learn_their_widths_on_top_of_the_searched_input_and_layer_widths()
    {
        using var dir = new TempDir();
        Train(dir);
        var cfg = SearchConfig.Load(Search(dir, "\"learned\": true,"));
        var result = new SearchJob(cfg).Run();
        var search = result.Trials.Where(t => t.IsSearch).ToList();
        Assert.Equal(4, search.Count);
        Assert.All(result.Trials, t => Assert.True(t.IsDone, $"trial {t.Number}: {t.Error}"));
        foreach (var t in result.Trials)
        {
            var (model, meta) = ModelIO.Load(t.Model!);
            var graph = Freezer.Freeze(model, meta.Name).Graph!;
            // Search trials have learned (per-element) types; the baseline stays uniform.
            Assert.Equal(t.IsSearch, graph.HasElementTypes);
            Assert.Equal(CostModel.Estimate(graph).Total.Ebops, t.Cost);
            if (!t.IsSearch) continue;
            // The input is the space's choice (bitwidths.input is false), the hidden width the searched factor.
            Assert.Null(((InputOp)graph.Input.Op).Elements);
            Assert.Equal(t.Choice["input"], model.InputQuantizer!.Spec);
            Assert.Equal(t.Choice["fc1/width"] == "0.5" ? 8 : 16, model.Parameters.Single(p => p.Name == "fc1/kernel").Shape[1]);
            Assert.True(t.Accuracy > 0.5, $"trial {t.Number}: validation accuracy {t.Accuracy}");
        }
        // Learned widths make the trials cheaper than the uniform 8-bit baseline at the same layer widths.
        var baseline = result.Trials.Single(t => !t.IsSearch);
        Assert.True(search.Where(t => t.Choice["fc1/width"] == "1").All(t => t.Cost < baseline.Cost), "learned trials at full width cost less than 8-bit");
    }

    [Fact]
    public void Learned_needs_a_bitwidths_section_and_no_hyperband()
    {
        using var dir = new TempDir();
        Train(dir);
        dir.Write("plain.json", """{ "name": "p", "data": { "name": "digits" }, "model": { "layers": [ { "type": "dense", "units": 10 } ] } }""");
        string s = File.ReadAllText(Search(dir, "\"learned\": true,")).Replace("\"train\": \"train.json\"", "\"train\": \"plain.json\"", StringComparison.Ordinal);
        var e = Assert.Throws<HetQException>(() => SearchConfig.Load(dir.Write("s1.json", s)));
        Assert.Contains("learned", e.Message);
        Assert.Contains("bitwidths", e.Message);
        string hb = File.ReadAllText(Search(dir, "\"learned\": true,")).Replace("{ \"type\": \"random\", \"seed\": 2 }", "{ \"type\": \"hyperband\", \"min_epochs\": 1, \"max_epochs\": 3 }", StringComparison.Ordinal);
        Assert.Contains("hyperband", Assert.Throws<HetQException>(() => SearchConfig.Load(dir.Write("s2.json", hb))).Message);
    }

    private static string PenaltySearch(TempDir dir, string space, bool learned = true, string name = "search.json") => dir.Write(name, $$"""
        {
          "train": "train.json", "trials": 2, "epochs": 4, "learned": {{(learned ? "true" : "false")}},
          "input": "ap_ufixed<6,1,RND_CONV,SAT>",
          "strategy": { "type": "random", "seed": 2 },
          "objective": { "type": "forgiving", "metric": "ebops" },
          "space": {
            "default": { "kernel": ["quantized_bits(8,0,1,alpha=1)"], "bias": ["quantized_bits(8,3,1,alpha=1)"], "activation": ["quantized_relu(8,3)"] },
            {{space}} },
          "baselines": [ { "name": "uniform 8-bit", "kernel": "quantized_bits(8,0,1,alpha=1)", "bias": "quantized_bits(8,3,1,alpha=1)", "activation": "quantized_relu(8,3)" } ],
          "output": "out"
        }
        """);

    [Fact]
    public void A_searched_beta_is_each_trials_penalty_and_is_recorded_in_the_study_and_the_trial_table()
    {
        using var dir = new TempDir();
        Train(dir);
        var cfg = SearchConfig.Load(PenaltySearch(dir, "\"beta\": [1e-8, 3e-4]"));
        var result = new SearchJob(cfg).Run();
        Assert.All(result.Trials, t => Assert.True(t.IsDone, $"trial {t.Number}: {t.Error}"));
        var search = result.Trials.Where(t => t.IsSearch).ToDictionary(t => t.Choice["beta"]);
        Assert.Equal(["0.0003", "1E-08"], search.Keys.Order(StringComparer.Ordinal));
        Assert.DoesNotContain("beta", result.Trials.Single(t => !t.IsSearch).Choice.Keys);   // the baseline has no penalty
        // The stronger penalty gives the cheaper model.
        Assert.True(search["0.0003"].Cost < search["1E-08"].Cost, $"beta 3e-4: {search["0.0003"].Cost} EBOPs, beta 1e-8: {search["1E-08"].Cost}");
        // The study keeps each trial's beta, and the trial table shows it.
        using (var store = StudyStore.Open(cfg.Study, cfg.Name))
            Assert.Equal(search.Keys.Order(StringComparer.Ordinal), store.Trials().Where(t => t.IsSearch).Select(t => t.Choice["beta"]).Order(StringComparer.Ordinal));
        string table = SearchReport.Markdown(cfg, result);
        Assert.Contains("beta=0.0003", table);
        Assert.Contains("beta=1E-08", table);
    }

    [Fact]
    public void A_trials_choice_replaces_the_sections_beta_or_the_controllers_target()
    {
        var controller = new BetaController(60000, 0.5, 0.25, 1e-9, 1e-3);
        var bw = new BitwidthsConfig(null, null, null, null, new BetaSchedule("constant", 1e-6, 1e-6), 0, []) { Controller = controller };
        var beta = new Dimension("beta", "penalty", PenaltyDimensions.BetaRole, ["1E-06", "2E-05"]);
        var target = new Dimension("target_ebops", "penalty", PenaltyDimensions.TargetRole, ["30000", "90000"]);
        var b = PenaltyDimensions.Apply(bw, [beta], new Dictionary<string, string> { ["beta"] = "2E-05" });
        Assert.Null(b.Controller);
        Assert.Equal(new BetaSchedule("constant", 2e-5, 2e-5), b.Beta);
        var t = PenaltyDimensions.Apply(bw, [target], new Dictionary<string, string> { ["target_ebops"] = "30000" });
        Assert.Equal(controller with { TargetEbops = 30000 }, t.Controller);
        Assert.Equal(bw.Beta, t.Beta);
        // The block schedule's least lossy choice: the smallest beta, the largest target.
        Assert.Equal("1E-06", BlockSampler.Widest(beta));
        Assert.Equal("90000", BlockSampler.Widest(target));
    }

    [Theory]
    [InlineData("\"beta\": [1e-6]", false, "space.beta: needs \"learned\": true")]
    [InlineData("\"beta\": []", true, "space.beta: must be a non-empty list")]
    [InlineData("\"beta\": [1e-6, 0]", true, "space.beta: must list positive numbers, found 0")]
    [InlineData("\"beta\": [1e-6, 1e-6]", true, "space.beta: lists a value twice")]
    [InlineData("\"target_ebops\": [5000]", true, "space.target_ebops: needs a controller")]
    [InlineData("\"beta\": [1e-6], \"target_ebops\": [5000]", true, "space.target_ebops: and space.beta cannot both be searched")]
    public void Penalty_dimension_errors_name_the_key(string space, bool learned, string message)
    {
        using var dir = new TempDir();
        Train(dir);
        string file = PenaltySearch(dir, space, learned);
        var e = Assert.ThrowsAny<HetQException>(() => new SearchJob(SearchConfig.Load(file)));
        Assert.Contains(message, e.Message);
        Assert.StartsWith(file, e.Message);
    }

    [Fact]
    public void A_searched_target_needs_the_key_of_the_sections_penalty()
    {
        using var dir = new TempDir();
        string train = Train(dir);
        File.WriteAllText(train, File.ReadAllText(train).Replace("\"beta\": 1e-5", "\"beta\": { \"target_ebops\": 20000 }", StringComparison.Ordinal));
        var e = Assert.Throws<HetQException>(() => SearchConfig.Load(PenaltySearch(dir, "\"target_luts\": [5000]")));
        Assert.Contains("space.target_luts: does not fit the training configuration's penalty (ebops): use space.target_ebops", e.Message);
        SearchConfig.Load(PenaltySearch(dir, "\"target_ebops\": [5000, 9000]", name: "ok.json"));
    }
}
