namespace HetQ.Tests.Cli;

[Collection("Console")]
public class RunCommandTests
{
    [Fact]
    public void The_main_job_runs_end_to_end_and_writes_a_report_with_measured_rows()
    {
        using var dir = new TempDir();
        var (code, stdout, stderr) = CliRunner.Run("run", "--out", dir.File("main"), "--trials", "2", "--no-hardware", "--seed", "3"); // hardware is tested in HetQ.Tests.Hardware
        Assert.True(code == 0, stderr + stdout);
        string report = File.ReadAllText(Path.Combine(dir.File("main"), "report.md"));
        Assert.Contains("| float |", report);
        Assert.Contains("| uniform 8-bit QAT |", report);
        Assert.Contains("searched, best score", report);
        Assert.Contains("| learned widths, ", report);
        Assert.True(File.Exists(Path.Combine(dir.File("main"), "learned", "pareto.png")));
        Assert.True(File.Exists(Path.Combine(dir.File("main"), "search", "pareto.png")));
        // every quantized row was emulated with 0 mismatches against the fake-quantized model
        foreach (var line in report.Split('\n').Where(l => l.StartsWith("| uniform", StringComparison.Ordinal) || l.StartsWith("| searched", StringComparison.Ordinal) || l.StartsWith("| learned", StringComparison.Ordinal)))
        {
            Assert.EndsWith("%", line.Split('|')[2].Trim()); // validation accuracy beside the test accuracy
            Assert.Equal("0", line.Split('|')[7].Trim());
            // the hardware did not run, so its columns say so instead of showing figures
            Assert.Equal("not run", line.Split('|')[8].Trim());
            Assert.Equal("not run", line.Split('|')[9].Trim());
        }
        Assert.Contains("hardware not run (--no-hardware)", report);
        Assert.DoesNotContain("(none)", report);
        Assert.DoesNotContain("Headline", report); // no LUT figure without hardware
        Assert.Contains("`hetq run --seed 3`", report);
        Assert.Contains("1007 training, 431 validation and 359 test samples", report);
        Assert.Contains("points against float on 431 validation samples", report); // the paired comparison of each candidate
        // the streamed CNN's section: trained and emulated, its hardware not run
        Assert.Contains("## Streamed CNN on the 8x8 digits", report);
        var cnn = report.Split('\n').Single(l => l.StartsWith("| CNN conv 3x3x8", StringComparison.Ordinal));
        Assert.Equal("0", cnn.Split('|')[5].Trim());
        Assert.Equal("not run", cnn.Split('|')[6].Trim());

        (code, stdout, stderr) = CliRunner.Run("study", "show", Path.Combine(dir.File("main"), "study.sqlite"));
        Assert.True(code == 0, stderr);
        Assert.Contains("5 trials, 5 done", stdout);
    }
}
