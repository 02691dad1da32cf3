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
    public void Combinational_designs_end_at_the_outputs_and_combinational_loops_are_refused()
    {
        var comb = Netlist("""
            "l1": {"type": "SB_LUT4", "port_directions": {"I0": "input", "I1": "input", "I2": "input", "I3": "input", "O": "output"},
                   "connections": {"I0": [2], "I1": [3], "I2": ["0"], "I3": ["0"], "O": [4]}},
            "c1": {"type": "SB_CARRY", "port_directions": {"CI": "input", "I0": "input", "I1": "input", "CO": "output"}, "connections": {"CI": [4], "I0": [2], "I1": [3], "CO": [5]}},
            "c2": {"type": "SB_CARRY", "port_directions": {"CI": "input", "I0": "input", "I1": "input", "CO": "output"}, "connections": {"CI": [5], "I0": [2], "I1": [3], "CO": [6]}},
            "l2": {"type": "SB_LUT4", "port_directions": {"I0": "input", "I1": "input", "I2": "input", "I3": "input", "O": "output"},
                   "connections": {"I0": [6], "I1": [3], "I2": ["0"], "I3": ["0"], "O": [7]}}
            """, """ "a": {"direction": "input", "bits": [2, 3]}, "y": {"direction": "output", "bits": [7, 4]} """);
        var d = LogicDepth.Count(comb, "top");
        Assert.Equal(new[] { new StageDepth(1, 2, 2, 2) }, d.Stages);
        Assert.False(d.Sequential);

        var loop = Netlist("""
            "l1": {"type": "LUT2", LUT2DIRS, "connections": {"I0": [2], "I1": [4], "O": [5]}},
            "l2": {"type": "LUT2", LUT2DIRS, "connections": {"I0": [5], "I1": [2], "O": [4]}}
            """, """ "a": {"direction": "input", "bits": [2]}, "y": {"direction": "output", "bits": [4]} """);
        Assert.Contains("combinational loop", Assert.Throws<HetQException>(() => LogicDepth.Count(loop, "top")).Message, StringComparison.Ordinal);
        Assert.Contains("no module other", Assert.Throws<HetQException>(() => LogicDepth.Count(loop, "other")).Message, StringComparison.Ordinal);
    }

    /// <summary>A counter cnt (FF f1: Q → LUT2 with a → CARRY4 CI → CO[3] → LUT1 → D, its own feedback loop), an
    /// accumulator acc (f2: Q and cnt → LUT2 → D), a LUT shift register line (SRL16E: D from cnt directly; Q → LUT1 → w),
    /// and y = LUT1(acc). Cut at every register: cnt's paths are 2 LUT levels and 4 carry bits, acc's 1 and 0, line's 0
    /// and 0 (its D comes straight from a flip-flop), the outputs y and w 1 and 0 each. Hidden net names and longer
    /// aliases do not name a register; the stages are numbered in the order of their names.</summary>
    [Fact]
    public void A_sequential_design_is_cut_at_every_register_and_its_stages_are_named_by_their_registers()
    {
        var n = JsonDocument.Parse("""
            {"modules": {"top": {
              "ports": {"clk": {"direction": "input", "bits": [1]}, "a": {"direction": "input", "bits": [2]},
                        "y": {"direction": "output", "bits": [10]}, "w": {"direction": "output", "bits": [12]}},
              "cells": {
                "f1": {"type": "FDRE", FFDIRS, "connections": {"C": [1], "CE": ["1"], "R": ["0"], "D": [5], "Q": [4]}},
                "l1": {"type": "LUT2", LUT2DIRS, "connections": {"I0": [4], "I1": [2], "O": [6]}},
                "c": {"type": "CARRY4", "port_directions": {"CI": "input", "S": "input", "DI": "input", "CO": "output", "O": "output"},
                      "connections": {"CI": [6], "S": ["1", "1", "1", "1"], "DI": ["0", "0", "0", "0"], "CO": [13, 14, 15, 7], "O": [16, 17, 18, 19]}},
                "l2": {"type": "LUT1", "port_directions": {"I0": "input", "O": "output"}, "connections": {"I0": [7], "O": [5]}},
                "f2": {"type": "FDRE", FFDIRS, "connections": {"C": [1], "CE": ["1"], "R": ["0"], "D": [9], "Q": [8]}},
                "l3": {"type": "LUT2", LUT2DIRS, "connections": {"I0": [4], "I1": [8], "O": [9]}},
                "l4": {"type": "LUT1", "port_directions": {"I0": "input", "O": "output"}, "connections": {"I0": [8], "O": [10]}},
                "s": {"type": "SRL16E", "port_directions": {"CLK": "input", "CE": "input", "D": "input", "A0": "input", "A1": "input", "A2": "input", "A3": "input", "Q": "output"},
                      "connections": {"CLK": [1], "CE": ["1"], "D": [4], "A0": ["1"], "A1": ["1"], "A2": ["0"], "A3": ["0"], "Q": [11]}},
                "l5": {"type": "LUT1", "port_directions": {"I0": "input", "O": "output"}, "connections": {"I0": [11], "O": [12]}}
              },
              "netnames": {"cnt": {"hide_name": 0, "bits": [4]}, "acc": {"hide_name": 0, "bits": [8]}, "acc_alias": {"hide_name": 0, "bits": [8]},
                           "$auto$ff.cc:1$2": {"hide_name": 1, "bits": [4, 8]}, "line": {"hide_name": 0, "bits": [11]}}
            }}}
            """.Replace("LUT2DIRS", Lut2, StringComparison.Ordinal).Replace("FFDIRS", Ff, StringComparison.Ordinal)).RootElement;
        var d = LogicDepth.Count(n, "top");
        Assert.True(d.Sequential);
        Assert.Equal(new[]
        {
            new StageDepth(1, 1, 0, 1, "acc"), new StageDepth(2, 2, 4, 1, "cnt"), new StageDepth(3, 0, 0, 1, "line"),
            new StageDepth(4, 1, 0, 1, "w (output)"), new StageDepth(5, 1, 0, 1, "y (output)"),
        }, d.Stages);
        Assert.Equal(2, d.MaxLutLevels);
        Assert.Equal(4, d.MaxCarryBits);
        Assert.Equal("cnt", d.Worst!.Name);
        Assert.Equal(new[] { "cnt", "acc", "w (output)" }, d.Deepest(3).Select(s => s.Name));
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
