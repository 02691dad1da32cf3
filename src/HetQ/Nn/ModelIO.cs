using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using HetQ.Files;

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

    /// <summary>Writes the model directory by an atomic swap (<see cref="SafeOutput.ReplaceDirectory"/>): an existing
    /// directory that is not a HetQ model is an error, and a crash leaves the old or the new model complete. The old
    /// directory's subdirectories <paramref name="carry"/> (a learned-width run's pareto/) are carried into the new one
    /// before the swap, and a directory holding only them is accepted.</summary>
    public static void Save(Model model, ModelMetadata meta, string directory, string what = "model directory", IReadOnlyList<string>? carry = null)
    {
        string json = ToJson(model, meta);
        SafeOutput.ReplaceDirectoryCarrying(directory, ArtefactKind.Model, tmp =>
        {
            var ps = model.Parameters;
            using (var fs = new FileStream(Path.Combine(tmp, "weights.bin"), FileMode.CreateNew, FileAccess.Write))
            {
                var buf = new byte[4];
                foreach (var p in ps)
                    foreach (float v in p.Value)
                    {
                        BinaryPrimitives.WriteSingleLittleEndian(buf, v);
                        fs.Write(buf);
                    }
                fs.Flush(flushToDisk: true);
            }
            File.WriteAllText(Path.Combine(tmp, "model.json"), json);
        }, what, carry ?? []);
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

    /// <summary>The largest model.json read (a guard against a huge or endless file).</summary>
    public const long MaxJsonBytes = 64L << 20;

    /// <summary>Reads a model directory and checks it against what it claims: the weights file is a plain file inside
    /// the directory, of dtype float32-le and exactly as long as the parameter table says; every parameter has the
    /// name, shape and offset the architecture gives; num_classes and class_names fit the output.</summary>
    public static (Model Model, ModelMetadata Meta) Load(string directory)
    {
        string json = Path.Combine(directory, "model.json");
        if (File.Exists(directory)) throw new HetQException($"{directory}: is a file, a model directory is expected");
        if (!Directory.Exists(directory)) throw new HetQException($"{directory}: model directory not found");
        if (!File.Exists(json)) throw new HetQException($"{directory}: not a model directory (no model.json)");
        if (!SafeOutput.IsRegular(json)) throw new HetQException($"{json}: not a regular file");
        if (new FileInfo(json).Length > MaxJsonBytes) throw new HetQException($"{json}: larger than {MaxJsonBytes >> 20} MiB; not a HetQ model description");
        var s = JsonSpec.Load(json);
        string format = s.String("format", "");
        if (format != Format) throw new HetQException($"{json}: not a HetQ model (format '{SafeOutput.Printable(format)}', expected '{Format}')");
        int version = s.Int("version", 0);
        if (version != Version) throw new HetQException($"{json}: model format version {version} is not supported (this HetQ reads {Version})");
        var inputShape = s.Ints("input_shape") ?? throw s.Error("input_shape", "is required");
        LayerConfig.CheckShape(s, "input_shape", inputShape);
        string name = s.String("name", Path.GetFileName(Path.GetFullPath(directory).TrimEnd(Path.DirectorySeparatorChar)));
        Names.CheckText(name, () => s.Error("name", "must be printable text without control characters, at most 128 characters"));
        var specs = s.Objects("layers");
        if (specs.Count == 0) throw s.Error("layers", "is required and must list at least one layer");
        var layers = specs.Select(ls => (LayerConfig.Create(ls), ls.Strings("inputs"))).ToList();
        var names = specs.Select(ls => ls.String("name")).ToList();
        for (int i = 0; i < layers.Count; i++) if (names[i] is { } n) layers[i].Item1.Name = n;
        Model model;
        try
        {
            model = Model.Build(inputShape, layers, seed: 0);
        }
        catch (HetQException e)
        {
            throw new HetQException($"{json}: {e.Message}");
        }
        if (LayerConfig.Quantizer(s, "input_quantizer") is { } inputQ) model.InputQuantizer = Quantization.FakeQuantizer.For(inputQ, "input", inputShape);
        var weights = s.Object("weights") ?? throw s.Error("weights", "is required");
        string file = weights.String("file", "weights.bin");
        if (!Names.IsPlainFileName(file))
            throw weights.Error("file", $"'{SafeOutput.Printable(file)}' must be a plain file name inside the model directory (no '/', '\\', '..' or absolute path)");
        string dtype = weights.String("dtype", "float32-le");
        if (dtype != "float32-le") throw weights.Error("dtype", $"'{SafeOutput.Printable(dtype)}' is not supported (only float32-le)");
        string bin = Path.Combine(directory, file);
        if (!File.Exists(bin)) throw new HetQException($"{bin}: weights file not found");
        if (!SafeOutput.IsRegular(bin)) throw new HetQException($"{bin}: not a regular file (a link, device or FIFO is not read)");
        var table = weights.Objects("parameters");
        var ps = model.Parameters;
        if (table.Count != ps.Count) throw new HetQException($"{json}: {table.Count} parameters listed, the architecture has {ps.Count}");
        long total = ps.Sum(p => (long)p.Length);
        long length = new FileInfo(bin).Length;
        if (length != total * 4)
            throw new HetQException($"{bin}: {(length < total * 4 ? "truncated" : "too long")}: {length} bytes, but the layers' {total} float32 parameters need exactly {total * 4}");
        byte[] bytes = File.ReadAllBytes(bin);
        long expected = 0;
        for (int i = 0; i < ps.Count; i++)
        {
            var entry = table[i];
            string pname = entry.RequireString("name");
            long offset = entry.Int("offset") ?? throw entry.Error("offset", "is required");
            if (pname != ps[i].Name) throw entry.Error("name", $"'{SafeOutput.Printable(pname)}', the architecture expects '{ps[i].Name}' here");
            if (entry.Ints("shape") is { } shape && !shape.AsSpan().SequenceEqual(ps[i].Shape))
                throw entry.Error("shape", $"[{string.Join(",", shape)}] but the layers give '{pname}' the shape [{string.Join(",", ps[i].Shape)}]");
            if (offset != expected) throw entry.Error("offset", $"{offset}, expected {expected} (parameters are stored one after another in table order)");
            for (int j = 0; j < ps[i].Length; j++)
                ps[i].Value[j] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan((int)((offset + j) * 4), 4));
            expected += ps[i].Length;
        }
        int outputs = Tensor.Size(model.OutputShape);
        int numClasses = s.Int("num_classes", outputs);
        // A classifier has one output per class (a binary one may have one output for two classes); a regression
        // or an autoencoder keeps its data set's class count (anomaly labels), at most its outputs.
        var task = s.Has("task") ? ModelTask.Parse(s.ObjectOrType("task")) : null;
        bool classifier = task is null || task.Kind == TaskKind.Classification;
        if (numClasses < 1 || (classifier ? numClasses != outputs : numClasses > outputs) && outputs != 1)
            throw s.Error("num_classes", $"{numClasses} does not fit the model's {outputs} outputs");
        var classNames = s.Strings("class_names");
        if (classNames is not null && classNames.Length != numClasses)
            throw s.Error("class_names", $"lists {classNames.Length} names for {numClasses} classes");
        if (classNames is not null && classNames.Any(c => !Names.IsText(c))) throw s.Error("class_names", "must be printable text without control characters");
        string loss = s.String("loss", "softmax_cross_entropy");
        if (!Loss.Names.Contains(loss) && loss is not ("categorical_crossentropy" or "cross_entropy" or "binary_crossentropy" or "mean_squared_error"))
            throw s.Error("loss", $"unknown loss '{SafeOutput.Printable(loss)}' (known: {string.Join(", ", Loss.Names)})");
        var meta = new ModelMetadata(name, numClasses, classNames, loss, s.Raw("data")?.Clone(), s.Raw("training")?.Clone(), s.Raw("quantization")?.Clone(), task);
        return (model, meta);
    }
}
