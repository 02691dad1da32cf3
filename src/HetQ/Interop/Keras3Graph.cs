using System.Text.Json;
using HetQ.Nn;

namespace HetQ.Interop;

/// <summary>The architecture of a Keras 3 <c>.keras</c> archive (its config.json, written by
/// <c>serialization_lib.serialize_keras_object</c>): every object is <c>{module, class_name, config, registered_name}</c>;
/// a Functional model's layers carry <c>name</c> and <c>inbound_nodes</c>, each node <c>{args, kwargs}</c> whose tensors are
/// <c>{class_name: "__keras_tensor__", config: {shape, dtype, keras_history: [layer, node, tensor]}}</c>.</summary>
internal static class Keras3Graph
{
    /// <summary>Parses config.json into the same <see cref="KerasGraph"/> the Keras 2 parser gives, plus the class names
    /// of the model's layer list in saving order (what the weights file's <c>layers/&lt;class&gt;_n</c> paths count).</summary>
    public static (KerasGraph Graph, IReadOnlyList<(string ClassName, string Name)> SaveOrder) Parse(string json, string source, string? version)
    {
        var root = JsonSpec.Parse(json, source);
        string className = root.RequireString("class_name");
        return className switch
        {
            "Sequential" => ParseSequential(root, source, version),
            "Functional" or "Model" => ParseFunctional(root, source, version),
            _ => throw root.Error("class_name", $"'{className}' is not a model HetQ can import (Sequential or Functional; subclassed models have no architecture to read)"),
        };
    }

    private static (KerasGraph, IReadOnlyList<(string, string)>) ParseSequential(JsonSpec root, string source, string? version)
    {
        var config = root.Object("config") ?? throw root.Error("config", "is required");
        string name = config.String("name", "sequential");
        int[]? inputShape = null;
        var layers = new List<KerasLayer>();
        var order = new List<(string, string)>();
        foreach (var entry in config.Objects("layers"))
        {
            var layer = ReadEntry(entry, source);
            if (layer.ClassName == "InputLayer")
            {
                // Sequential.layers leaves out its InputLayer, so the weights file has no group for it.
                inputShape ??= BatchShape(layer.Config, layer.Name);
                continue;
            }
            inputShape ??= BatchShape(layer.Config, layer.Name) ?? BuildShape(entry.Object("build_config"), "input_shape", layer.Name);
            order.Add((layer.ClassName, layer.Name));
            layers.Add(layer);
        }
        inputShape ??= BuildShape(config, "build_input_shape", name) ?? BuildShape(root.Object("build_config"), "input_shape", name);
        if (layers.Count == 0) throw new HetQException($"{source}: the model has no layers");
        if (inputShape is null) throw new HetQException($"{source}: the input shape is unknown (no InputLayer, no build_input_shape)");
        return (new KerasGraph(name, inputShape, layers, version), order);
    }

    private static (KerasGraph, IReadOnlyList<(string, string)>) ParseFunctional(JsonSpec root, string source, string? version)
    {
        var config = root.Object("config") ?? throw root.Error("config", "is required");
        string name = config.String("name", "functional");
        var inputs = KerasGraph.TensorNames(config, "input_layers");
        var outputs = KerasGraph.TensorNames(config, "output_layers");
        if (inputs.Length != 1) throw config.Error("input_layers", $"HetQ models have one input, this one has {inputs.Length}");
        if (outputs.Length != 1) throw config.Error("output_layers", $"HetQ models have one output, this one has {outputs.Length}");
        int[]? inputShape = null;
        var all = new List<KerasLayer>();
        var order = new List<(string, string)>();
        foreach (var entry in config.Objects("layers"))
        {
            var layer = ReadEntry(entry, source);
            order.Add((layer.ClassName, layer.Name));
            if (layer.ClassName == "InputLayer")
            {
                if (layer.Name != inputs[0]) throw entry.Error("name", $"input layer '{layer.Name}' is not the model input '{inputs[0]}'");
                inputShape = BatchShape(layer.Config, layer.Name) ?? throw layer.Config.Error("batch_shape", "is required");
                all.Add(layer);
                continue;
            }
            all.Add(layer with { Inputs = InboundNames(entry, layer.Name, layer.ClassName) });
        }
        if (inputShape is null) throw config.Error("layers", $"the input layer '{inputs[0]}' is missing");
        var ordered = KerasGraph.Order(all, inputs[0], outputs[0], source);
        return (new KerasGraph(name, inputShape, ordered, version), order);
    }

    private static KerasLayer ReadEntry(JsonSpec entry, string source)
    {
        string cls = entry.RequireString("class_name");
        var config = entry.Object("config") ?? throw entry.Error("config", "is required");
        string name = entry.String("name") ?? config.RequireString("name");
        string? module = entry.String("module");
        string? registered = entry.String("registered_name");
        if (cls is "Sequential" or "Functional" or "Model")
            throw new HetQException($"{source}: layer '{name}' is a nested {cls} model; HetQ imports flat models (build the model from the inner layers directly)");
        return new KerasLayer(cls, name, config, [], module, registered);
    }

    /// <summary>batch_shape (Keras 3) or batch_input_shape without the batch axis.</summary>
    private static int[]? BatchShape(JsonSpec config, string layer) =>
        BuildShape(config, config.Has("batch_shape") ? "batch_shape" : "batch_input_shape", layer);

    private static int[]? BuildShape(JsonSpec? config, string key, string layer) =>
        config is null ? null : KerasGraph.SampleShape(config, key, layer);

    /// <summary>Keras 3 inbound_nodes: one call <c>{args, kwargs}</c>; its tensors, in order, are the layer's inputs.</summary>
    private static string[] InboundNames(JsonSpec entry, string layer, string cls)
    {
        var raw = entry.Raw("inbound_nodes") ?? throw entry.Error("inbound_nodes", $"layer '{layer}' has no inbound_nodes");
        if (raw.ValueKind != JsonValueKind.Array) throw entry.Error("inbound_nodes", "expected a list");
        int calls = raw.GetArrayLength();
        if (calls == 0) throw entry.Error("inbound_nodes", $"layer '{layer}' ({cls}) is not connected");
        if (calls > 1) throw entry.Error("inbound_nodes", $"layer '{layer}' ({cls}) is called {calls} times; shared layers are not supported");
        var node = raw[0];
        if (node.ValueKind != JsonValueKind.Object || !node.TryGetProperty("args", out var args) || args.ValueKind != JsonValueKind.Array)
            throw entry.Error("inbound_nodes", $"layer '{layer}': expected {{\"args\": [...], \"kwargs\": {{...}}}}, found {node.GetRawText()}");
        var names = new List<string>();
        Tensors(args, names, entry, layer);
        if (node.TryGetProperty("kwargs", out var kwargs) && kwargs.ValueKind == JsonValueKind.Object)
        {
            var extra = new List<string>();
            Tensors(kwargs, extra, entry, layer);
            if (extra.Count > 0) throw entry.Error("inbound_nodes", $"layer '{layer}' ({cls}) takes a tensor as a keyword argument (from '{extra[0]}'); not supported");
        }
        if (names.Count == 0) throw entry.Error("inbound_nodes", $"layer '{layer}' ({cls}) has no input tensor");
        return [.. names];
    }

    private static void Tensors(JsonElement e, List<string> into, JsonSpec entry, string layer)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Array:
                foreach (var item in e.EnumerateArray()) Tensors(item, into, entry, layer);
                break;
            case JsonValueKind.Object when e.TryGetProperty("class_name", out var c) && c.ValueKind == JsonValueKind.String && c.GetString() == "__keras_tensor__":
                if (!e.TryGetProperty("config", out var tc) || tc.ValueKind != JsonValueKind.Object || !tc.TryGetProperty("keras_history", out var h)
                    || h.ValueKind != JsonValueKind.Array || h.GetArrayLength() < 3 || h[0].ValueKind != JsonValueKind.String)
                    throw entry.Error("inbound_nodes", $"layer '{layer}': a tensor without keras_history [layer, node, tensor]: {e.GetRawText()}");
                if (h[2].ValueKind == JsonValueKind.Number && h[2].GetInt32() != 0)
                    throw entry.Error("inbound_nodes", $"layer '{layer}' reads output {h[2].GetInt32()} of '{h[0].GetString()}'; only single-output layers are supported");
                into.Add(h[0].GetString()!);
                break;
            case JsonValueKind.Object:
                foreach (var p in e.EnumerateObject()) Tensors(p.Value, into, entry, layer);
                break;
        }
    }
}
