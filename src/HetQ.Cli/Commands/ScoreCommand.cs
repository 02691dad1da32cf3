using System.CommandLine;
using System.Globalization;
using System.Text;
using HetQ.Emulation;
using HetQ.Files;
using HetQ.Nn;

namespace HetQ.Cli.Commands;

/// <summary>`hetq score MODEL --data DATA --out scores.csv [--force]`: one row per sample of the frozen graph's output,
/// emulated bit-exactly: an autoencoder's anomaly score, a tagger's score, a regression's outputs.</summary>
internal static class ScoreCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "model directory (frozen on the fly; an autoencoder's graph ends in its reconstruction error)" };
        var data = new Option<string>("--data") { Description = "samples to score: a .npy of [n, ...sample shape] (unlabelled), or a training / data-set configuration (its test part)", Required = true };
        var output = new Option<string>("--out") { Description = "the CSV to write: a header, then per sample its index and the output values (exact: code · 2^-F)", Required = true };
        var force = new Option<bool>("--force") { Description = "replace --out when it exists (otherwise an existing file is an error)" };
        var input = new Option<string?>("--input-type") { Description = "fixed-point type of the input when the model has no input quantizer (default ap_fixed<16,6,RND_CONV,SAT>)" };
        var cmd = new Command("score", "Score samples with the frozen integer model (the bit-exact emulator): per row the anomaly score of an autoencoder (its reconstruction error), the output of a binary tagger, or a regression's outputs, written as CSV.")
        {
            model, data, output, force, input,
        };
        cmd.SetAction(parse =>
        {
            string file = parse.GetValue(output)!;
            if (File.Exists(file) && !parse.GetValue(force))
                throw new HetQException($"--out: {Path.GetFullPath(file)} exists; give --force to replace it");
            SafeOutput.CheckFile(file, "--out");
            string dir = parse.GetValue(model)!;
            var task = ModelIO.Load(dir).Meta.Task ?? ModelTask.Classification;
            var graph = PredictCommand.Freeze(dir, parse.GetValue(input));
            var (x, n) = PredictCommand.Inputs(parse.GetValue(data)!, graph);
            var emu = new Emulator(graph);
            var values = emu.Values(emu.Run(x));
            int k = graph.Output.Output.Size;
            var text = new StringBuilder();
            text.Append("sample");
            string head = task.Kind switch { TaskKind.Autoencoder => "anomaly_score", TaskKind.Binary => "score", _ => "output" };
            for (int j = 0; j < k; j++) text.Append(',').Append(k == 1 ? head : $"{head}_{j}");
            text.Append('\n');
            for (int i = 0; i < n; i++)
            {
                text.Append(i.ToString(CultureInfo.InvariantCulture));
                for (int j = 0; j < k; j++) text.Append(',').Append(values[i * k + j].ToString("R", CultureInfo.InvariantCulture));
                text.Append('\n');
            }
            SafeOutput.WriteText(file, text.ToString(), "--out");
            Console.WriteLine($"{n} samples, {k} value{(k == 1 ? "" : "s")} each ({head}, {graph.Output.Output.Type}); written to {Path.GetFullPath(file)}");
            return 0;
        });
        return cmd;
    }
}
