using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using HetQ.Graph;
using HetQ.Hardware;
using HetQ.Interop;
using HetQ.Nn;

namespace HetQ.Bench;

/// <summary>Seconds to generate the Verilog of a frozen model in-process (no process start, no freezing), with and
/// without shared partial sums, and the adders each variant writes. Default model: the 6-bit QKeras jet tagger.</summary>
internal static partial class HardwareBench
{
    public static int Run(string repoRoot, string? modelDir, string? outDir, int repeats)
    {
        IntegerGraph graph;
        if (modelDir is not null)
        {
            var (m, meta) = ModelIO.Load(modelDir);
            graph = Freezer.Freeze(m, meta.Name).Graph ?? throw new HetQException($"{modelDir}: the model is not exactly representable in fixed point");
        }
        else
        {
            string dir = Path.GetFullPath(Path.Combine(repoRoot, "..", "shared", "data", "models", "keras"));
            string json = Path.Combine(dir, "qkeras_3layer.json");
            if (!File.Exists(json))
            {
                Console.Error.WriteLine($"hw-gen: {json} not found (the reference QKeras jet tagger lives in ../shared); give --model DIR");
                return 2;
            }
            var (model, _) = KerasImporter.Import(json, Path.Combine(dir, "qkeras_3layer_weights.h5"));
            graph = Freezer.Freeze(model, "qkeras_3layer").Graph!;
        }
        Console.WriteLine("adders of each dense layer's matrix (constant inputs included): plain trees; shared + tree adders with sharing (depth kept; any depth)");
        foreach (var node in graph.Nodes)
        {
            if (node.Op is not DenseOp d) continue;
            long W(int i, int j) => d.Weights[i * d.Out + j];
            var plain = ConstantMatrix.Decompose(d.In, d.Out, W, share: false);
            var cse = ConstantMatrix.Decompose(d.In, d.Out, W);
            var deep = ConstantMatrix.Decompose(d.In, d.Out, W, extraDepth: 32);
            int digits = plain.Columns.Sum(c => c.Count);
            Console.WriteLine($"  {node.Name,-8} {d.In}x{d.Out}: {digits} digits, {plain.TreeAdders} adders (depth {plain.Depth}); "
                              + $"{cse.Adders.Count} + {cse.TreeAdders} = {cse.Adders.Count + cse.TreeAdders} (depth {cse.Depth}); "
                              + $"{deep.Adders.Count} + {deep.TreeAdders} = {deep.Adders.Count + deep.TreeAdders} (depth {deep.Depth})");
        }
        var variants = new (string Name, HardwareOptions Options)[]
        {
            ("none", new HardwareOptions(Sharing: Sharing.None)),
            ("cse", new HardwareOptions()),
            ("cse+1", new HardwareOptions(SharingDepth: 1)),
            ("cse+2", new HardwareOptions(SharingDepth: 2)),
            ("cse+32", new HardwareOptions(SharingDepth: 32)),
        };
        Console.WriteLine($"Verilog generation of '{graph.Name}', in-process, best and median wall time and least CPU time of {repeats} after one warm-up run");
        Console.WriteLine($"{"variant",-8} {"best s",8} {"median s",9} {"cpu s",8} {"tree adders",12} {"shared adders",14} {"all adders",11} {"levels",7} {"reg bits",9} {"lines",7}");
        foreach (var (name, options) in variants)
        {
            var design = VerilogWriter.Write(graph, options);
            var times = new List<double>();
            var cpu = new List<double>();
            var process = Process.GetCurrentProcess();
            for (int r = 0; r < repeats; r++)
            {
                process.Refresh();
                var cpu0 = process.TotalProcessorTime;
                var sw = Stopwatch.StartNew();
                design = VerilogWriter.Write(graph, options);
                times.Add(sw.Elapsed.TotalSeconds);
                process.Refresh();
                cpu.Add((process.TotalProcessorTime - cpu0).TotalSeconds);
            }
            times.Sort();
            cpu.Sort();
            string text = design.TopText;
            int tree = TreeAdder().Count(text), shared = SharedAdder().Count(text), lines = text.Count(c => c == '\n');
            var m = design.Manifest;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{name,-8} {times[0],8:F3} {times[times.Count / 2],9:F3} {cpu[0],8:F3} {tree,12} {shared,14} {tree + shared,11} {m.Levels,7} {m.RegisterBits,9} {lines,7}"));
            if (outDir is not null)
            {
                string d = Path.Combine(outDir, name);
                design.Save(d);
                graph.Save(Path.Combine(d, "graph.json"));
            }
        }
        return 0;
    }

    /// <summary>Adders of the per-output trees (wires named PREFIX_sN) and shared adders (PREFIX_cN).</summary>
    [GeneratedRegex(@"^\s*wire [^=]*_s\d+ = ", RegexOptions.Multiline)]
    private static partial Regex TreeAdder();

    [GeneratedRegex(@"^\s*wire [^=]*_c\d+ = ", RegexOptions.Multiline)]
    private static partial Regex SharedAdder();
}
