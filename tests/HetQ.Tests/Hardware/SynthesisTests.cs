using System.Text.Json;
using HetQ.Hardware;
using HetQ.Nn;
using HetQ.Tests.Cli;

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
    public void Hw_synth_counts_places_and_routes_the_tiny_design_for_each_target()
    {
        Requires.Tool("yosys", "yosys");
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
            // Fmax: placed and routed with nextpnr where the tool is installed (scripts/setup-pnr.sh), else estimated
            var t = Enum.Parse<SynthesisTarget>(target, ignoreCase: true);
            string source = t != SynthesisTarget.Xilinx && PnrTools.Find(t) is not null ? "nextpnr" : "estimate";
            if (source == "estimate" && t != SynthesisTarget.Xilinx)
            {
                Assert.False(Requires.Ci, $"{target}: nextpnr is missing under CI, where test.sh installs it: {PnrTools.Missing(t)}");
                output.WriteLine($"{target}: not placed and routed, the estimate is tested instead: {PnrTools.Missing(t)}");
            }
            Assert.Equal(source, r.GetProperty("fmax_source").GetString());
            double fmax = r.GetProperty("fmax_mhz").GetDouble();
            Assert.True(fmax > 0);
            Assert.Equal(2 * 1000.0 / fmax, r.GetProperty("latency_ns").GetDouble(), 9);
            if (source == "nextpnr") Assert.True(File.Exists(r.GetProperty("pnr").GetProperty("log").GetString()));
            var stages = r.GetProperty("stages").EnumerateArray().ToList();
            Assert.Equal(new[] { 1, 2 }, stages.Select(s => s.GetProperty("stage").GetInt32()));
            Assert.Equal(stages.Max(s => s.GetProperty("lut_levels").GetInt32()), r.GetProperty("lut_levels").GetInt32());
            Assert.Equal(stages.Max(s => s.GetProperty("carry_bits").GetInt32()), r.GetProperty("carry_bits").GetInt32());
            Assert.True(r.GetProperty("carry_bits").GetInt32() > 0, "the adders are carry chains");
            Assert.True(File.Exists(Path.Combine(dir.File("hw"), "synth", target + "_netlist.v")));
            Assert.True(File.Exists(Path.Combine(dir.File("hw"), "synth", target + "_netlist.json")));
        }
        // above the size limit, place and route is skipped and says why
        var (c2, o2, e2) = CliRunner.Run("hw", "synth", dir.File("hw"), "--target", "ecp5", "--pnr-max-luts", "1", "--json");
        Assert.True(c2 == 0, e2 + o2);
        var small = JsonDocument.Parse(o2.Trim()).RootElement;
        Assert.Equal("estimate", small.GetProperty("fmax_source").GetString());
        Assert.Contains("above the place-and-route limit of 1", small.GetProperty("fmax_note").GetString(), StringComparison.Ordinal);
        Assert.Contains("least squares", small.GetProperty("fmax_model").GetString(), StringComparison.Ordinal);
    }

    /// <summary>A streaming CNN (6x6 image, counters, line buffers) and a folded MLP (reuse 8: phase counter, accumulators)
    /// through Yosys: their feedback loops are cut at the flip-flops, so hw synth reports LUT levels per register, names
    /// the worst stage, estimates Fmax from the model, compares the resource estimate with Yosys and writes the summary.</summary>
    [Theory]
    [Trait("Category", "Slow")]
    [InlineData("stream")]
    [InlineData("folded")]
    public void Hw_synth_reports_the_levels_of_sequential_designs_register_to_register(string kind)
    {
        Requires.Tool("yosys", "yosys");
        using var dir = new TempDir();
        var (model, classes, options, interval) = kind == "stream"
            ? (StreamingDesignTests.CnnModel(6, 6, 1, 3, 3), 3, new[] { "--io", "stream" }, 36)
            : (FoldedDesignTests.MlpModel(), 10, new[] { "--reuse", "8" }, 8);
        ModelIO.Save(model, new ModelMetadata(kind, classes), dir.File("m"));
        var (code, stdout, err) = CliRunner.Run(new[] { "hw", dir.File("m"), "--out", dir.File("hw") }.Concat(options).ToArray());
        Assert.True(code == 0, err + stdout);
        (code, stdout, err) = CliRunner.Run("hw", "synth", dir.File("hw"), "--target", "xilinx", "--json");
        Assert.True(code == 0, err + stdout);
        output.WriteLine(stdout.Trim());
        var r = JsonDocument.Parse(stdout.Trim()).RootElement;
        Assert.True(r.GetProperty("sequential").GetBoolean());
        Assert.Equal(interval, r.GetProperty("initiation_interval").GetInt32());
        var stages = r.GetProperty("stages").EnumerateArray().ToList();
        Assert.All(stages, st => Assert.False(string.IsNullOrEmpty(st.GetProperty("name").GetString())));
        int levels = r.GetProperty("lut_levels").GetInt32();
        Assert.True(levels > 0);
        Assert.Equal(stages.Max(st => st.GetProperty("lut_levels").GetInt32()), levels);
        Assert.Equal(stages.Max(st => st.GetProperty("carry_bits").GetInt32()), r.GetProperty("carry_bits").GetInt32());
        var worst = r.GetProperty("worst_stage");
        Assert.Equal(levels, worst.GetProperty("lut_levels").GetInt32());
        Assert.Contains(worst.GetProperty("name").GetString(), stages.Select(st => st.GetProperty("name").GetString()));
        // a counter is a stage of its own: the streaming design's column counter, the folded design's phase counter
        Assert.Contains(stages, st => st.GetProperty("name").GetString()!.EndsWith(kind == "stream" ? "_col" : "phase", StringComparison.Ordinal)
                                      && st.GetProperty("lut_levels").GetInt32() > 0);
        Assert.Equal("estimate", r.GetProperty("fmax_source").GetString());
        double fmax = r.GetProperty("fmax_mhz").GetDouble();
        var model0 = FmaxModel.For(SynthesisTarget.Xilinx)!;
        Assert.Equal(model0.Estimate(levels, r.GetProperty("carry_bits").GetInt32()), fmax, 9);
        Assert.Equal(Math.Max(r.GetProperty("cycles").GetInt32(), 1) * 1000.0 / fmax, r.GetProperty("latency_ns").GetDouble(), 9);
        Assert.Equal(interval * 1000.0 / fmax, r.GetProperty("interval_ns").GetDouble(), 9);
        // the resource model's estimate of the same design beside Yosys's counts
        var e = r.GetProperty("estimate");
        Assert.Equal("estimate", e.GetProperty("kind").GetString());
        int lut = r.GetProperty("lut").GetInt32();
        Assert.Equal(Math.Round(100.0 * (e.GetProperty("lut").GetInt64() - lut) / lut, 2), e.GetProperty("lut_error_percent").GetDouble(), 9);
        Assert.Equal(stdout.Trim(), File.ReadAllText(Path.Combine(dir.File("hw"), "synth", "xilinx_summary.json")).Trim());
        // the text summary names the worst stage and the error
        (code, stdout, err) = CliRunner.Run("hw", "synth", dir.File("hw"), "--target", "xilinx");
        Assert.True(code == 0, err + stdout);
        Assert.Contains($"worst stage: into {worst.GetProperty("name").GetString()}", stdout, StringComparison.Ordinal);
        Assert.Contains("against Yosys", stdout, StringComparison.Ordinal);
        Assert.Contains($"interval {interval} clock cycles", stdout, StringComparison.Ordinal);
    }
}
