using HetQ.Nn;
using PureHDF;
using PureHDF.VOL.Native;

namespace HetQ.Interop;

/// <summary>Reads Keras 2 HDF5 files (through PureHDF): the weights layout of <c>model.save_weights</c>
/// (attribute <c>layer_names</c>; one group per layer with attribute <c>weight_names</c>, datasets such as
/// <c>fc1/kernel:0</c>), found on the root or on the <c>model_weights</c> group of a full <c>model.save</c>
/// file, and that file's <c>model_config</c> attribute.</summary>
internal static class KerasWeights
{
    /// <summary>Opens an HDF5 file; a missing file or one that is not HDF5 is a <see cref="HetQException"/> naming it.</summary>
    public static NativeFile Open(string file)
    {
        if (!File.Exists(file)) throw new HetQException($"{file}: file not found");
        try
        {
            return H5File.OpenRead(file);
        }
        catch (Exception e) when (e is not HetQException)
        {
            throw new HetQException($"{file}: not a readable HDF5 file ({e.Message})", e);
        }
    }

    /// <summary>The architecture JSON of a full .h5 (attribute <c>model_config</c>), or null when absent.</summary>
    public static string? ModelConfig(NativeFile h5, string file)
    {
        if (!h5.AttributeExists("model_config")) return null;
        var text = Strings(h5, "model_config", file);
        return text.Length == 1 ? text[0] : throw new HetQException($"{file}: attribute 'model_config' is not one string");
    }

    /// <summary>Copies every layer's weights from the file into <paramref name="model"/>, checking that each
    /// planned weight is present once with the shape of the built parameter.</summary>
    public static void Load(NativeFile h5, string file, Model model, IReadOnlyList<LayerPlan> plans, IReadOnlySet<string>? external = null)
    {
        IH5Group group = h5.AttributeExists("layer_names") ? h5
            : h5.LinkExists("model_weights") && h5.Group("model_weights") is var mw && mw.AttributeExists("layer_names") ? mw
            : throw new HetQException($"{file}: not a Keras weights file (no 'layer_names' attribute on the root or on 'model_weights')");
        string[] fileLayers = Strings(group, "layer_names", file);
        var plansByName = plans.ToDictionary(p => p.Keras.Name, StringComparer.Ordinal);
        var layers = model.Nodes.ToDictionary(n => n.Layer.Name, n => n.Layer, StringComparer.Ordinal);
        var loaded = new HashSet<string>(StringComparer.Ordinal);
        foreach (string name in fileLayers)
        {
            if (!group.LinkExists(name)) throw new HetQException($"{file}: layer '{name}' is listed in layer_names but has no group");
            var g = group.Group(name);
            string[] weightNames = g.AttributeExists("weight_names") ? Strings(g, "weight_names", file) : [];
            if (weightNames.Length == 0 || external?.Contains(name) == true) continue;
            if (!plansByName.TryGetValue(name, out var plan))
                throw new HetQException($"{file}: layer '{name}' has weights, but the model has no layer of that name");
            if (plan.External) continue;
            LoadLayer(g, file, plan, layers[name], weightNames);
            loaded.Add(name);
        }
        foreach (var plan in plans)
            if (plan.Weights.Length > 0 && !loaded.Contains(plan.Keras.Name))
                throw new HetQException($"{file}: no weights for layer '{plan.Keras.Name}' ({plan.Keras.ClassName}); the file has weights for: {string.Join(", ", loaded.Order())}");
    }

    private static void LoadLayer(IH5Group g, string file, LayerPlan plan, Layer layer, string[] weightNames)
    {
        string where = $"{file}: layer '{plan.Keras.Name}' ({plan.Keras.ClassName})";
        var parameters = layer.Parameters.ToDictionary(p => p.Name[(p.Name.LastIndexOf('/') + 1)..], StringComparer.Ordinal);
        var assigned = new HashSet<string>(StringComparer.Ordinal);
        foreach (string weightName in weightNames)
        {
            string role = Role(weightName);
            if (!plan.Weights.Contains(role) || !parameters.TryGetValue(role, out var p))
                throw new HetQException($"{where}: unexpected weight '{weightName}' (the layer takes {string.Join(", ", plan.Weights)})");
            if (!assigned.Add(role)) throw new HetQException($"{where}: weight '{role}' is given twice");
            float[] values = Read(g, weightName, p.Shape, where);
            values.CopyTo(p.Value, 0);
        }
        var missing = plan.Weights.Where(w => !assigned.Contains(w)).ToList();
        if (missing.Count > 0)
            throw new HetQException($"{where}: missing weight {string.Join(", ", missing.Select(m => $"'{m}'"))} (weight_names: {string.Join(", ", weightNames)})");
    }

    /// <summary>"fc1/kernel:0" -> "kernel"; Keras's depthwise_kernel is HetQ's kernel.</summary>
    internal static string Role(string weightName)
    {
        string last = weightName[(weightName.LastIndexOf('/') + 1)..];
        int colon = last.LastIndexOf(':');
        if (colon > 0) last = last[..colon];
        return last == "depthwise_kernel" ? "kernel" : last;
    }

    internal static float[] Read(IH5Group g, string path, int[] shape, string where)
    {
        IH5Dataset ds;
        try
        {
            ds = g.Dataset(path);
        }
        catch (Exception e) when (e is not HetQException)
        {
            throw new HetQException($"{where}: weight '{path}' is listed in weight_names but cannot be opened ({e.Message})", e);
        }
        ulong[] dims = ds.Space.Dimensions;
        if (!dims.Select(d => (long)d).SequenceEqual(shape.Select(d => (long)d)))
            throw new HetQException($"{where}: weight '{path}' has shape [{string.Join(",", dims)}], the model expects [{string.Join(",", shape)}]");
        if (ds.Type.Class != H5DataTypeClass.FloatingPoint)
            throw new HetQException($"{where}: weight '{path}' is {ds.Type.Class}, expected floating point");
        return ds.Type.Size switch
        {
            4 => ds.Read<float[]>(),
            8 => Array.ConvertAll(ds.Read<double[]>(), v => (float)v),
            _ => throw new HetQException($"{where}: weight '{path}' has {ds.Type.Size * 8}-bit floats; 32 and 64 are supported"),
        };
    }

    /// <summary>A string or string-list attribute (fixed or variable length); an empty numeric array reads as no strings.</summary>
    private static string[] Strings(IH5Object obj, string name, string file)
    {
        var a = obj.Attribute(name);
        if (a.Space.Dimensions.Aggregate(1UL, (x, y) => x * y) == 0 && a.Space.Type != H5DataspaceType.Scalar) return [];
        if (a.Type.Class is not (H5DataTypeClass.String or H5DataTypeClass.VariableLength))
            throw new HetQException($"{file}: attribute '{name}' of '{obj.Name}' is {a.Type.Class}, expected strings");
        try
        {
            var values = a.Space.Type == H5DataspaceType.Scalar ? [a.Read<string>()] : a.Read<string[]>();
            return values.Select(v => v.TrimEnd('\0')).ToArray();
        }
        catch (Exception e) when (e is not HetQException)
        {
            throw new HetQException($"{file}: attribute '{name}' of '{obj.Name}' cannot be read as strings ({e.Message})", e);
        }
    }
}
