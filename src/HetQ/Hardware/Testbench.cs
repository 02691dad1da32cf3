using System.CodeDom.Compiler;
using System.Globalization;
using System.Numerics;
using System.Text;
using HetQ.Emulation;
using HetQ.Graph;
using HetQ.Quantization;

namespace HetQ.Hardware;

/// <summary>Input vectors as the design's raw input codes and the outputs the emulator gives for them
/// (row-major: <see cref="Count"/> rows of the port's elements).</summary>
public sealed record SimulationVectors(int Count, long[] Inputs, long[] Expected);

/// <summary>The simulation testbench: input and expected-output hex files, and a Verilog-2001 testbench that feeds a
/// vector every clock, compares every output <see cref="HardwareManifest.LatencyCycles"/> cycles later and prints one
/// result line (and the first mismatch).</summary>
public static class Testbench
{
    public const string Module = "hetq_tb";
    public const string FileName = "tb.v";
    public const string InputsFile = "inputs.hex";
    public const string ExpectedFile = "expected.hex";

    /// <summary>Vectors for <paramref name="features"/> (float samples, quantized by the input format as the emulator
    /// does) followed by <paramref name="random"/> random vectors over the input codes the input format can produce,
    /// the first ones all at the minimum, all at the maximum and alternating between them.</summary>
    public static SimulationVectors Vectors(IntegerGraph graph, HardwareManifest manifest, ReadOnlySpan<float> features, int random, int seed = 1) =>
        Vectors(graph, manifest, features, random, seed, null);

    /// <summary><see cref="Vectors(IntegerGraph, HardwareManifest, ReadOnlySpan{float}, int, int)"/>, and when the design's
    /// <paramref name="netlist"/> is given, every expected output checked against it, run cycle by cycle by
    /// <see cref="NetlistInterpreter"/> (<see cref="Check"/>), before anything is written.</summary>
    internal static SimulationVectors Vectors(IntegerGraph graph, HardwareManifest manifest, ReadOnlySpan<float> features, int random, int seed, Netlist? netlist)
    {
        var v = Compute(graph, manifest, features, random, seed);
        if (netlist is not null && manifest.IsStreaming) StreamingTestbench.Check(netlist, manifest, v, StreamingTestbench.Schedule(manifest, v, seed));
        else if (netlist is not null && manifest.IsFolded) FoldedTestbench.Check(netlist, manifest, v);
        else if (netlist is not null) Check(netlist, manifest, v);
        return v;
    }

    /// <summary>Runs the netlist on the vectors, one per clock as the testbench feeds them, and compares every output
    /// <see cref="HardwareManifest.LatencyCycles"/> cycles later with the emulator's. A difference is a bug in HetQ (the
    /// writer and the emulator disagree), not in the user's input: it throws <see cref="NetlistMismatchException"/>,
    /// which the command line reports as an internal error (exit 70).</summary>
    internal static void Check(Netlist netlist, HardwareManifest m, SimulationVectors v)
    {
        var run = NetlistInterpreter.For(netlist);
        int n = m.Input.Elements, k = m.Output.Elements, latency = m.LatencyCycles;
        var got = new long[k];
        for (int cycle = 0; cycle < v.Count + latency; cycle++)
        {
            if (cycle < v.Count) run.SetInput(m.Input.Name, v.Inputs.AsSpan(cycle * n, n), m.Input.ElementWidth);
            run.Evaluate();
            if (cycle >= latency)
            {
                int sample = cycle - latency;
                run.ReadOutput(m.Output.Name, got, m.Output.ElementWidth, m.Output.Signed);
                for (int j = 0; j < k; j++)
                    if (got[j] != v.Expected[sample * k + j])
                        throw new NetlistMismatchException($"the netlist of {m.Top} gives {got[j]} for output {j} of vector {sample}, the emulator {v.Expected[sample * k + j]}: the writer and the emulator disagree (a bug in HetQ; please report it)");
            }
            run.Clock();
        }
    }

    private static SimulationVectors Compute(IntegerGraph graph, HardwareManifest manifest, ReadOnlySpan<float> features, int random, int seed)
    {
        var emulator = new Emulator(graph);
        int n = emulator.InputSize;
        if (features.Length % n != 0) throw new HetQException($"{features.Length} input values are not whole samples of the design's {n} inputs");
        ArgumentOutOfRangeException.ThrowIfNegative(random);
        var format = ((InputOp)graph.Input.Op).Format;
        var x = new float[features.Length + random * n];
        features.CopyTo(x);
        var rng = new Random(seed);
        long min = FixedPoint.MinRaw(format.Type, format.Overflow), max = format.Type.MaxRaw;
        for (int v = 0; v < random; v++)
            for (int i = 0; i < n; i++)
            {
                long code = v switch
                {
                    0 => min,
                    1 => max,
                    2 => i % 2 == 0 ? min : max,
                    3 => i % 2 == 0 ? max : min,
                    _ => rng.Next(8) switch { 0 => min, 1 => max, _ => rng.NextInt64(min, max + 1) },
                };
                x[features.Length + v * n + i] = (float)FixedPoint.FromRaw(code, format.Type);
            }
        int count = x.Length / n;
        var inputs = new long[x.Length];
        // The codes the emulator's input stage gives: with learned widths each element through its own format, then
        // onto the common type (the port carries common-type codes).
        var elements = ((InputOp)graph.Input.Op).Elements is null ? null : new ElementInputQuantizer((InputOp)graph.Input.Op);
        for (int i = 0; i < x.Length; i++)
            inputs[i] = elements is not null ? elements.Apply(i % n, x[i]) : FixedPoint.ToRaw(x[i], format.Type, format.Rounding, format.Overflow);
        var outputs = emulator.Run(x);
        if (manifest.Argmax)
        {
            int k = emulator.OutputSize;
            var index = new long[count];
            for (int s = 0; s < count; s++)
            {
                int best = 0;
                for (int j = 1; j < k; j++) if (outputs[s * k + j] > outputs[s * k + best]) best = j;
                index[s] = best;
            }
            outputs = index;
        }
        return new SimulationVectors(count, inputs, outputs);
    }

    /// <summary>Writes the testbench and both hex files into <paramref name="directory"/>.</summary>
    public static void Write(string directory, HardwareManifest m, SimulationVectors v)
    {
        if (v.Count == 0) throw new HetQException("no input vectors to simulate (the data's test part is empty and no random vectors were asked for)");
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, FileName), Text(m, v.Count));
        WriteHex(Path.Combine(directory, InputsFile), v.Inputs, m.Input, v.Count);
        WriteHex(Path.Combine(directory, ExpectedFile), v.Expected, m.Output, v.Count);
    }

    /// <summary>One line per vector: the port's bits in hexadecimal, element i at bits [(i+1)·W-1 : i·W].</summary>
    private static void WriteHex(string file, long[] codes, HardwarePort port, int count)
    {
        if (codes.Length != count * port.Elements) throw new ArgumentException($"{codes.Length} codes are not {count} vectors of {port.Elements}");
        var mask = (BigInteger.One << port.ElementWidth) - 1;
        using var w = new StreamWriter(file, false, new UTF8Encoding(false)) { NewLine = "\n" };
        for (int s = 0; s < count; s++)
        {
            BigInteger word = 0;
            for (int i = port.Elements - 1; i >= 0; i--) word = (word << port.ElementWidth) | ((BigInteger)codes[s * port.Elements + i] & mask);
            w.WriteLine(Hex(word, port.Bits));
        }
    }

    /// <summary>The code of one output element printed by the testbench in hexadecimal; null when it has X or Z bits.</summary>
    public static long? Decode(string hex, HardwarePort port)
    {
        if (!BigInteger.TryParse("0" + hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var v)) return null;
        v &= (BigInteger.One << port.ElementWidth) - 1;
        if (port.Signed && v >> (port.ElementWidth - 1) == 1) v -= BigInteger.One << port.ElementWidth;
        return (long)v;
    }

    /// <summary>A word as exactly (bits + 3) / 4 hex digits (its two's complement low bits), as $readmemh reads it.</summary>
    internal static string Hex(BigInteger word, int bits)
    {
        int digits = (bits + 3) / 4;
        return word.ToString("x" + (digits + 1).ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture)[^digits..];
    }

    /// <summary>A testbench's opening: its comment lines, the timescale, <c>`default_nettype none</c>, the module line,
    /// the given localparams and then the port widths (<see cref="WritePortParameters"/>). The returned writer writes
    /// into <paramref name="s"/>, indented inside the module.</summary>
    internal static IndentedTextWriter Begin(StringWriter s, HardwareManifest m, string[] comments, (string Name, long Value)[] parameters)
    {
        var w = new IndentedTextWriter(s, "  ") { NewLine = "\n" };
        foreach (string c in comments) w.WriteLine(c);
        w.WriteLine("`timescale 1ns/1ps");
        w.WriteLine("`default_nettype none");
        w.WriteLineNoTabs("");
        w.WriteLine($"module {Module};");
        w.Indent++;
        foreach (var (name, value) in parameters) w.WriteLine($"localparam {name} = {value.ToString(CultureInfo.InvariantCulture)};");
        WritePortParameters(w, m);
        return w;
    }

    /// <summary>A testbench's closing: when <paramref name="received"/> names the count of outputs taken, the ones
    /// never received count as mismatches (the first reported if none was before); then the result line, $finish and
    /// the end of the module. Returns the whole text.</summary>
    internal static string End(IndentedTextWriter w, StringWriter s, string? received, string? comment)
    {
        if (received is not null)
        {
            w.WriteLine($"// {comment}");
            w.WriteLine($"if ({received} < N) begin");
            w.Indent++;
            w.WriteLine($"if (mismatches == 0) $display(\"HETQ-MISMATCH sample=%0d output=0 got=x expected=0\", {received});");
            w.WriteLine($"mismatches = mismatches + (N - {received});");
            w.Indent--;
            w.WriteLine("end");
        }
        w.WriteLine("$display(\"HETQ-RESULT vectors=%0d mismatches=%0d\", N, mismatches);");
        w.WriteLine("$finish;");
        w.Indent--;
        w.WriteLine("end");
        w.Indent--;
        w.WriteLine("endmodule");
        w.WriteLineNoTabs("");
        w.WriteLine("`default_nettype wire");
        w.Flush();
        return s.ToString();
    }

    /// <summary>The testbench's port widths as localparams IN_BITS, OUT_BITS, OUT_W and OUT_N, then a blank line.</summary>
    internal static void WritePortParameters(IndentedTextWriter w, HardwareManifest m)
    {
        w.WriteLine($"localparam IN_BITS = {m.Input.Bits};");
        w.WriteLine($"localparam OUT_BITS = {m.Output.Bits};");
        w.WriteLine($"localparam OUT_W = {m.Output.ElementWidth};");
        w.WriteLine($"localparam OUT_N = {m.Output.Elements};");
        w.WriteLineNoTabs("");
    }

    /// <summary>Compares y with expected[<paramref name="index"/>]: a mismatch counts, and the first one prints the index,
    /// the first differing output and both codes (the line <see cref="Simulation"/> parses).</summary>
    internal static void WriteCompare(IndentedTextWriter w, string index)
    {
        w.WriteLine($"want = expected[{index}];");
        w.WriteLine("if (y !== want) begin");
        w.Indent++;
        w.WriteLine("if (mismatches == 0) begin");
        w.Indent++;
        w.WriteLine("first = OUT_N - 1;");
        w.WriteLine("for (j = OUT_N - 1; j >= 0; j = j - 1)");
        w.WriteLine("  if (y[j*OUT_W +: OUT_W] !== want[j*OUT_W +: OUT_W]) first = j;");
        w.WriteLine($"$display(\"HETQ-MISMATCH sample=%0d output=%0d got=%h expected=%h\", {index}, first, y[first*OUT_W +: OUT_W], want[first*OUT_W +: OUT_W]);");
        w.Indent--;
        w.WriteLine("end");
        w.WriteLine("mismatches = mismatches + 1;");
        w.Indent--;
        w.WriteLine("end");
    }

    private static string Text(HardwareManifest m, int count)
    {
        var s = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
        var w = Begin(s, m,
            [$"// Testbench generated by HetQ for {m.Top}: {count} vectors, one per clock; every output is compared",
             $"// {m.LatencyCycles} cycles later with {ExpectedFile} (the emulator's outputs)."],
            [("N", count), ("LATENCY", m.LatencyCycles)]);
        w.WriteLine("reg clk = 1'b0;");
        w.WriteLine("reg [IN_BITS-1:0] x = {IN_BITS{1'b0}};");
        w.WriteLine("wire [OUT_BITS-1:0] y;");
        w.WriteLine("reg [OUT_BITS-1:0] want;");
        w.WriteLine("reg [IN_BITS-1:0] inputs [0:N-1];");
        w.WriteLine("reg [OUT_BITS-1:0] expected [0:N-1];");
        w.WriteLine("integer cycle, sample, j, first, mismatches;");
        w.WriteLineNoTabs("");
        w.WriteLine($"{m.Top} dut (.{m.Clock}(clk), .{m.Input.Name}(x), .{m.Output.Name}(y));");
        w.WriteLineNoTabs("");
        w.WriteLine("initial begin");
        w.Indent++;
        w.WriteLine($"$readmemh(\"{InputsFile}\", inputs);");
        w.WriteLine($"$readmemh(\"{ExpectedFile}\", expected);");
        w.WriteLine("mismatches = 0;");
        w.WriteLine("for (cycle = 0; cycle < N + LATENCY; cycle = cycle + 1) begin");
        w.Indent++;
        w.WriteLine("if (cycle < N) x = inputs[cycle];");
        w.WriteLine("#1;");
        w.WriteLine("if (cycle >= LATENCY) begin");
        w.Indent++;
        w.WriteLine("sample = cycle - LATENCY;");
        WriteCompare(w, "sample");
        w.Indent--;
        w.WriteLine("end");
        w.WriteLine("clk = 1'b1;");
        w.WriteLine("#1;");
        w.WriteLine("clk = 1'b0;");
        w.Indent--;
        w.WriteLine("end");
        return End(w, s, null, null);
    }
}

/// <summary>The design's netlist, run in process, differs from the emulator: an internal error of HetQ, never the user's.</summary>
public sealed class NetlistMismatchException(string message) : Exception(message);
