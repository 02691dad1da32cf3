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
        if (ext == ".keras") return ImportArchive(modelPath, weightsPath, warnings);
        Model model;
        if (ext is ".h5" or ".hdf5")
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
            (model, var plans) = Build(json, modelPath, warnings);
            if (weightsPath is null) LoadWeights(h5, modelPath, model, plans);
            else LoadWeights(weightsPath, model, plans);
        }
        else
        {
            if (!File.Exists(modelPath)) throw new HetQException($"{modelPath}: file not found");
            (model, var plans) = Build(File.ReadAllText(modelPath), modelPath, warnings);
            if (weightsPath is null) warnings.Add("no weights file given: the layers have freshly initialised weights");
            else LoadWeights(weightsPath, model, plans);
        }
        var meta = new ModelMetadata(Path.GetFileNameWithoutExtension(modelPath), Numerics.Tensor.Size(model.OutputShape));
        return new KerasImport(model, meta, warnings);
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
            var (model, plans) = Build(graph, $"{modelPath}: config.json", warnings);
            if (weightsPath is null)
            {
                KerasArchive.Load(h5, $"{modelPath}: model.weights.h5", model, plans, order);
            }
            else
            {
                using var w = KerasWeights.Open(weightsPath);
                KerasArchive.Load(w, weightsPath, model, plans, order);
            }
            var meta = new ModelMetadata(Path.GetFileNameWithoutExtension(modelPath), Numerics.Tensor.Size(model.OutputShape));
            return new KerasImport(model, meta, warnings);
        }
    }

    private static void LoadWeights(string weightsPath, Model model, IReadOnlyList<LayerPlan> plans)
    {
        using var h5 = KerasWeights.Open(weightsPath);
        LoadWeights(h5, weightsPath, model, plans);
    }

    private static void LoadWeights(PureHDF.VOL.Native.NativeFile h5, string weightsPath, Model model, IReadOnlyList<LayerPlan> plans)
    {
        try
        {
            KerasWeights.Load(h5, weightsPath, model, plans);
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

    private static (Model Model, IReadOnlyList<LayerPlan> Plans) Build(KerasGraph graph, string source, List<string> warnings)
    {
        var mapper = new KerasLayerMapper(source, warnings);
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
