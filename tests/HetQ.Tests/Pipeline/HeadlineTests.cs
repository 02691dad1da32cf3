using HetQ.Pipeline;

namespace HetQ.Tests.Pipeline;

/// <summary>The main job's headline: chosen on validation accuracy, judged on test accuracy and Yosys LUTs.</summary>
public class HeadlineTests
{
    private static ReportRow Row(string name, double val, double test, int? luts, long? estimate = null) =>
        new(name, "", test, null, null, null, 0, luts is null && estimate is null ? null
            : new HardwareNumbers(10, 0, "icarus", luts, null, null, null, 1, null, estimate), null, val);

    [Fact]
    public void The_cheapest_model_within_one_validation_point_is_the_headline_and_the_target_is_judged_on_test_accuracy()
    {
        var rows = new List<ReportRow>
        {
            Row("float", 0.970, 0.980, null),
            Row("uniform 16-bit", 0.968, 0.980, 30000),
            Row("cheap but inaccurate", 0.940, 0.950, 1000),  // 3 validation points below: not eligible
            Row("learned", 0.962, 0.975, 2900),
            Row("searched", 0.965, 0.978, 5000),
        };
        string h = MainJob.Headline(rows, 0.970)!;
        Assert.StartsWith("**Headline**: learned: 2,900 LUTs (Yosys) against 30,000", h);
        Assert.Contains("10.3x fewer", h);
        Assert.Contains("0.50 points below", h);
        Assert.EndsWith("met.", h);
        Assert.DoesNotContain("not met", h);

        // 1.5 test points below float: not met, though chosen the same way.
        rows[3] = Row("learned", 0.962, 0.965, 2900);
        Assert.EndsWith("not met.", MainJob.Headline(rows, 0.970));
    }

    [Fact]
    public void Without_synthesis_the_estimate_is_used_and_labelled()
    {
        var rows = new List<ReportRow> { Row("float", 0.97, 0.98, null), Row("uniform 16-bit", 0.97, 0.98, null, 20000), Row("learned", 0.97, 0.98, null, 1000) };
        string h = MainJob.Headline(rows, 0.97)!;
        Assert.Contains("1,000 LUTs (resource model estimate; not synthesized)", h);
        Assert.Contains("20.0x fewer", h);
        Assert.Null(MainJob.Headline([Row("float", 0.97, 0.98, null), Row("learned", 0.97, 0.98, null)], 0.97)); // no baseline, no headline
    }
}
