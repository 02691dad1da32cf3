using System.Text.Json;
using HetQ.Nn;

namespace HetQ.Interop;

/// <summary>One Keras layer as the architecture JSON gives it: class, name, config, and the names of
/// the layers it reads ("input" for the model input; empty in a Sequential model, where each layer reads
/// the previous one).</summary>
/// Keras 3 archives also give the class's module and registered name (which tell QKeras's QDense from HGQ2's).
internal sealed record KerasLayer(string ClassName, string Name, JsonSpec Config, string[] Inputs, string? Module = null, string? RegisteredName = null);

/// <summary>A Keras 2 model architecture (Sequential or Functional) reduced to what HetQ builds: the
/// input shape and the layers in topological order, the output layer last.</summary>
internal sealed record KerasGraph(string Name, int[] InputShape, IReadOnlyList<KerasLayer> Layers, string? KerasVersion)
{
    /// <summary>Parses <c>model.to_json()</c> (or the <c>model_config</c> attribute of a full .h5);
    /// <paramref name="source"/> names the file in errors.</summary>
    public static KerasGraph Parse(string json, string source)
    {
        var root = JsonSpec.Parse(json, source);
        string className = root.RequireString("class_name");
        string? version = root.String("keras_version");
        if (version is not null && version.StartsWith('3'))
            throw new HetQException($"{source}: written by Keras {version}; HetQ reads Keras 3 models as .keras archives (model.save(\"m.keras\")) and Keras 2 models as JSON + HDF5");
        return className switch
        {
            "Sequential" => ParseSequential(root, source, version),
            "Model" or "Functional" => ParseFunctional(root, source, version),
            _ => throw root.Error("class_name", $"'{className}' is not a model HetQ can import (Sequential, Functional or Model)"),
        };
    }

    private static KerasGraph ParseSequential(JsonSpec root, string source, string? version)
    {
        // Keras 2.0-2.1 wrote the layer list as the config itself; later versions write {name, layers}.
        var raw = root.Raw("config") ?? throw root.Error("config", "is required");
        string name = "sequential";
        IReadOnlyList<JsonSpec> entries;
        if (raw.ValueKind == JsonValueKind.Array)
        {
            entries = raw.EnumerateArray().Select((e, i) => new JsonSpec(e, $"$.config[{i}]", source)).ToList();
        }
        else
        {
            var config = root.Object("config")!;
            name = config.String("name", name);
            entries = config.Objects("layers");
        }
        int[]? inputShape = null;
        var layers = new List<KerasLayer>();
        foreach (var entry in entries)
        {
            var (cls, layerName, config) = ReadEntry(entry);
            inputShape ??= BatchShape(config, layerName);
            if (cls == "InputLayer") continue;
            layers.Add(new KerasLayer(cls, layerName, config, Array.Empty<string>()));
        }
        if (layers.Count == 0) throw new HetQException($"{source}: the model has no layers");
        if (inputShape is null)
            throw new HetQException($"{source}: the input shape is unknown (no InputLayer and no batch_input_shape on the first layer)");
        return new KerasGraph(name, inputShape, layers, version);
    }

    private static KerasGraph ParseFunctional(JsonSpec root, string source, string? version)
    {
        var config = root.Object("config") ?? throw root.Error("config", "is required");
        string name = config.String("name", "model");
        var inputs = TensorNames(config, "input_layers");
        var outputs = TensorNames(config, "output_layers");
        if (inputs.Length != 1) throw config.Error("input_layers", $"HetQ models have one input, this one has {inputs.Length}");
        if (outputs.Length != 1) throw config.Error("output_layers", $"HetQ models have one output, this one has {outputs.Length}");

        var all = new List<KerasLayer>();
        int[]? inputShape = null;
        foreach (var entry in config.Objects("layers"))
        {
            var (cls, layerName, layerConfig) = ReadEntry(entry);
            string[] ins;
            if (cls == "InputLayer")
            {
                if (layerName != inputs[0]) throw entry.Error("name", $"input layer '{layerName}' is not the model input '{inputs[0]}'");
                inputShape = BatchShape(layerConfig, layerName) ?? throw layerConfig.Error("batch_input_shape", "is required");
                ins = Array.Empty<string>();
            }
            else
            {
                ins = InboundNames(entry, layerName, cls);
            }
            all.Add(new KerasLayer(cls, layerName, layerConfig, ins));
        }
        if (inputShape is null) throw config.Error("layers", $"the input layer '{inputs[0]}' is missing");
        var ordered = Order(all, inputs[0], outputs[0], source);
        return new KerasGraph(name, inputShape, ordered, version);
    }

    /// <summary>The layers the output depends on (the input layer excluded), in a topological order that keeps Keras's
    /// order where it can; inputs naming the model input become "input".</summary>
    internal static List<KerasLayer> Order(IReadOnlyList<KerasLayer> all, string input, string output, string source)
    {
        var byName = new Dictionary<string, (KerasLayer Layer, int Order)>(StringComparer.Ordinal);
        foreach (var l in all)
            if (!byName.TryAdd(l.Name, (l, byName.Count))) throw new HetQException($"{source}: layer name '{l.Name}' is used twice");
        if (!byName.ContainsKey(output)) throw new HetQException($"{source}: the output layer '{output}' is not among the layers");
        var needed = new HashSet<string>(StringComparer.Ordinal);
        var stack = new Stack<string>([output]);
        while (stack.Count > 0)
        {
            string n = stack.Pop();
            if (!needed.Add(n)) continue;
            foreach (var i in byName[n].Layer.Inputs)
                stack.Push(byName.ContainsKey(i) ? i : throw new HetQException($"{source}: layer '{n}' reads '{i}', which is not a layer of the model"));
        }
        var ordered = new List<KerasLayer>();
        var placed = new HashSet<string>([input], StringComparer.Ordinal);
        var pending = byName.Values.Where(v => needed.Contains(v.Layer.Name) && v.Layer.Name != input).OrderBy(v => v.Order).Select(v => v.Layer).ToList();
        while (pending.Count > 0)
        {
            int k = pending.FindIndex(l => l.Inputs.All(placed.Contains));
            if (k < 0) throw new HetQException($"{source}: the layers {string.Join(", ", pending.Select(l => $"'{l.Name}'"))} form a cycle");
            var layer = pending[k];
            pending.RemoveAt(k);
            placed.Add(layer.Name);
            ordered.Add(layer with { Inputs = layer.Inputs.Select(i => i == input ? "input" : i).ToArray() });
        }
        if (ordered.Count == 0) throw new HetQException($"{source}: the model has no layers between its input and output");
        return ordered;
    }

    private static (string ClassName, string Name, JsonSpec Config) ReadEntry(JsonSpec entry)
    {
        string cls = entry.RequireString("class_name");
        var config = entry.Object("config") ?? throw entry.Error("config", "is required");
        string name = entry.String("name") ?? config.RequireString("name");
        return (cls, name, config);
    }

    /// <summary>The sample shape from batch_input_shape (Keras 2) or batch_shape, without the batch axis.</summary>
    private static int[]? BatchShape(JsonSpec config, string layer) =>
        SampleShape(config, config.Has("batch_input_shape") ? "batch_input_shape" : "batch_shape", layer);

    /// <summary>The sample shape of a [batch, ...axes] entry <paramref name="key"/> (Keras 2 and Keras 3), or null when absent.</summary>
    internal static int[]? SampleShape(JsonSpec config, string key, string layer)
    {
        if (config.Raw(key) is not { } raw || raw.ValueKind == JsonValueKind.Null) return null;
        var dims = raw.ValueKind == JsonValueKind.Array ? raw.EnumerateArray().ToList() : throw config.Error(key, "expected a list");
        if (dims.Count < 2) throw config.Error(key, "expected [batch, ...sample axes]");
        var shape = new int[dims.Count - 1];
        for (int i = 1; i < dims.Count; i++)
        {
            if (dims[i].ValueKind != JsonValueKind.Number || !dims[i].TryGetInt32(out shape[i - 1]) || shape[i - 1] <= 0)
                throw config.Error(key, $"layer '{layer}': every sample axis needs a fixed size, found {raw.GetRawText()}");
        }
        return shape;
    }

    /// <summary>input_layers / output_layers: [[name, node, tensor], ...] (or one such triple).</summary>
    internal static string[] TensorNames(JsonSpec config, string key)
    {
        var raw = config.Raw(key) ?? throw config.Error(key, "is required");
        if (raw.ValueKind != JsonValueKind.Array) throw config.Error(key, "expected a list of [name, node, tensor]");
        var items = raw.EnumerateArray().ToList();
        if (items.Count > 0 && items[0].ValueKind == JsonValueKind.String) items = [raw];
        return items.Select(t => t.ValueKind == JsonValueKind.Array && t.GetArrayLength() >= 1 && t[0].ValueKind == JsonValueKind.String
            ? t[0].GetString()! : throw config.Error(key, $"expected [name, node, tensor], found {t.GetRawText()}")).ToArray();
    }

    /// <summary>Keras 2 inbound_nodes: one node (the layer is called once), a list of [name, node, tensor, kwargs].</summary>
    private static string[] InboundNames(JsonSpec entry, string layer, string cls)
    {
        var raw = entry.Raw("inbound_nodes") ?? throw entry.Error("inbound_nodes", $"layer '{layer}' has no inbound_nodes");
        if (raw.ValueKind != JsonValueKind.Array) throw entry.Error("inbound_nodes", "expected a list");
        int calls = raw.GetArrayLength();
        if (calls == 0) throw entry.Error("inbound_nodes", $"layer '{layer}' ({cls}) is not connected");
        if (calls > 1) throw entry.Error("inbound_nodes", $"layer '{layer}' ({cls}) is called {calls} times; shared layers are not supported");
        var node = raw[0];
        if (node.ValueKind == JsonValueKind.Object)
            throw entry.Error("inbound_nodes", $"layer '{layer}': this is the Keras 3 format; HetQ reads the Keras 2 format (tf.keras / QKeras)");
        if (node.ValueKind != JsonValueKind.Array || node.GetArrayLength() == 0)
            throw entry.Error("inbound_nodes", $"layer '{layer}': expected [[name, node, tensor, kwargs], ...], found {node.GetRawText()}");
        return node.EnumerateArray().Select(t =>
        {
            if (t.ValueKind != JsonValueKind.Array || t.GetArrayLength() < 3 || t[0].ValueKind != JsonValueKind.String)
                throw entry.Error("inbound_nodes", $"layer '{layer}': expected [name, node, tensor, kwargs], found {t.GetRawText()}");
            if (t[2].ValueKind == JsonValueKind.Number && t[2].GetInt32() != 0)
                throw entry.Error("inbound_nodes", $"layer '{layer}' reads output {t[2].GetInt32()} of '{t[0].GetString()}'; only single-output layers are supported");
            return t[0].GetString()!;
        }).ToArray();
    }
}
