using System.CommandLine;
using System.Text.Json;
using HetQ.Interop;
using HetQ.Nn;

namespace HetQ.Cli.Commands;

/// <summary>`hetq import MODEL.json --weights W.h5 --out DIR [--json]`, `hetq import MODEL.h5 --out DIR`,
/// `hetq import MODEL.keras --out DIR` or `hetq import MODEL.onnx --out DIR`: a Keras 2 / QKeras, Keras 3 / QKeras v3 or
/// ONNX / QONNX model into a HetQ model directory.</summary>
internal static class ImportCommand
{
    // Relaxed escaping keeps the ' and < > of layer names and quantizer specs readable.

    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "Keras architecture JSON (model.to_json()), a full Keras 2 .h5 (model.save) holding architecture and weights, a Keras 3 .keras archive (model.save(\"m.keras\"), QKeras v3 and HGQ2 layers included), an HGQ proxy .h5 (to_proxy_model(model).save), or an ONNX / QONNX .onnx (torch.onnx.export, Brevitas); channels-first ONNX models become channels last" };
        var weights = new Option<string?>("--weights") { Description = "HDF5 weights (model.save_weights; for a .keras archive a Keras 3 .weights.h5); a full .h5 or .keras reads its own by default" };
        var output = new Option<string>("--out") { Description = "model directory to write", Required = true };
        var json = new Option<bool>("--json") { Description = "print one JSON object {model, layers, parameters, warnings} instead of the layer table" };
        var cmd = new Command("import", "Import a Keras 2 / QKeras model (architecture JSON + HDF5 weights, or one full .h5; HGQ proxies with their per-element widths), a Keras 3 / QKeras v3 / HGQ2 archive (.keras) or an ONNX / QONNX model (.onnx) into a HetQ model directory.")
        {
            model, weights, output, json,
        };
        cmd.SetAction(parse =>
        {
            string dir = Files.SafeOutput.CheckDirectory(parse.GetValue(output)!, Files.ArtefactKind.Model, "--out");
            string file = parse.GetValue(model)!;
            bool onnx = Path.GetExtension(file).Equals(".onnx", StringComparison.OrdinalIgnoreCase);
            if (onnx && parse.GetValue(weights) is not null) throw new HetQException($"--weights: an ONNX model holds its own weights ({file})");
            var imported = onnx ? Interop.Onnx.OnnxImporter.Import(file) : KerasImporter.Import(file, parse.GetValue(weights));
            ModelIO.Save(imported.Model, imported.Meta, dir, "--out");
            foreach (var w in imported.Warnings) Console.Error.WriteLine($"hetq: warning: {w}");
            int parameters = imported.Model.TrainableParameters.Sum(p => p.Length);
            if (parse.GetValue(json))
            {
                Console.WriteLine(CliJson.Serialize(new { model = dir, layers = imported.Model.Nodes.Count, parameters, warnings = imported.Warnings }));
            }
            else
            {
                Console.Write(Table(imported.Model));
                Console.WriteLine($"{imported.Model.Nodes.Count} layers, {parameters} trainable parameters; model saved to {dir}");
            }
            return 0;
        });
        return cmd;
    }

    internal static string Table(Model model)
    {
        var rows = model.Nodes.Select(n => (n.Layer.Name, n.Layer.Type, Shape: "[" + string.Join(",", n.Layer.OutputShape) + "]",
            Params: n.Layer.Parameters.Where(p => p.Trainable).Sum(p => p.Length).ToString(System.Globalization.CultureInfo.InvariantCulture),
            Quantizers: Quantizers(n.Layer.Quantizers))).ToList();
        int w1 = Math.Max(5, rows.Max(r => r.Name.Length)) + 2, w2 = Math.Max(4, rows.Max(r => r.Type.Length)) + 2;
        int w3 = Math.Max(6, rows.Max(r => r.Shape.Length)) + 2, w4 = Math.Max(6, rows.Max(r => r.Params.Length));
        var sb = new System.Text.StringBuilder();
        sb.Append("layer".PadRight(w1)).Append("type".PadRight(w2)).Append("output".PadRight(w3)).Append("params".PadLeft(w4)).Append("  quantizers\n");
        foreach (var r in rows)
            sb.Append(r.Name.PadRight(w1)).Append(r.Type.PadRight(w2)).Append(r.Shape.PadRight(w3)).Append(r.Params.PadLeft(w4)).Append("  ").Append(r.Quantizers).Append('\n');
        return sb.ToString();
    }

    private static string Quantizers(LayerQuantizers? q)
    {
        if (q is null) return "-";
        var parts = new List<string>();
        if (q.Kernel is not null) parts.Add($"kernel={q.Kernel.Spec}");
        if (q.Bias is not null) parts.Add($"bias={q.Bias.Spec}");
        if (q.Activation is not null) parts.Add($"activation={q.Activation.Spec}");
        return string.Join(" ", parts);
    }
}
