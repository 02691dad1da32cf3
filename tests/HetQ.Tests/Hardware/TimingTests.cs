using System.Text.Json;
using HetQ.Hardware;

namespace HetQ.Tests.Hardware;

public class TimingTests(ITestOutputHelper output)
{
    private static JsonElement Netlist(string cells, string ports) =>
        JsonDocument.Parse("{\"modules\": {\"top\": {\"ports\": {" + ports + "}, \"cells\": {"
                           + cells.Replace("LUT2DIRS", Lut2, StringComparison.Ordinal).Replace("FFDIRS", Ff, StringComparison.Ordinal) + "}}}}").RootElement;

    private const string Lut2 = """ "port_directions": {"I0": "input", "I1": "input", "O": "output"} """;
    private const string Ff = """ "port_directions": {"C": "input", "CE": "input", "R": "input", "D": "input", "Q": "output"} """;

    /// <summary>a[1:0] → LUT2 → FF1 → LUT1 → CARRY4 (CI → CO[3]) → LUT2 (with FF1 again) → FF2 → y. Stage 1 is one LUT
    /// level; stage 2 is two LUT levels and 4 carry bits; the output follows FF2 directly, so there is no stage 3.</summary>
    [Fact]
    public void Levels_and_carry_bits_are_counted_per_stage()
    {
        var n = Netlist("""
            "l1": {"type": "LUT2", LUT2DIRS, "connections": {"I0": [2], "I1": [3], "O": [4]}},
            "f1": {"type": "FDRE", FFDIRS, "connections": {"C": [1], "CE": ["1"], "R": ["0"], "D": [4], "Q": [5]}},
            "l2": {"type": "LUT1", "port_directions": {"I0": "input", "O": "output"}, "connections": {"I0": [5], "O": [6]}},
            "c": {"type": "CARRY4", "port_directions": {"CI": "input", "S": "input", "DI": "input", "CO": "output", "O": "output"},
                  "connections": {"CI": [6], "S": ["1", "1", "1", "1"], "DI": ["0", "0", "0", "0"], "CO": [7, 8, 9, 11], "O": [13, 14, 15, 16]}},
            "l3": {"type": "LUT2", LUT2DIRS, "connections": {"I0": [11], "I1": [5], "O": [12]}},
            "f2": {"type": "FDRE", FFDIRS, "connections": {"C": [1], "CE": ["1"], "R": ["0"], "D": [12], "Q": [10]}}
            """, """
            "clk": {"direction": "input", "bits": [1]}, "a": {"direction": "input", "bits": [2, 3]}, "y": {"direction": "output", "bits": [10]}
            """);
        var d = LogicDepth.Count(n, "top");
        Assert.Equal(new[] { new StageDepth(1, 1, 0, 1), new StageDepth(2, 2, 4, 1) }, d.Stages);
        Assert.Equal(2, d.MaxLutLevels);
        Assert.Equal(4, d.MaxCarryBits);
    }

    [Fact]
    public void Combinational_designs_end_at_the_outputs_and_loops_are_refused()
    {
        var comb = Netlist("""
            "l1": {"type": "SB_LUT4", "port_directions": {"I0": "input", "I1": "input", "I2": "input", "I3": "input", "O": "output"},
                   "connections": {"I0": [2], "I1": [3], "I2": ["0"], "I3": ["0"], "O": [4]}},
            "c1": {"type": "SB_CARRY", "port_directions": {"CI": "input", "I0": "input", "I1": "input", "CO": "output"}, "connections": {"CI": [4], "I0": [2], "I1": [3], "CO": [5]}},
            "c2": {"type": "SB_CARRY", "port_directions": {"CI": "input", "I0": "input", "I1": "input", "CO": "output"}, "connections": {"CI": [5], "I0": [2], "I1": [3], "CO": [6]}},
            "l2": {"type": "SB_LUT4", "port_directions": {"I0": "input", "I1": "input", "I2": "input", "I3": "input", "O": "output"},
                   "connections": {"I0": [6], "I1": [3], "I2": ["0"], "I3": ["0"], "O": [7]}}
            """, """ "a": {"direction": "input", "bits": [2, 3]}, "y": {"direction": "output", "bits": [7, 4]} """);
        Assert.Equal(new[] { new StageDepth(1, 2, 2, 2) }, LogicDepth.Count(comb, "top").Stages);

        var loop = Netlist("""
            "l1": {"type": "LUT2", LUT2DIRS, "connections": {"I0": [2], "I1": [5], "O": [4]}},
            "f1": {"type": "FDRE", FFDIRS, "connections": {"C": [1], "CE": ["1"], "R": ["0"], "D": [4], "Q": [5]}}
            """, """ "clk": {"direction": "input", "bits": [1]}, "a": {"direction": "input", "bits": [2]}, "y": {"direction": "output", "bits": [5]} """);
        Assert.Contains("loop", Assert.Throws<HetQException>(() => LogicDepth.Count(loop, "top")).Message, StringComparison.Ordinal);
        Assert.Contains("no module other", Assert.Throws<HetQException>(() => LogicDepth.Count(loop, "other")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Fmax_is_read_from_the_report_or_else_the_last_log_line()
    {
        using var dir = new TempDir();
        const string log = "Info: Max frequency for clock 'clk': 120.50 MHz (PASS at 12.00 MHz)\n"
                           + "Info: Max frequency for clock 'clk$SB_IO_IN_$glb_clk': 98.25 MHz (PASS at 12.00 MHz)\n";
        Assert.Equal(98.25, PlaceRoute.ParseFmax(dir.File("missing.json"), log));
        File.WriteAllText(dir.File("r.json"), """{"fmax": {"a": {"achieved": 150.5, "constraint": 12}, "b": {"achieved": 75.25, "constraint": 12}}}""");
        Assert.Equal(75.25, PlaceRoute.ParseFmax(dir.File("r.json"), log));
        Assert.Null(PlaceRoute.ParseFmax(dir.File("missing.json"), "Info: Program finished normally."));
    }

    [Fact]
    public void The_delay_model_recovers_exact_coefficients_and_has_no_leave_one_out_error_on_exact_data()
    {
        static FmaxPoint P(int l, int c) => new($"{l}/{c}", l, c, 1000.0 / (2.0 + 0.75 * l + 0.05 * c), 100);
        var m = FmaxModel.Fit("ecp5", "test", new[] { P(1, 10), P(3, 40), P(5, 20), P(2, 80), P(7, 5) }, "test");
        Assert.Equal(2.0, m.InterceptNs, 9);
        Assert.Equal(0.75, m.NsPerLutLevel, 9);
        Assert.Equal(0.05, m.NsPerCarryBit, 9);
        Assert.True(m.LooMaxErrorPercent < 1e-6, m.Describe());
        Assert.Equal(1000.0 / (2.0 + 0.75 * 4 + 0.05 * 30), m.Estimate(4, 30), 9);
        Assert.Throws<HetQException>(() => FmaxModel.Fit("ecp5", "test", new[] { P(1, 10), P(3, 40), P(5, 20) }, "test"));
        var back = FmaxModel.Parse(FmaxModel.ToJson(new[] { m }), "test").Single();
        Assert.Equal(m.NsPerCarryBit, back.NsPerCarryBit);
        Assert.Equal(m.Points, back.Points);
    }

    [Fact]
    public void The_shipped_model_is_calibrated_for_ecp5()
    {
        var m = FmaxModel.For(SynthesisTarget.Xilinx);
        Assert.NotNull(m);
        output.WriteLine(m.Describe());
        Assert.Equal("ecp5", m.Family);
        Assert.True(m.Points.Count >= 4);
        Assert.All(m.Points, p => Assert.True(p.FmaxMhz > 0));
    }

    [Fact]
    public void The_wrapper_feeds_the_design_from_shift_registers()
    {
        var design = VerilogWriter.Write(TestDesigns.Tiny(), new HardwareOptions());
        string w = PlaceRoute.Wrapper(design.Manifest);
        Assert.Contains($"{design.Manifest.Top} dut(.clk(clk), .x(xs), .y(y));", w, StringComparison.Ordinal);
        Assert.Contains($"reg [{design.Manifest.Input.Bits - 1}:0] xs;", w, StringComparison.Ordinal);
        Assert.Contains("assign sout = ys[", w, StringComparison.Ordinal);
    }
}
