using System.CommandLine;
using HetQ.Data;
using HetQ.Emulation;
using HetQ.Graph;
using HetQ.Quantization;
using HetQ.Training;

namespace HetQ.Cli.Commands;

/// <summary>`hetq predict MODEL --data DATA --out y.npy [--raw]` and `hetq trace MODEL --data DATA --out t.npz
/// [--samples N] [--raw]`: the emulated (bit-exact) outputs, and every node's output, as hls4ml's predict and trace.</summary>
internal static class PredictCommand
{
    private static (Option<string> Data, Option<string> Out, Option<bool> Raw, Option<string?> Input) Common(string outDescription)
    {
        var data = new Option<string>("--data") { Description = "inputs: a .npy of samples ([n, ...sample shape], channels last), or a training / data-set configuration (its test part)", Required = true };
        var output = new Option<string>("--out") { Description = outDescription, Required = true };
        var raw = new Option<bool>("--raw") { Description = "write the integer codes (int64) instead of their real values (float64: code · 2^-F, exact)" };
        var input = new Option<string?>("--input-type") { Description = "fixed-point type of the input when the model has no input quantizer (default ap_fixed<16,6,RND_CONV,SAT>)" };
        return (data, output, raw, input);
    }

    public static Command CreatePredict()
    {
        var model = new Argument<string>("model") { Description = "model directory (frozen on the fly)" };
        var (data, output, raw, input) = Common("the .npy to write: [n, outputs]");
        var cmd = new Command("predict", "Run the frozen integer model (the bit-exact emulator) on inputs and write its outputs (the logits: a final softmax or sigmoid is left out) as a .npy.")
        {
            model, data, output, raw, input,
        };
        cmd.SetAction(parse =>
        {
            var graph = Freeze(parse.GetValue(model)!, parse.GetValue(input));
            var (x, n) = Inputs(parse.GetValue(data)!, graph);
            var emu = new Emulator(graph);
            var codes = emu.Run(x);
            string file = parse.GetValue(output)!;
            int[] shape = [n, .. graph.Output.Output.Shape];
            if (parse.GetValue(raw)) NpyWriter.Write(file, codes, shape);
            else NpyWriter.Write(file, emu.Values(codes), shape);
            Console.WriteLine($"{n} samples, output {graph.Output.Output.Type} [{string.Join(",", graph.Output.Output.Shape)}]{(parse.GetValue(raw) ? ", raw codes" : "")}; written to {Path.GetFullPath(file)}");
            return 0;
        });
        return cmd;
    }

    public static Command CreateTrace()
    {
        var model = new Argument<string>("model") { Description = "model directory (frozen on the fly)" };
        var (data, output, raw, input) = Common("the .npz to write: one array per graph node, [samples, ...node shape]");
        var samples = new Option<int>("--samples") { Description = "how many samples (the first ones) to trace", DefaultValueFactory = _ => 5 };
        var cmd = new Command("trace", "Every node's output of the frozen integer model for a few samples, as a .npz with one array per node (named as the graph names its nodes).")
        {
            model, data, output, samples, raw, input,
        };
        cmd.SetAction(parse =>
        {
            int count = parse.GetValue(samples);
            if (count < 1) throw new HetQException($"--samples: {count} is not a positive number of samples");
            var graph = Freeze(parse.GetValue(model)!, parse.GetValue(input));
            var (x, n) = Inputs(parse.GetValue(data)!, graph);
            n = Math.Min(n, count);
            var all = new Emulator(graph).Trace(x.AsSpan(0, n * graph.Input.Output.Size));
            var arrays = new List<(string, Array, int[])>();
            var used = new HashSet<string>(StringComparer.Ordinal);
            for (int k = 0; k < graph.Nodes.Count; k++)
            {
                var node = graph.Nodes[k];
                string name = new(node.Name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' ? c : '_').ToArray());
                while (!used.Add(name)) name += "_";
                int[] shape = [n, .. node.Output.Shape];
                arrays.Add(parse.GetValue(raw) ? (name, all[k], shape) : (name, all[k].Select(r => FixedPoint.FromRaw(r, node.Output.Type)).ToArray(), shape));
            }
            string file = parse.GetValue(output)!;
            NpyWriter.WriteNpz(file, arrays);
            Console.WriteLine($"{graph.Nodes.Count} nodes, {n} samples; written to {Path.GetFullPath(file)}");
            foreach (var (name, _, shape) in arrays) Console.WriteLine($"  {name} [{string.Join(",", shape)}]");
            return 0;
        });
        return cmd;
    }

    internal static IntegerGraph Freeze(string dir, string? inputType) =>
        Freezer.FreezeDirectory(dir, inputType is { } t ? FixedFormat.Parse(t) : null);

    internal static (float[] X, int N) Inputs(string data, IntegerGraph graph)
    {
        int size = graph.Input.Output.Size;
        if (Path.GetExtension(data).Equals(".npy", StringComparison.OrdinalIgnoreCase))
        {
            var a = NpyReader.Read(data);
            int[] sample = a.Shape.Length == 0 ? [] : a.Shape[1..];
            if (a.Shape.Length == 0 || Numerics.Tensor.Size(sample) != size)
                throw new HetQException($"{data}: shape [{string.Join(",", a.Shape)}]; the model takes samples of [{string.Join(",", graph.Input.Output.Shape)}] ({size} values), so [n, {string.Join(", ", graph.Input.Output.Shape)}]");
            return (a.Values, a.Shape[0]);
        }
        var test = EvalJob.LoadData(data).Test;
        if (test.SampleSize != size && test.Count > 0)
            throw new HetQException($"{data}: samples have {test.SampleSize} values; the model takes {size}");
        return (test.Features, test.Count);
    }
}
