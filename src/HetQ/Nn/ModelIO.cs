using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace HetQ.Nn;

/// <summary>What a saved model carries besides its layers and weights.</summary>
public sealed record ModelMetadata(string Name, int NumClasses, string[]? ClassNames = null, string Loss = "softmax_cross_entropy",
    JsonElement? Data = null, JsonElement? Training = null, JsonElement? Quantization = null, ModelTask? Task = null)
{
    /// <summary>The model's task (classification when the model file names none).</summary>
    public ModelTask TaskOrDefault => Task ?? ModelTask.Classification;
}

/// <summary>A model directory: <c>model.json</c> (architecture, parameter table, metadata) and
/// <c>weights.bin</c> (every parameter as little-endian float32, in table order). Saving is atomic:
/// the directory is written beside the target and moved into place.</summary>
public static class ModelIO
{
    public const string Format = "hetq-model";
    public const int Version = 1;

    public static void Save(Model model, ModelMetadata meta, string directory)
    {
        string full = Path.GetFullPath(directory);
        string parent = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(parent);
        string tmp = Path.Combine(parent, $".{Path.GetFileName(full)}.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(tmp);
        try
        {
            var ps = model.Parameters;
            using (var fs = File.Create(Path.Combine(tmp, "weights.bin")))
            {
                var buf = new byte[4];
                foreach (var p in ps)
                    foreach (float v in p.Value)
                    {
                        BinaryPrimitives.WriteSingleLittleEndian(buf, v);
                        fs.Write(buf);
                    }
            }
            File.WriteAllText(Path.Combine(tmp, "model.json"), ToJson(model, meta));
            if (Directory.Exists(full)) Directory.Delete(full, recursive: true);
            Directory.Move(tmp, full);
        }
        catch
        {
            if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true);
            throw;
        }
    }

    public static string ToJson(Model model, ModelMetadata meta)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("format", Format);
            w.WriteNumber("version", Version);
            w.WriteString("name", meta.Name);
            LayerConfig.WriteInts(w, "input_shape", model.InputShape);
            if (model.InputQuantizer is { } iq) w.WriteString("input_quantizer", iq.Spec);
            w.WriteNumber("num_classes", meta.NumClasses);
            if (meta.ClassNames is not null)
            {
                w.WriteStartArray("class_names");
                foreach (var c in meta.ClassNames) w.WriteStringValue(c);
                w.WriteEndArray();
            }
            w.WriteString("loss", meta.Loss);
            if (meta.Task is { } task && task.Kind != TaskKind.Classification)
            {
                w.WritePropertyName("task");
                task.Write(w);
            }
            w.WriteStartArray("layers");
            foreach (var n in model.Nodes)
            {
                var inputs = n.Inputs.Length == 1 && n.Inputs[0] == model.Nodes.ToList().IndexOf(n) - 1
                    ? Array.Empty<string>()
                    : n.Inputs.Select(i => i < 0 ? "input" : model.Nodes[i].Layer.Name).ToArray();
                LayerConfig.Write(w, n.Layer, inputs);
            }
            w.WriteEndArray();
            w.WriteStartObject("weights");
            w.WriteString("file", "weights.bin");
            w.WriteString("dtype", "float32-le");
            w.WriteStartArray("parameters");
            long offset = 0;
            foreach (var p in model.Parameters)
            {
                w.WriteStartObject();
                w.WriteString("name", p.Name);
                LayerConfig.WriteInts(w, "shape", p.Shape);
                w.WriteNumber("offset", offset);
                w.WriteEndObject();
                offset += p.Length;
            }
            w.WriteEndArray();
            w.WriteEndObject();
            if (meta.Data is { } d) { w.WritePropertyName("data"); d.WriteTo(w); }
            if (meta.Training is { } t) { w.WritePropertyName("training"); t.WriteTo(w); }
            if (meta.Quantization is { } q) { w.WritePropertyName("quantization"); q.WriteTo(w); }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray()) + "\n";
    }

    public static (Model Model, ModelMetadata Meta) Load(string directory)
    {
        string json = Path.Combine(directory, "model.json");
        if (!Directory.Exists(directory)) throw new HetQException($"{directory}: model directory not found");
        if (!File.Exists(json)) throw new HetQException($"{directory}: not a model directory (no model.json)");
        var s = JsonSpec.Load(json);
        string format = s.String("format", "");
        if (format != Format) throw new HetQException($"{json}: not a HetQ model (format '{format}', expected '{Format}')");
        int version = s.Int("version", 0);
        if (version != Version) throw new HetQException($"{json}: model format version {version} is not supported (this HetQ reads {Version})");
        var inputShape = s.Ints("input_shape") ?? throw s.Error("input_shape", "is required");
        var layers = s.Objects("layers").Select(ls => (LayerConfig.Create(ls), ls.Strings("inputs"))).ToList();
        var names = s.Objects("layers").Select(ls => ls.String("name")).ToList();
        for (int i = 0; i < layers.Count; i++) if (names[i] is { } n) layers[i].Item1.Name = n;
        var model = Model.Build(inputShape, layers, seed: 0);
        if (LayerConfig.Quantizer(s, "input_quantizer") is { } inputQ) model.InputQuantizer = Quantization.FakeQuantizer.For(inputQ, "input", inputShape);
        var weights = s.Object("weights") ?? throw s.Error("weights", "is required");
        string bin = Path.Combine(directory, weights.String("file", "weights.bin"));
        if (!File.Exists(bin)) throw new HetQException($"{bin}: weights file not found");
        byte[] bytes = File.ReadAllBytes(bin);
        var table = weights.Objects("parameters");
        var ps = model.Parameters;
        if (table.Count != ps.Count) throw new HetQException($"{json}: {table.Count} parameters listed, the architecture has {ps.Count}");
        for (int i = 0; i < ps.Count; i++)
        {
            string name = table[i].RequireString("name");
            long offset = table[i].Int("offset") ?? throw table[i].Error("offset", "is required");
            if (name != ps[i].Name) throw new HetQException($"{json}: parameter {i} is '{name}', the architecture expects '{ps[i].Name}'");
            if (bytes.Length < (offset + ps[i].Length) * 4) throw new HetQException($"{bin}: truncated ({bytes.Length} bytes, parameter '{name}' needs up to {(offset + ps[i].Length) * 4})");
            for (int j = 0; j < ps[i].Length; j++)
                ps[i].Value[j] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan((int)((offset + j) * 4), 4));
        }
        var meta = new ModelMetadata(s.String("name", Path.GetFileName(directory)), s.Int("num_classes", Tensor.Size(model.OutputShape)),
            s.Strings("class_names"), s.String("loss", "softmax_cross_entropy"), s.Raw("data")?.Clone(), s.Raw("training")?.Clone(), s.Raw("quantization")?.Clone(),
            s.Has("task") ? ModelTask.Parse(s.ObjectOrType("task")) : null);
        return (model, meta);
    }

}
