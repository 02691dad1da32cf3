using System.CodeDom.Compiler;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using HetQ.Graph;

namespace HetQ.Hardware;

/// <summary>Writes an <see cref="IntegerGraph"/> as one synthesizable Verilog-2001 module: fully parallel (a new input
/// vector every clock), every weight a constant (shift-and-add on canonical signed digits, partial sums shared across
/// each weight matrix's outputs unless <see cref="HardwareOptions.Sharing"/> says none, two-input adder trees sized from
/// exact bounds), requantization exactly as the emulator's, and pipeline registers where
/// <see cref="HardwareOptions.Stages"/> asks. The module computes exactly what <see cref="Emulation.Emulator"/> computes.</summary>
public static partial class VerilogWriter
{
    public const string Clock = "clk";
    public const string InputPort = "x";
    public const string OutputPort = "y";

    public static VerilogDesign Write(IntegerGraph graph, HardwareOptions options)
    {
        Validate(graph, options);
        if (options.Io == HardwareIo.Stream) return WriteStreaming(graph, options, FoldedFactors(graph, options));
        if (FoldedFactors(graph, options) is { } reuse) return WriteFolded(graph, options, reuse);
        string top = TopName(graph, options);
        var (probe, decompositions) = Probe(graph, options);
        int depth = probe.Ends.Max();
        var (cuts, pipelining) = Cuts(probe, options, depth);

        var text = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
        var w = new IndentedTextWriter(text, "  ") { NewLine = "\n" };
        var emitter = new Emitter(graph, options, cuts, decompositions);
        emitter.CopyLevels(probe);
        emitter.Emit();
        var manifest = emitter.Manifest(top, pipelining, depth);
        WriteHeader(w, graph, manifest);
        WriteModule(w, top, [$"input wire {Clock}", $"input wire [{manifest.Input.Bits - 1}:0] {InputPort}",
            $"output wire [{manifest.Output.Bits - 1}:0] {OutputPort}"], emitter.Netlist);
        manifest = manifest with { RegisterBits = emitter.RegisterBits };
        return new VerilogDesign(manifest, new[] { new VerilogFile(top + ".v", text.ToString()) }) { Netlist = emitter.Netlist };
    }

    /// <summary>The top module's name: the option's, or hetq_ and the graph's name; refused unless a Verilog identifier.</summary>
    private static string TopName(IntegerGraph graph, HardwareOptions options)
    {
        string top = options.Top ?? "hetq_" + Identifier(graph.Name);
        if (!IdentifierPattern().IsMatch(top)) throw new HetQException($"top module name '{top}' is not a Verilog identifier");
        return top;
    }

    /// <summary>The module <paramref name="top"/> with the port declarations <paramref name="ports"/> and the netlist as its
    /// body, between `default_nettype none and wire.</summary>
    private static void WriteModule(IndentedTextWriter w, string top, IReadOnlyList<string> ports, Netlist net, bool dsp = false)
    {
        w.WriteLine("`default_nettype none");
        w.WriteLine();
        w.WriteLine($"module {top} (");
        w.Indent++;
        for (int i = 0; i < ports.Count; i++) w.WriteLine(ports[i] + (i < ports.Count - 1 ? "," : ""));
        w.Indent--;
        w.WriteLine(");");
        w.Indent++;
        NetlistPrinter.WriteBody(w, net, Clock, dsp);
        w.Indent--;
        w.WriteLine("endmodule");
        w.WriteLine();
        w.WriteLine("`default_nettype wire");
        w.Flush();
    }

    /// <summary>The typed netlist of the design <see cref="Write"/> prints (the same passes, no text).</summary>
    internal static Netlist Build(IntegerGraph graph, HardwareOptions options)
    {
        Validate(graph, options);
        if (options.Io == HardwareIo.Stream) return WriteStreaming(graph, options, FoldedFactors(graph, options)).Netlist!;
        if (FoldedFactors(graph, options) is { } reuse) return WriteFolded(graph, options, reuse).Netlist!;
        var (probe, decompositions) = Probe(graph, options);
        var (cuts, _) = Cuts(probe, options, probe.Ends.Max());
        if (cuts.Length == 0) return probe.Netlist;
        var emitter = new Emitter(graph, options, cuts, decompositions);
        emitter.CopyLevels(probe);
        emitter.Emit();
        return emitter.Netlist;
    }

    /// <summary>Builds the design without writing any text and returns what it is made of, counted from its cells.</summary>
    internal static LogicTally Count(IntegerGraph graph, HardwareOptions options) => new(Build(graph, options));

    private static void Validate(IntegerGraph graph, HardwareOptions options)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(options);
        if (options.SharingDepth is < 0 or > 32) throw new HetQException($"sharing depth must be 0 to 32 extra adder levels, given {options.SharingDepth}");
        if (options.Stages is < 0) throw new HetQException($"stages must be 0 or more, given {options.Stages}");
        if (options.Io == HardwareIo.Stream && options.Stages is not null)
            throw new HetQException("--stages with --io stream: a streaming design has no pipeline stages to place in this version (leave --stages out)");
        if (options.Argmax && graph.Output.Output.Size < 2)
            throw new HetQException($"argmax needs at least 2 outputs; '{graph.Output.Name}' has {graph.Output.Output.Size}");
    }

    /// <summary>A first pass without registers measures each layer's logic depth (the second places the registers);
    /// the matrix decompositions it computes are reused by the second.</summary>
    private static (Emitter Probe, Dictionary<(int Node, RowSet Rows), MatrixDecomposition> Decompositions) Probe(IntegerGraph graph, HardwareOptions options)
    {
        var decompositions = new Dictionary<(int Node, RowSet Rows), MatrixDecomposition>();
        var probe = new Emitter(graph, options, Array.Empty<int>(), decompositions);
        probe.Emit();
        return (probe, decompositions);
    }

    private static (int[] Cuts, string Pipelining) Cuts(Emitter probe, HardwareOptions o, int depth)
    {
        switch (o.Stages)
        {
            case null:
                return (probe.Starts.Zip(probe.Ends).Where(p => p.Second > p.First).Select(p => p.Second - 1).Distinct().Order().ToArray(), "layer");
            case 0:
                return (Array.Empty<int>(), "none");
            case int n when n > depth:
                throw new HetQException($"stages {n}: the design is {depth} levels of logic deep, so it takes at most {depth} register stages");
            case int n:
                return (Enumerable.Range(1, n).Select(j => (int)(((long)j * depth + n - 1) / n) - 1).ToArray(), "even");
        }
    }

    private static void WriteHeader(IndentedTextWriter w, IntegerGraph g, HardwareManifest m)
    {
        w.WriteLine($"// Generated by HetQ from the integer graph '{g.Name}'; do not edit.");
        w.WriteLine($"// Top module {m.Top}: fully parallel, a new input every clock (II = 1); latency {m.LatencyCycles} clock cycle{(m.LatencyCycles == 1 ? "" : "s")}");
        w.WriteLine($"// ({m.Stages} register stage{(m.Stages == 1 ? "" : "s")}, pipelining: {m.Pipelining}; {m.Levels} levels of logic; partial sums shared: {m.Sharing}).");
        w.WriteLine($"// Input  {m.Input.Name}: {m.Input.Elements} x {m.Input.Type} raw codes, {m.Input.ElementWidth} bits each: element i at [(i+1)*{m.Input.ElementWidth}-1 : i*{m.Input.ElementWidth}].");
        string what = m.Argmax ? "the index of the largest logit (the first one on ties)" : $"{m.Output.Elements} x {m.Output.Type} raw codes";
        w.WriteLine($"// Output {m.Output.Name}: {what}, {m.Output.ElementWidth} bits each: element i at [(i+1)*{m.Output.ElementWidth}-1 : i*{m.Output.ElementWidth}].");
        w.WriteLine("// Layers (clock cycles counted from the input):");
        foreach (var l in m.Layers) w.WriteLine($"//   {l.Name,-16} {l.Op,-15} cycles {l.FirstCycle}..{l.LastCycle}");
    }

    /// <summary>A Verilog identifier from a name: other characters become '_', a leading digit gets a prefix.</summary>
    internal static string Identifier(string name)
    {
        var sb = new StringBuilder(name.Length);
        foreach (char c in name) sb.Append(c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_' ? c : '_');
        if (sb.Length == 0 || char.IsDigit(sb[0])) sb.Insert(0, "n_");
        return sb.ToString();
    }

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex IdentifierPattern();
}
