using HetQ.Cost;
using HetQ.Graph;
using HetQ.Nn;
using HetQ.Search;

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
}
