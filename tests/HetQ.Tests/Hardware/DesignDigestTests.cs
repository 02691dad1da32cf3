using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using HetQ.Hardware;
using HetQ.Tests.Graph;

namespace HetQ.Tests.Hardware;

/// <summary>For every hardware test case: a digest of its Verilog text and the resource model's features and estimate,
/// pinned in Golden/hw/designs.txt. The golden file was written before the typed netlist replaced the expression
/// strings, so a change in any design's text or in any estimate shows as a diff. Regenerate with HETQ_UPDATE_GOLDEN=1
/// after checking that the diff is intended.</summary>
public class DesignDigestTests
{
    private static string Line(HardwareCases.Case c)
    {
        var g = c.Graph();
        var design = VerilogWriter.Write(g, c.Options);
        string sha = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(design.TopText + design.Manifest.ToJson())))[..16];
        var sb = new StringBuilder($"{c.Name} {sha}");
        foreach (var t in new[] { SynthesisTarget.Xilinx, SynthesisTarget.Ecp5 })
        {
            var e = ResourceModel.Estimate(g, t, c.Options);
            sb.Append(CultureInfo.InvariantCulture, $" | {t}: {e.Lut} {e.Ff} {e.Carry}");
            foreach (var (k, v) in e.Features.OrderBy(p => p.Key, StringComparer.Ordinal)) sb.Append(CultureInfo.InvariantCulture, $" {k}={v}");
        }
        return sb.ToString();
    }

    [Fact]
    public void Every_test_design_writes_the_golden_Verilog_and_estimate()
    {
        string text = string.Join("\n", HardwareCases.All.Select(Line)) + "\n";
        if (Environment.GetEnvironmentVariable("HETQ_UPDATE_GOLDEN") == "1")
        {
            File.WriteAllText(Path.Combine(GoldenGraphTests.RepoRoot(), "tests", "HetQ.Tests", "Golden", "hw", "designs.txt"), text);
            return;
        }
        string golden = Path.Combine(AppContext.BaseDirectory, "Golden", "hw", "designs.txt");
        Assert.True(File.Exists(golden), $"golden file missing: run the tests once with HETQ_UPDATE_GOLDEN=1 ({golden})");
        var want = File.ReadAllText(golden).Split('\n');
        var got = text.Split('\n');
        for (int i = 0; i < Math.Max(want.Length, got.Length); i++)
            Assert.True(i < want.Length && i < got.Length && want[i] == got[i], $"line {i + 1}:\n want {(i < want.Length ? want[i] : "(none)")}\n got  {(i < got.Length ? got[i] : "(none)")}");
    }
}
