using HetQ.Pipeline;

namespace HetQ.Tests.Pipeline;

/// <summary>The main job's headline: chosen on validation accuracy (paired against float, one standard error to
/// spare), judged on test accuracy and Yosys LUTs.</summary>
public class HeadlineTests
{
    private static ReportRow Row(string name, double test, int? luts, PairedGap? gap, long? estimate = null) =>
        new(name, "", test, null, null, null, 0, luts is null && estimate is null ? null
            : new HardwareNumbers(10, 0, "icarus", luts, null, null, null, 1, null, estimate), null, 0.97 + (gap?.Difference ?? 0), gap);

    private static readonly PairedGap Same = new(400, 0, 0);

    [Fact]
    public void The_cheapest_model_within_one_validation_point_by_the_paired_rule_is_the_headline_and_the_target_is_judged_on_test_accuracy()
    {
        var rows = new List<ReportRow>
        {
            Row("float", 0.980, null, null),
            Row("uniform 16-bit", 0.980, 30000, Same),
            Row("cheap but inaccurate", 0.950, 1000, new PairedGap(400, 0, 12)),        // 3 points below: not eligible
            Row("cheap, lucky on validation", 0.950, 1500, new PairedGap(400, 14, 16)), // -0.5 but ± 1.37: not eligible
            Row("learned", 0.975, 2900, new PairedGap(400, 2, 3)),                       // -0.25 ± 0.56: eligible
            Row("searched", 0.978, 5000, new PairedGap(400, 1, 1)),
            Row("no comparison", 0.978, 100, null),                                     // not a candidate without one
        };
        string h = MainJob.Headline(rows)!;
        Assert.StartsWith("**Headline**: learned: 2,900 LUTs (Yosys) against 30,000", h);
        Assert.Contains("10.3x fewer", h);
        Assert.Contains("0.50 points below", h);
        Assert.Contains("-0.25 ± 0.56 points against float on 400 validation samples (2 won, 3 lost)", h);
        Assert.EndsWith("met.", h);
        Assert.DoesNotContain("not met", h);

        // 1.5 test points below float: not met, though chosen the same way.
        rows[4] = Row("learned", 0.965, 2900, new PairedGap(400, 2, 3));
        Assert.EndsWith("not met.", MainJob.Headline(rows));
        // 10x needs LUTs of at most a tenth.
        rows[4] = Row("learned", 0.975, 3001, new PairedGap(400, 2, 3));
        Assert.EndsWith("not met.", MainJob.Headline(rows));
    }

    [Fact]
    public void Without_synthesis_the_estimate_is_used_and_labelled()
    {
        var rows = new List<ReportRow> { Row("float", 0.98, null, null), Row("uniform 16-bit", 0.98, null, Same, 20000), Row("learned", 0.98, null, Same, 1000) };
        string h = MainJob.Headline(rows)!;
        Assert.Contains("1,000 LUTs (resource model estimate; not synthesized)", h);
        Assert.Contains("20.0x fewer", h);
        Assert.Null(MainJob.Headline([Row("float", 0.98, null, null), Row("learned", 0.98, null, Same)])); // no baseline, no headline
    }

    [Fact]
    public void When_the_16_bit_baseline_was_not_synthesized_no_factor_is_shown()
    {
        var rows = new List<ReportRow>
        {
            Row("float", 0.98, null, null),
            new("uniform 16-bit", "", 0.98, null, null, null, 0, new HardwareNumbers(10, 0, "icarus", null, null, null, null, 1, "synthesis failed: timed out", 34000), null, 0.97, Same),
            Row("learned", 0.98, 3000, Same),
        };
        string h = MainJob.Headline(rows)!;
        Assert.Equal("**Headline**: none: the uniform 16-bit model has no Yosys LUT count (synthesis failed: timed out), so no factor is shown.", h);
    }

    [Fact]
    public void When_no_model_is_within_the_margin_the_headline_says_so()
    {
        var rows = new List<ReportRow> { Row("float", 0.98, null, null), Row("uniform 16-bit", 0.98, 30000, Same), Row("learned", 0.96, 1000, new PairedGap(400, 0, 8)) };
        Assert.StartsWith("**Headline**: no quantized model came within 1 validation point of float (97.00 %)", MainJob.Headline(rows));
    }
}
