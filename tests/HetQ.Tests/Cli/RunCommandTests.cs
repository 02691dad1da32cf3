namespace HetQ.Tests.Cli;

[Collection("Console")]
public class RunCommandTests
{
    [Fact]
    public void The_main_job_runs_end_to_end_and_writes_a_report_with_measured_rows()
    {
        using var dir = new TempDir();
        var (code, stdout, stderr) = CliRunner.Run("run", "--out", dir.File("main"), "--trials", "2", "--no-hardware"); // hardware is tested in HetQ.Tests.Hardware
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

        (code, stdout, stderr) = CliRunner.Run("study", "show", Path.Combine(dir.File("main"), "study.sqlite"));
        Assert.True(code == 0, stderr);
        Assert.Contains("5 trials, 5 done", stdout);
    }
}
