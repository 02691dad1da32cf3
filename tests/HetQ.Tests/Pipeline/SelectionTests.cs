using HetQ.Nn;
using HetQ.Pipeline;
using HetQ.Training;

namespace HetQ.Tests.Pipeline;

/// <summary>The main job's selection rule: a paired comparison with float on validation samples, one standard error to spare.</summary>
public class SelectionTests
{
    [Fact]
    public void The_paired_gap_counts_the_samples_where_the_two_models_disagree()
    {
        bool[] model = [true, true, false, false, true, true];
        bool[] reference = [true, false, true, true, true, false];
        var g = Selection.Compare(model, reference);
        Assert.Equal(new PairedGap(6, 2, 2), g);
        Assert.Equal(0, g.Difference);
        // differences +1, +1, -1, -1, 0, 0: mean 0, population variance 4/6, standard error sqrt(4/6 / 6) = 1/3
        Assert.Equal(1.0 / 3, g.StandardError, 12);
        Assert.Throws<ArgumentException>(() => Selection.Compare([true], [true, false]));
    }

    [Fact]
    public void A_model_is_within_the_margin_only_with_one_standard_error_to_spare()
    {
        Assert.True(new PairedGap(400, 0, 0).Within(1));          // identical predictions
        Assert.True(new PairedGap(400, 0, 1).Within(1));          // -0.25 ± 0.25
        Assert.False(new PairedGap(400, 0, 4).Within(1));         // -1.00 ± 0.50
        Assert.True(new PairedGap(400, 2, 3).Within(1));          // -0.25 ± 0.56
        Assert.False(new PairedGap(400, 14, 16).Within(1));       // -0.50 ± 1.37: same mean difference as 0 won 2 lost, far less sure
        Assert.True(new PairedGap(400, 0, 2).Within(1));          // -0.50 ± 0.35
        Assert.Equal(-0.0025 - Math.Sqrt(5 - 1.0 / 400) / 400, new PairedGap(400, 2, 3).LowerBound, 12);
    }

    [Fact]
    public void The_cheapest_candidate_within_the_margin_is_chosen_else_the_one_closest_to_float()
    {
        var pick = Selection.Cheapest([("a", 300.0, new PairedGap(400, 0, 12)), ("b", 500.0, new PairedGap(400, 1, 1)), ("c", 900.0, new PairedGap(400, 0, 0))])!.Value;
        Assert.Equal(("b", true), (pick.Pick, pick.Within));
        var none = Selection.Cheapest([("a", 300.0, new PairedGap(400, 0, 12)), ("b", 500.0, new PairedGap(400, 0, 8))])!.Value;
        Assert.Equal(("b", false), (none.Pick, none.Within));
        Assert.Null(Selection.Cheapest(Array.Empty<(string, double, PairedGap)>()));
    }

    [Fact]
    public void The_per_sample_scores_agree_with_the_eval_jobs_accuracies()
    {
        using var dir = new TempDir();
        string config = dir.File("cnn.json");
        File.WriteAllText(config, MainJob.CnnConfigJson(7).Replace("\"epochs\": 30", "\"epochs\": 3", StringComparison.Ordinal));
        var result = TrainJob.Run(TrainConfig.Load(config), dir.File("cnn"));
        var (model, meta) = ModelIO.Load(result.ModelDirectory);
        var splits = EvalJob.LoadData(config);
        var ev = EvalJob.Run(model, meta.Name, splits.Validation);
        bool[] f = Selection.FloatCorrect(model, splits.Validation), e = Selection.EmulatedCorrect(model, meta.Name, splits.Validation);
        Assert.Equal(431, f.Length);
        Assert.Equal(ev.AccuracyFloat, f.Count(c => c) / (double)f.Length, 12);
        Assert.Equal(ev.AccuracyEmulated!.Value, e.Count(c => c) / (double)e.Length, 12);
    }
}
