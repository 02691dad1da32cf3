using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using HetQ.Hardware;

namespace HetQ.Tests.Hardware;

/// <summary>The streaming cells (counter, shift register, ROM, equality, one-bit logic, registers with enable and
/// synchronous reset) on a hand-built netlist: the interpreter's outputs every cycle equal Icarus's simulation of the
/// printed module, and a few values are checked by hand.</summary>
public class StreamingCellTests
{
    private static (Netlist Net, int Bits) Build()
    {
        var n = new Netlist(Array.Empty<int>());
        var rst = n.PortSlice("rst_i", "rst", 0, 1, false);
        var valid = n.PortSlice("valid_i", "in_valid", 0, 1, false);
        var d = n.PortSlice("d_i", "d", 0, 4, true);
        var count = n.State("count", new CounterCell(5, valid.Id, rst.Id), 0, 4, 0);
        var line = n.State("line", new ShiftRegisterCell(d.Id, 3, valid.Id), -8, 7, 0);
        var rom = n.State("lut", new RomCell(count.Id, new BigInteger[] { 3, 14, 0, 9, 7, 1, 2, 15 }), 0, 15, 0);
        var last = n.Wire("ctl", 'e', 0, 1, 0, new EqualsCell(Operand.Wire(count.Id, 0), 4), 0);
        var validOut = n.State("valid_r", new RegisterCell(valid.Id, Reset: rst.Id), 0, 1, 0);
        var take = n.Wire("ctl", 'l', 0, 1, 0, new LogicCell(LogicKind.And, validOut.Id, last.Id), 0);
        var idle = n.Wire("ctl", 'n', 0, 1, 0, new LogicCell(LogicKind.Not, take.Id), 0);
        var hold = n.State("hold", new RegisterCell(line.Id, take.Id, rst.Id), -8, 7, 0);
        n.Output("y", 0, 4, Operand.Wire(hold.Id, 0));
        n.Output("y", 4, 4, Operand.Wire(rom.Id, 0));
        n.Output("y", 8, 1, Operand.Wire(take.Id, 0));
        n.Output("y", 9, 3, Operand.Wire(count.Id, 0));
        n.Output("y", 12, 1, Operand.Wire(idle.Id, 0));
        return (n, 13);
    }

    /// <summary>Per cycle (rst, in_valid, d): reset twice, five valid inputs to fill the line buffer, then random.</summary>
    private static List<(long Rst, long Valid, long D)> Stimulus(int cycles)
    {
        var rng = new Random(4);
        var s = new List<(long, long, long)>();
        for (int i = 0; i < cycles; i++)
            s.Add(i < 2 ? (1, 1, i) : i < 7 ? (0, 1, i - 8) : (rng.Next(40) == 0 ? 1 : 0, rng.Next(3) == 0 ? 0 : 1, rng.Next(-8, 8)));
        return s;
    }

    private static List<long> Interpret(Netlist n, List<(long Rst, long Valid, long D)> stimulus)
    {
        var run = NetlistInterpreter.For(n);
        var y = new long[1];
        var outputs = new List<long>();
        foreach (var (rst, valid, d) in stimulus)
        {
            run.SetInput("rst", [rst], 1);
            run.SetInput("in_valid", [valid], 1);
            run.SetInput("d", [d], 4);
            run.Evaluate();
            run.ReadOutput("y", y, 13, false);
            outputs.Add(y[0]);
            run.Clock();
        }
        return outputs;
    }

    [Fact]
    public void The_interpreter_counts_shifts_and_resets_as_the_cells_say()
    {
        var (n, _) = Build();
        var o = Interpret(n, Stimulus(40));
        // after the two reset cycles the counter is 0 and counts every valid cycle modulo 5
        Assert.Equal(0, (o[2] >> 9) & 7);
        Assert.Equal(3, (o[5] >> 9) & 7);
        Assert.Equal(3, (o[2] >> 4) & 15); // table[0]
        Assert.Equal(9, (o[5] >> 4) & 15); // table[3]
        // count reaches 4 in cycle 6 with valid_r set: take, and hold gets the line buffer's last word (d of cycle 3, -5)
        Assert.Equal(1, (o[6] >> 8) & 1);
        Assert.Equal(0, (o[6] >> 12) & 1);
        Assert.Equal(-5 & 15, o[7] & 15);
        Assert.Equal(0, (o[7] >> 9) & 7); // and wrapped to 0
        Assert.Equal(n.Cells.Where(c => c.IsSequential).Sum(c => c.Op is ShiftRegisterCell s ? s.Length * c.Width : c.Width), n.RegisterBits);
    }

    [Fact]
    public async Task The_printed_streaming_cells_simulate_as_the_interpreter_runs_them()
    {
        Requires.Tool("iverilog", "iverilog");
        var (n, bits) = Build();
        var stimulus = Stimulus(400);
        var want = Interpret(n, stimulus);
        using var dir = new TempDir();
        dir.Write("top.v", NetlistPrinter.Module(n, "stream_top", "clk"));
        dir.Write("stim.hex", string.Join("\n", stimulus.Select(s => ((s.Rst << 5) | (s.Valid << 4) | (s.D & 15)).ToString("x2", CultureInfo.InvariantCulture))) + "\n");
        dir.Write("tb.v", $$"""
            `timescale 1ns/1ps
            module tb;
              reg clk = 1'b0;
              reg rst, in_valid;
              reg [3:0] d;
              wire [{{bits - 1}}:0] y;
              reg [5:0] stim [0:{{stimulus.Count - 1}}];
              integer i;
              stream_top dut (.clk(clk), .rst(rst), .in_valid(in_valid), .d(d), .y(y));
              initial begin
                $readmemh("stim.hex", stim);
                for (i = 0; i < {{stimulus.Count}}; i = i + 1) begin
                  {rst, in_valid, d} = stim[i];
                  #1;
                  $display("%0d %h", i, y);
                  clk = 1'b1; #1; clk = 1'b0;
                end
                $finish;
              end
            endmodule
            """);
        await Run(dir.Path, "iverilog", "-g2005", "-o", "sim.vvp", "tb.v", "top.v");
        string output = await Run(dir.Path, "vvp", "-n", "sim.vvp");
        var got = output.Split('\n').Select(l => l.Trim().Split(' ')).Where(p => p.Length == 2 && int.TryParse(p[0], out _))
            .ToDictionary(p => int.Parse(p[0], CultureInfo.InvariantCulture), p => p[1]);
        Assert.Equal(stimulus.Count, got.Count);
        for (int i = 2; i < stimulus.Count; i++) // cycles 0 and 1: registers before the first reset edge are X in Verilog
            Assert.True(got[i] == want[i].ToString("x4", CultureInfo.InvariantCulture), $"cycle {i}: icarus {got[i]}, interpreter {want[i]:x4}");
    }

    private static async Task<string> Run(string dir, string program, params string[] args)
    {
        var psi = new ProcessStartInfo(program) { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        Assert.True(p.ExitCode == 0, $"{program} failed ({p.ExitCode}): {await stderr}");
        return await stdout;
    }
}
