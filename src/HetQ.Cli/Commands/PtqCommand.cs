using System.CommandLine;
using System.Text.Json;
using HetQ.Graph;
using HetQ.Interop;
using HetQ.Nn;
using HetQ.Quantization;
using HetQ.Training;

namespace HetQ.Cli.Commands;

/// <summary>`hetq ptq MODEL --precision T [--config hls4ml.yml] [--profile DATA] --out DIR [--json]`: post-training
/// quantization of a float model, as hls4ml configures one.</summary>
internal static class PtqCommand
{

    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "model directory (from hetq import or hetq train); its quantizers, if any, are replaced" };
        var precision = new Option<string>("--precision") { Description = "default type of every weight, bias and layer result, hls4ml's Model: Precision (default ap_fixed<16,6>, that is TRN and WRAP as in ap_fixed)", DefaultValueFactory = _ => "ap_fixed<16,6>" };
        var config = new Option<string?>("--config") { Description = "hls4ml configuration (YAML): Model: Precision and LayerName: NAME: Precision: {weight, bias, result} override the default" };
        var profile = new Option<string?>("--profile") { Description = "data set (a training or data-set configuration): the integer bits of every tensor not set by --config are fitted to the range it takes there (hls4ml's 'auto'); the training part is used, or the test part when there is none" };
        var output = new Option<string>("--out") { Description = "model directory to write (must differ from MODEL)", Required = true };
        var json = new Option<bool>("--json") { Description = "print one JSON object {model, tensors, freezes, problems, warnings} instead of the table" };
        var cmd = new Command("ptq", "Post-training quantization: give a float model fixed-point weights, biases and results (a default precision, hls4ml per-layer overrides, or ranges profiled on data) and write a quantized model every command takes.")
        {
            model, precision, config, profile, output, json,
        };
        cmd.SetAction(parse =>
        {
            string src = Path.GetFullPath(parse.GetValue(model)!);
            string dir = Path.GetFullPath(parse.GetValue(output)!);
            if (string.Equals(src.TrimEnd('/'), dir.TrimEnd('/'), StringComparison.Ordinal))
                throw new HetQException($"--out {dir}: ptq writes a new model; give a directory other than MODEL");
            var (m, meta) = ModelIO.Load(src);
            FixedFormat fmt;
            try
            {
                fmt = FixedFormat.Parse(parse.GetValue(precision)!);
            }
            catch (HetQException e)
            {
                throw new HetQException($"--precision: {e.Message}", e);
            }
            var cfg = parse.GetValue(config) is { } c ? Hls4mlConfig.Load(c) : null;
            Data.Dataset? data = null;
            if (parse.GetValue(profile) is { } p)
            {
                var splits = EvalJob.LoadData(p);
                data = splits.Train.Count > 0 ? splits.Train : splits.Test;
            }
            var r = PtqJob.Run(m, new PtqOptions(fmt, cfg, data));
            var freeze = Freezer.Freeze(r.Model, meta.Name);
            ModelIO.Save(r.Model, meta with { Quantization = null }, dir);
            foreach (var w in r.Warnings) Console.Error.WriteLine($"hetq: warning: {w}");
            if (parse.GetValue(json))
            {
                Console.WriteLine(CliJson.Serialize(new
                {
                    model = dir,
                    tensors = r.Tensors.Select(t => new { layer = t.Layer, role = t.Role, type = t.Format.ToString(), source = t.Source }),
                    freezes = freeze.Graph is not null,
                    problems = freeze.Problems,
                    warnings = r.Warnings,
                }));
                return 0;
            }
            int w1 = Math.Max(6, r.Tensors.Max(t => t.Layer.Length)) + 2;
            Console.WriteLine($"{"layer".PadRight(w1)}{"tensor",-8}{"type",-28}source");
            foreach (var t in r.Tensors) Console.WriteLine($"{t.Layer.PadRight(w1)}{t.Role,-8}{t.Format,-28}{t.Source}");
            if (data is not null) Console.WriteLine($"profiled on {data.Count} samples of {data.Name}");
            if (freeze.Graph is null)
            {
                Console.WriteLine("the quantized model does not freeze:");
                foreach (var problem in freeze.Problems) Console.WriteLine($"  - {problem}");
            }
            else
            {
                foreach (var n in freeze.Graph.Notes) Console.WriteLine($"note: {n}");
            }
            Console.WriteLine($"quantized model saved to {dir}");
            return 0;
        });
        return cmd;
    }
}
