using System.Text.Json;
using HetQ.Hardware;
using HetQ.Nn;
using HetQ.Tests.Cli;
using Xunit.Abstractions;

namespace HetQ.Tests.Hardware;

[Collection("Console")]
public class SynthesisTests(ITestOutputHelper output)
{
    [Fact]
    public void Yosys_stat_cells_are_parsed_from_the_last_section_of_the_top_module()
    {
        const string log = """
            === top ===

               Number of cells:                  3
                 LUT2                            3

            12. Executing something else.

            === top ===

               Number of wires:                 93
               Number of cells:                107
                 BUFG                            1
                 CARRY4                         23
                 FDRE                           17
                 LUT2                           42

            End of script.
            """;
        var cells = Synthesis.ParseCells(log.Replace("\r\n", "\n", StringComparison.Ordinal), "top")!;
        Assert.Equal(new Dictionary<string, int> { ["BUFG"] = 1, ["CARRY4"] = 23, ["FDRE"] = 17, ["LUT2"] = 42 }, cells);
        Assert.Null(Synthesis.ParseCells(log, "other"));
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void Hw_synth_counts_the_tiny_design_for_each_target()
    {
        if (ToolRunner.Find("yosys") is null)
        {
            output.WriteLine("skipped: yosys not found on PATH (Debian: apt-get install yosys)");
            return;
        }
        using var dir = new TempDir();
        ModelIO.Save(Graph.GoldenGraphTests.Tiny(), new ModelMetadata("tiny", 2), dir.File("m"));
        Assert.Equal(0, CliRunner.Run("hw", dir.File("m"), "--out", dir.File("hw")).Code);
        foreach (var target in new[] { "xilinx", "ecp5", "ice40" })
        {
            var (code, stdout, err) = CliRunner.Run("hw", "synth", dir.File("hw"), "--target", target, "--json");
            Assert.True(code == 0, err + stdout);
            var r = JsonDocument.Parse(stdout.Trim()).RootElement;
            output.WriteLine($"{target}: {stdout.Trim()}");
            Assert.True(r.GetProperty("lut").GetInt32() > 0);
            Assert.True(r.GetProperty("carry").GetInt32() > 0, "the adder trees map onto carry chains");
            int ff = r.GetProperty("ff").GetInt32();
            Assert.True(ff is > 0 and <= 21, $"{ff} flip-flops for the 2 x 4 + 7 + 6 register bits of the two stages (constant bits may go)");
            Assert.Equal(0, r.GetProperty("dsp").GetInt32());
            Assert.Equal(0, r.GetProperty("bram").GetInt32());
            Assert.Equal(2, r.GetProperty("cycles").GetInt32());
            Assert.Equal(JsonValueKind.Null, r.GetProperty("fmax_mhz").ValueKind);
            Assert.Equal(JsonValueKind.Null, r.GetProperty("fmax_source").ValueKind);
            Assert.True(File.Exists(Path.Combine(dir.File("hw"), "synth", target + "_netlist.v")));
        }
    }
}
