using System.Text.Json;
using HetQ.Nn;

namespace HetQ.Interop;

/// <summary>A model imported from Keras: the HetQ model with the Keras weights, its metadata, and what
/// the import left out (settings that act only in training, QBatchNormalization's quantizers).</summary>
public sealed record KerasImport(Model Model, ModelMetadata Meta, IReadOnlyList<string> Warnings)
{
    public void Deconstruct(out Model model, out ModelMetadata meta)
    {
        model = Model;
        meta = Meta;
    }

    public static implicit operator (Model Model, ModelMetadata Meta)(KerasImport import) => (import.Model, import.Meta);
}

/// <summary>Imports Keras 2 / QKeras models as Keras saves them: the architecture JSON (<c>model.to_json()</c>)
/// with HDF5 weights (<c>model.save_weights("w.h5")</c>), or one .h5 holding both (<c>model.save("m.h5")</c>).</summary>
public static class KerasImporter
{
    /// <summary>The Keras layer classes that import.</summary>
    public static IReadOnlyList<string> SupportedLayers => KerasLayerMapper.Supported;

    /// <summary>Builds the model <paramref name="modelPath"/> describes (.json, or a full .h5/.hdf5) and loads its
    /// weights from <paramref name="weightsPath"/> (for a full .h5, by default the file itself). Without weights
    /// for a .json the layers keep freshly drawn weights, and a warning says so.</summary>
    /// <exception cref="HetQException">A file is missing or malformed, a layer or setting is not supported, or a
    /// weight is missing or has the wrong shape; the message names the file and the layer.</exception>
    public static KerasImport Import(string modelPath, string? weightsPath = null)
    {
        ArgumentNullException.ThrowIfNull(modelPath);
        var warnings = new List<string>();
        string ext = Path.GetExtension(modelPath).ToLowerInvariant();
        bool legacyKeras = ext == ".keras" && IsHdf5(modelPath);
        if (ext == ".keras" && !legacyKeras) return ImportArchive(modelPath, weightsPath, warnings);
        if (legacyKeras)
            warnings.Add("this .keras file is an HDF5 file (TensorFlow's legacy model.save(..., save_format=\"h5\")), not a Keras 3 zip archive: read as a Keras 2 full .h5");
        Model model;
        if (ext is ".h5" or ".hdf5" || legacyKeras)
        {
            using var h5 = KerasWeights.Open(modelPath);
            string json;
            try
            {
                json = KerasWeights.ModelConfig(h5, modelPath)
                    ?? throw new HetQException($"{modelPath}: no 'model_config' attribute, so no architecture: this is a weights file; give the architecture JSON as the model and this file as the weights");
            }
            catch (Exception e) when (e is not HetQException && e is not OutOfMemoryException)
            {
                throw new HetQException($"{modelPath}: not a readable HDF5 model file ({e.Message})", e);
            }
            var graph = KerasGraph.Parse(json, modelPath);
            if (weightsPath is null)
            {
                model = BuildLoaded(graph, modelPath, h5, modelPath, warnings);
            }
            else
            {
                using var w = KerasWeights.Open(weightsPath);
                model = BuildLoaded(graph, modelPath, w, weightsPath, warnings);
            }
        }
        else
        {
            if (!File.Exists(modelPath)) throw new HetQException($"{modelPath}: file not found");
            var graph = KerasGraph.Parse(File.ReadAllText(modelPath), modelPath);
            if (weightsPath is null)
            {
                (model, _) = Build(graph, modelPath, warnings);
                warnings.Add("no weights file given: the layers have freshly initialised weights");
            }
            else
            {
                using var w = KerasWeights.Open(weightsPath);
                model = BuildLoaded(graph, modelPath, w, weightsPath, warnings);
            }
        }
        var meta = new ModelMetadata(Path.GetFileNameWithoutExtension(modelPath), Numerics.Tensor.Size(model.OutputShape));
        return new KerasImport(model, meta, warnings);
    }

    /// <summary>Whether <paramref name="path"/> begins with the HDF5 signature (tf.keras 2 could write an HDF5 model under
    /// a .keras name; hls4ml's own example models are such files).</summary>
    private static bool IsHdf5(string path)
    {
        ReadOnlySpan<byte> signature = [0x89, (byte)'H', (byte)'D', (byte)'F', 0x0d, 0x0a, 0x1a, 0x0a];
        Span<byte> head = stackalloc byte[8];
        try
        {
            using var f = File.OpenRead(path);
            return f.ReadAtLeast(head, 8, throwOnEndOfStream: false) == 8 && head.SequenceEqual(signature);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>A Keras 3 archive: config.json through <see cref="Keras3Graph"/>, weights from its model.weights.h5 (or,
    /// given, a Keras 3 <c>.weights.h5</c> of <c>model.save_weights</c>).</summary>
    private static KerasImport ImportArchive(string modelPath, string? weightsPath, List<string> warnings)
    {
        var (json, version, h5) = KerasArchive.Open(modelPath);
        using (h5)
        {
            if (version is not null && !version.StartsWith('3'))
                warnings.Add($"the archive was written by Keras {version}; HetQ reads the Keras 3 layout");
            var (graph, order) = Keras3Graph.Parse(json, $"{modelPath}: config.json", version ?? "3");
            using var other = weightsPath is null ? null : KerasWeights.Open(weightsPath);
            var weights = other ?? h5;
            string file = weightsPath ?? $"{modelPath}: model.weights.h5";
            Model model;
            if (graph.Layers.Any(Hgq2Layers.IsHgq2))
            {
                model = Hgq2Layers.Build(graph, order, weights, file, $"{modelPath}: config.json", warnings);
            }
            else
            {
                (model, var plans) = Build(graph, $"{modelPath}: config.json", warnings);
                KerasArchive.Load(weights, file, model, plans, order);
            }
            var meta = new ModelMetadata(Path.GetFileNameWithoutExtension(modelPath), Numerics.Tensor.Size(model.OutputShape));
            return new KerasImport(model, meta, warnings);
        }
    }

    /// <summary>Builds the model and loads its Keras 2 weights; an HGQ proxy (a model with FixedPointQuantizer layers)
    /// goes through <see cref="BuildProxy"/>.</summary>
    private static Model BuildLoaded(KerasGraph graph, string source, PureHDF.VOL.Native.NativeFile h5, string weightsPath, List<string> warnings)
    {
        if (graph.Layers.Any(l => HgqProxy.IsQuantizer(l.ClassName))) return BuildProxy(graph, source, h5, weightsPath, warnings);
        var (model, plans) = Build(graph, source, warnings);
        LoadWeights(h5, weightsPath, model, plans);
        return model;
    }

    /// <summary>An HGQ proxy: its FixedPointQuantizers' bit widths come from the Keras 2 weights file.</summary>
    private static Model BuildProxy(KerasGraph graph, string source, PureHDF.VOL.Native.NativeFile h5, string weightsPath, List<string> warnings) =>
        BuildQuantized(graph, source, warnings, weightsPath,
            (quantizers, shapeOf) => HgqProxy.ReadFormats(h5, weightsPath, quantizers, shapeOf),
            (model, plans, external) => LoadWeights(h5, weightsPath, model, plans, external));

    /// <summary>A model with HGQ quantizing layers (<see cref="HgqProxy.IsQuantizer"/>): one on the model input becomes the
    /// input quantizer; the others quantizing activation layers. The bit widths are read first (they decide each
    /// quantizer's spec), then the model is built, its weights loaded (<paramref name="loadWeights"/>, which may also
    /// quantize them), and every per-element quantizer given its formats; weights keep the fractional bits they need.</summary>
    internal static Model BuildQuantized(KerasGraph graph, string source, List<string> warnings, string weightsPath,
        Func<IReadOnlyList<KerasLayer>, Func<KerasLayer, int[]>, Dictionary<string, HgqFormat>> readFormats,
        Action<Model, IReadOnlyList<LayerPlan>, IReadOnlySet<string>> loadWeights)
    {
        var layers = graph.Layers.ToList();
        KerasLayer? inputQ = null;
        bool sequential = layers[0].Inputs.Length == 0;
        var readers = layers.Where(l => sequential ? ReferenceEquals(l, layers[0]) : l.Inputs.Contains("input")).ToList();
        if (readers.Count == 1 && HgqProxy.IsQuantizer(readers[0].ClassName) && layers.Count > 1)
        {
            inputQ = readers[0];
            layers.Remove(inputQ);
            layers = layers.Select(l => l with { Inputs = l.Inputs.Select(i => i == inputQ.Name ? "input" : i).ToArray() }).ToList();
        }
        graph = graph with { Layers = layers };
        // Pass 1: the quantizers pass their input through, which gives each one its tensor's shape.
        var none = layers.Where(l => HgqProxy.IsQuantizer(l.ClassName)).ToDictionary(l => l.Name, _ => (string?)null, StringComparer.Ordinal);
        var (shapes, _) = Build(graph, source, [], new HgqMapping(none));
        var shapeOf = shapes.Nodes.ToDictionary(n => n.Layer.Name, n => n.Layer.OutputShape, StringComparer.Ordinal);
        var quantizers = layers.Where(l => HgqProxy.IsQuantizer(l.ClassName)).Concat(inputQ is null ? [] : [inputQ]).ToList();
        Dictionary<string, HgqFormat> formats;
        try
        {
            formats = readFormats(quantizers, q => q == inputQ ? graph.InputShape : shapeOf[q.Name]);
        }
        catch (Exception e) when (e is not HetQException && e is not OutOfMemoryException)
        {
            throw new HetQException($"{weightsPath}: the HGQ bit widths cannot be read ({e.Message})", e);
        }
        string Where(KerasLayer q) => $"{source}: layer '{q.Name}' ({q.ClassName})";
        var specs = quantizers.ToDictionary(q => q.Name, q => (string?)HgqProxy.Spec(formats[q.Name], Where(q)), StringComparer.Ordinal);
        // Pass 2: the model with its quantizers; then the weights, and the formats of every per-element quantizer.
        var (model, plans) = Build(graph, source, warnings, new HgqMapping(specs));
        loadWeights(model, plans, inputQ is null ? new HashSet<string>() : new HashSet<string>([inputQ.Name], StringComparer.Ordinal));
        if (inputQ is not null)
        {
            model.InputQuantizer = Quantization.FakeQuantizer.For(Quantization.QuantizerParser.Parse(specs[inputQ.Name]!), "input", model.InputShape);
            if (model.InputQuantizer.Learned is { } li) HgqProxy.Apply(li, formats[inputQ.Name], Where(inputQ));
        }
        foreach (var node in model.Nodes)
        {
            var layer = node.Layer;
            if (formats.TryGetValue(layer.Name, out var f) && layer.OutputQuantizer?.Learned is { } lq)
                HgqProxy.Apply(lq, f, Where(layers.First(l => l.Name == layer.Name)));
            foreach (var p in layer.Parameters)
            {
                if (p.Quantizer?.Learned is not { Role: Quantization.LearnedRole.Weight } wq) continue;
                var (_, frac) = HgqProxy.WeightSpec(p.Value, $"{weightsPath}: layer '{layer.Name}': {p.Name[(p.Name.LastIndexOf('/') + 1)..]}");
                frac.CopyTo(wq.FracBits!.Value, 0);
            }
        }
        warnings.Add($"HGQ: {quantizers.Count} quantizers imported ({quantizers.Count(q => !formats[q.Name].Uniform)} with per-element widths)");
        return model;
    }

    private static void LoadWeights(PureHDF.VOL.Native.NativeFile h5, string weightsPath, Model model, IReadOnlyList<LayerPlan> plans, IReadOnlySet<string>? external = null)
    {
        try
        {
            KerasWeights.Load(h5, weightsPath, model, plans, external);
        }
        catch (Exception e) when (e is not HetQException && e is not OutOfMemoryException)
        {
            // PureHDF reports a truncated or damaged file with plain exceptions, from anywhere in the read
            throw new HetQException($"{weightsPath}: not a readable HDF5 weights file ({e.Message})", e);
        }
    }

    /// <summary>The architecture alone: parses the Keras JSON, maps every layer and builds the model.</summary>
    internal static (Model Model, IReadOnlyList<LayerPlan> Plans) Build(string json, string source, List<string> warnings) =>
        Build(KerasGraph.Parse(json, source), source, warnings);

    internal static (Model Model, IReadOnlyList<LayerPlan> Plans) Build(KerasGraph graph, string source, List<string> warnings, HgqMapping? hgq = null)
    {
        var mapper = new KerasLayerMapper(source, warnings, hgq);
        var plans = graph.Layers.Select(mapper.Map).ToList();
        var layers = new List<(Layer Layer, string[]? Inputs)>();
        foreach (var plan in plans)
        {
            string where = $"{source}: layer '{plan.Keras.Name}' ({plan.Keras.ClassName})";
            var spec = new JsonSpec(JsonSerializer.SerializeToElement(plan.Spec), "$", where);
            Layer layer;
            try
            {
                layer = LayerConfig.Create(spec);
            }
            catch (HetQException e) when (!e.Message.StartsWith(where, StringComparison.Ordinal))
            {
                throw new HetQException($"{where}: {e.Message}", e);
            }
            layer.Name = plan.Keras.Name;
            layers.Add((layer, plan.Keras.Inputs.Length > 0 ? plan.Keras.Inputs : null));
        }
        Model model;
        try
        {
            model = Model.Build(graph.InputShape, layers, seed: 0);
        }
        catch (HetQException e)
        {
            throw new HetQException($"{source}: {e.Message}", e);
        }
        for (int i = 0; i < plans.Count; i++)
        {
            int rank = model.Nodes[i].Layer.InputShapes[0].Length;
            if (plans[i].ChannelAxis is int axis && axis != rank)
                throw new HetQException($"{source}: layer '{plans[i].Keras.Name}' ({plans[i].Keras.ClassName}): normalizes axis {axis}; HetQ normalizes the channel axis ({rank}, the last)");
        }
        return (model, plans);
    }
}
