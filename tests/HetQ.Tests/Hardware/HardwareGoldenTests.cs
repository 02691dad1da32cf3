using HetQ.Graph;
using HetQ.Hardware;
using HetQ.Tests.Graph;

namespace HetQ.Tests.Hardware;

/// <summary>The Verilog of the tiny model as text: a change to the writer shows up as a diff of this file.
/// Regenerate with HETQ_UPDATE_GOLDEN=1 after checking the diff is intended.</summary>
public class HardwareGoldenTests
{
    [Fact]
    public void The_tiny_model_writes_the_golden_Verilog()
    {
        var design = VerilogWriter.Write(Freezer.Freeze(GoldenGraphTests.Tiny(), "tiny").Graph!, new HardwareOptions());
        string text = design.TopText + "\n// manifest.json\n" + string.Join("\n", design.Manifest.ToJson().TrimEnd().Split('\n').Select(l => "// " + l)) + "\n";
        string golden = Path.Combine(AppContext.BaseDirectory, "Golden", "hw", "tiny.v");
        if (Environment.GetEnvironmentVariable("HETQ_UPDATE_GOLDEN") == "1")
        {
            string src = Path.Combine(GoldenGraphTests.RepoRoot(), "tests", "HetQ.Tests", "Golden", "hw", "tiny.v");
            Directory.CreateDirectory(Path.GetDirectoryName(src)!);
            File.WriteAllText(src, text);
            return;
        }
        Assert.True(File.Exists(golden), $"golden file missing: run the tests once with HETQ_UPDATE_GOLDEN=1 ({golden})");
        Assert.Equal(File.ReadAllText(golden), text);
    }
}
