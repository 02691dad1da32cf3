using System.Diagnostics;
using System.Globalization;
using HetQ.Graph;
using HetQ.Hardware;
using HetQ.Nn;
using HetQ.Nn.Layers;
using HetQ.Quantization;

namespace HetQ.Bench;

/// <summary>Seconds to write the Verilog and to estimate the resources of the Fashion-MNIST MLP 784-64-32-32-10 (50k
/// weights), frozen from its Glorot-initialised weights (no training data needed: the weight distribution, not the
/// accuracy, sets the size of the design), at a uniform 16 bits and at a 4-6-bit mix.</summary>
internal static class ScaleBench
{
    private static LayerQuantizers Q(string k, string b, string? a) =>
        new(QuantizerParser.Parse(k), QuantizerParser.Parse(b), a is null ? null : QuantizerParser.Parse(a));

    /// <summary>The frozen MLP with the kernel/bias/activation quantizers of each of its four layers.</summary>
    public static IntegerGraph Mlp(string name, string input, (string K, string B, string? A)[] q)
    {
        int[] units = [64, 32, 32, 10];
        var layers = new List<(Layer, string[]?)>();
        for (int l = 0; l < 4; l++)
            layers.Add((new Dense(units[l], l < 3 ? new Activation(ActivationKind.Relu) : default) { Name = l < 3 ? $"fc{l + 1}" : "output", Quantizers = Q(q[l].K, q[l].B, q[l].A) }, null));
        var model = Model.Build([784], layers, 42);
        model.InputQuantizer = new FakeQuantizer(QuantizerParser.Parse(input));
        var r = Freezer.Freeze(model, name);
        return r.Graph ?? throw new HetQException(string.Join("; ", r.Problems));
    }

    public static IEnumerable<IntegerGraph> Models()
    {
        yield return Mlp("fashion_mlp_w4_6", "quantized_bits(8,0,keep_negative=False)",
        [
            ("quantized_bits(4,0,alpha=1)", "quantized_bits(8,3,alpha=1)", "quantized_relu(4,2)"),
            ("quantized_bits(5,0,alpha=1)", "quantized_bits(6,2,alpha=1)", "quantized_relu(5,2)"),
            ("quantized_bits(6,0,alpha=1)", "quantized_bits(6,2,alpha=1)", "quantized_relu(6,2)"),
            ("quantized_bits(6,0,alpha=1)", "quantized_bits(6,2,alpha=1)", null),
        ]);
        var u16 = ("quantized_bits(16,1,alpha=1)", "quantized_bits(16,4,alpha=1)", (string?)"quantized_relu(16,6)");
        yield return Mlp("fashion_mlp_w16", "quantized_bits(16,0,keep_negative=False)", [u16, u16, u16, u16 with { Item3 = null }]);
    }

    public static int Run(int repeats, bool profile = false)
    {
        if (profile)
        {
            foreach (var g in Models())
                foreach (var node in g.Nodes)
                {
                    if (node.Op is not DenseOp d) continue;
                    var cpu = Process.GetCurrentProcess().TotalProcessorTime;
                    var sw = Stopwatch.StartNew();
                    var m = ConstantMatrix.Decompose(d.In, d.Out, (i, j) => d.Weights[i * d.Out + j]);
                    double used = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{g.Name} {node.Name} {d.In}x{d.Out}: decompose {sw.Elapsed.TotalSeconds:F3} s wall, {used:F3} s cpu, {m.Adders.Count} shared + {m.TreeAdders} tree adders"));
                }
            return 0;
        }
        Console.WriteLine($"MLP 784-64-32-32-10, in-process, best of {repeats} (after one warm-up run): wall seconds, and CPU seconds of the process (GC threads included)");
        Console.WriteLine($"{"model",-18} {"write s",8} {"cpu s",7} {"estimate s",11} {"cpu s",7} {"LUT est",9} {"lines",8}");
        foreach (var g in Models())
        {
            (double Wall, double Cpu) Best(Action a)
            {
                a();
                double best = double.MaxValue, cpu = double.MaxValue;
                for (int r = 0; r < repeats; r++)
                {
                    var c0 = Process.GetCurrentProcess().TotalProcessorTime;
                    var sw = Stopwatch.StartNew();
                    a();
                    best = Math.Min(best, sw.Elapsed.TotalSeconds);
                    cpu = Math.Min(cpu, (Process.GetCurrentProcess().TotalProcessorTime - c0).TotalSeconds);
                }
                return (best, cpu);
            }
            VerilogDesign? design = null;
            ResourceEstimate? estimate = null;
            var write = Best(() => design = VerilogWriter.Write(g, new HardwareOptions()));
            var est = Best(() => estimate = ResourceModel.Estimate(g));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{g.Name,-18} {write.Wall,8:F3} {write.Cpu,7:F3} {est.Wall,11:F3} {est.Cpu,7:F3} {estimate!.Lut,9} {design!.TopText.Count(c => c == '\n'),8}"));
        }
        return 0;
    }
}
