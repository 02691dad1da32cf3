using System.Text.Json;
using HetQ.Nn;
using HetQ.Search;
using HetQ.Training;

namespace HetQ.Tests.Search;

public class WidthFactorsTests
{
    private static string TrainConfig(TempDir dir, bool named = true) => dir.Write("train.json", $$"""
        {
          "name": "t", "seed": 3,
          "data": { "name": "digits" },
          "model": { "layers": [
            { "type": "dense", "units": 8, "activation": "relu"{{(named ? ", \"name\": \"fc1\"" : "")}} },
            { "type": "dense", "units": 6, "activation": "relu", "name": "fc2" },
            { "type": "dense", "units": 10, "name": "out" } ] },
          "optimizer": { "type": "adam", "learning_rate": 0.005 },
          "epochs": 1, "batch_size": 32, "threads": 1
        }
        """);

    private static SearchSpace Space(Model model, string widths) =>
        SearchSpace.Create(model, JsonSpec.Parse($$"""{ "default": { "kernel": ["quantized_bits(4,0,1,alpha=1)"], "bias": ["quantized_bits(8,3,1,alpha=1)"], "activation": ["quantized_relu(6,2)"] }, "widths": {{widths}} }""", "t"));

    [Fact]
    public void Width_dimensions_cover_the_matching_layers_but_never_the_last_one()
    {
        using var dir = new TempDir();
        var model = HetQ.Training.TrainConfig.Load(TrainConfig(dir)).BuildModel(new[] { 64 });
        var space = Space(model, """{ "fc.*": [0.5, 1, 1.25] }""");
        var widths = space.Dimensions.Where(d => d.Role == "width").ToList();
        Assert.Equal(new[] { "fc1/width", "fc2/width" }, widths.Select(d => d.Name));
        Assert.Equal(new[] { "0.5", "1", "1.25" }, widths[0].Choices);
        Assert.Contains("matches no layer", Assert.Throws<HetQException>(() => Space(model, """{ "out": [0.5] }""")).Message);
        Assert.Contains("positive", Assert.Throws<HetQException>(() => Space(model, """{ "fc1": [0] }""")).Message);
        Assert.Equal("1.25", BlockSampler.Widest(widths[0]));
    }

    [Fact]
    public void A_scaled_model_starts_from_the_first_units_of_the_float_weights_and_added_units_feed_nothing()
    {
        using var dir = new TempDir();
        var train = HetQ.Training.TrainConfig.Load(TrainConfig(dir));
        var full = train.BuildModel(new[] { 64 });
        var rng = new Random(1);
        foreach (var p in full.Parameters)
            for (int i = 0; i < p.Value.Length; i++) p.Value[i] = (float)(rng.NextDouble() + 0.5); // no zero anywhere
        var space = Space(full, """{ "fc1": [0.5, 1.5], "fc2": [0.5, 1] }""");

        var narrow = WidthFactors.Scaled(train, space.Dimensions, new Dictionary<string, string> { ["fc1/width"] = "0.5", ["fc2/width"] = "1" })!.BuildModel(new[] { 64 });
        WidthFactors.CopySliced(full, narrow, "float");
        float[] P(Model m, string n) => m.Parameters.Single(p => p.Name == n).Value;
        int[] S(Model m, string n) => m.Parameters.Single(p => p.Name == n).Shape;
        Assert.Equal(new[] { 64, 4 }, S(narrow, "fc1/kernel"));
        Assert.Equal(new[] { 4, 6 }, S(narrow, "fc2/kernel"));
        for (int i = 0; i < 64; i++)
            for (int j = 0; j < 4; j++) Assert.Equal(P(full, "fc1/kernel")[i * 8 + j], P(narrow, "fc1/kernel")[i * 4 + j]);
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 6; j++) Assert.Equal(P(full, "fc2/kernel")[i * 6 + j], P(narrow, "fc2/kernel")[i * 6 + j]);
        Assert.Equal(P(full, "out/kernel"), P(narrow, "out/kernel"));

        var wide = WidthFactors.Scaled(train, space.Dimensions, new Dictionary<string, string> { ["fc1/width"] = "1.5" })!.BuildModel(new[] { 64 });
        WidthFactors.CopySliced(full, wide, "float");
        Assert.Equal(new[] { 64, 12 }, S(wide, "fc1/kernel"));
        for (int i = 0; i < 64; i++)
            for (int j = 0; j < 12; j++)
                if (j < 8) Assert.Equal(P(full, "fc1/kernel")[i * 8 + j], P(wide, "fc1/kernel")[i * 12 + j]);
        Assert.Contains(Enumerable.Range(0, 64), i => P(wide, "fc1/kernel")[i * 12 + 10] != 0); // added units start from the initializer
        for (int i = 0; i < 12; i++)
            for (int j = 0; j < 6; j++) Assert.Equal(i < 8 ? P(full, "fc2/kernel")[i * 6 + j] : 0f, P(wide, "fc2/kernel")[i * 6 + j]);
        // The same outputs: the added units feed the next layer nothing.
        var x = new Tensor(new[] { 3, 64 });
        for (int i = 0; i < x.Data.Length; i++) x.Data[i] = (float)rng.NextDouble();
        var yf = (float[])full.Forward(x, new ForwardContext()).Data.Clone();
        var yw = wide.Forward(x, new ForwardContext()).Data;
        Assert.Equal(yf.Length, yw.Length);
        for (int i = 0; i < yf.Length; i++) Assert.Equal(yf[i], yw[i], 4); // the same sums, perhaps in another order

        Assert.Null(WidthFactors.Scaled(train, space.Dimensions, new Dictionary<string, string> { ["fc1/width"] = "1", ["fc2/width"] = "1" }));
    }

    [Fact]
    public void Width_search_needs_named_layers()
    {
        using var dir = new TempDir();
        var train = HetQ.Training.TrainConfig.Load(TrainConfig(dir, named: false));
        var model = train.BuildModel(new[] { 64 });
        var space = Space(model, """{ "dense_1": [0.5] }""");
        var e = Assert.Throws<HetQException>(() => WidthFactors.Scaled(train, space.Dimensions, new Dictionary<string, string> { ["dense_1/width"] = "0.5" }));
        Assert.Contains("dense_1", e.Message);
    }

    [Fact]
    public void A_searched_trial_with_half_width_is_trained_frozen_and_costed_at_that_width()
    {
        using var dir = new TempDir();
        TrainConfig(dir);
        string cfg = dir.Write("search.json", $$"""
        {
          "name": "w", "train": "train.json", "input": "ap_ufixed<5,1,RND_CONV,SAT>", "trials": 1, "epochs": 1,
          "strategy": { "type": "random" },
          "space": { "default": { "kernel": ["quantized_bits(4,0,1,alpha=1)"], "bias": ["quantized_bits(8,3,1,alpha=1)"], "activation": ["quantized_relu(6,2)"] },
                     "widths": { "fc1": [0.5] } },
          "baselines": [ { "name": "same at full width", "kernel": "quantized_bits(4,0,1,alpha=1)", "bias": "quantized_bits(8,3,1,alpha=1)", "activation": "quantized_relu(6,2)" } ],
          "study": "{{dir.File("s.sqlite").Replace("\\", "\\\\")}}", "output": "{{dir.File("out").Replace("\\", "\\\\")}}"
        }
        """);
        var r = new SearchJob(SearchConfig.Load(cfg)).Run();
        var baseline = r.Trials.Single(t => t.Kind == TrialKind.Baseline);
        var half = r.Trials.Single(t => t.IsSearch);
        Assert.True(half.IsDone, half.Error);
        Assert.Equal("0.5", half.Choice["fc1/width"]);
        var model = ModelIO.Load(half.Model!).Model;
        Assert.Equal(new[] { 64, 4 }, model.Parameters.Single(p => p.Name == "fc1/kernel").Shape);
        double Bits(TrialRecord t) => JsonDocument.Parse(t.Metrics!).RootElement.GetProperty("bits").GetDouble();
        // Same quantizers, half the first layer: fewer parameters, so fewer parameter bits and EBOPs.
        Assert.True(Bits(half) < Bits(baseline), $"{Bits(half)} bits at half width, {Bits(baseline)} at full width");
        Assert.True(half.Cost < baseline.Cost);
    }
}
