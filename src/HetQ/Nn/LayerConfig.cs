using System.Text.Json;
using HetQ.Nn.Layers;
using HetQ.Numerics;

namespace HetQ.Nn;

/// <summary>Creates layers from their JSON specs (the "layers" list of a model) and writes them back.
/// A spec is {"type": ..., "name"?: ..., "inputs"?: [names], hyperparameters...}.</summary>
public static class LayerConfig
{
    public static readonly string[] Types =
    {
        "dense", "conv1d", "conv2d", "depthwise_conv2d", "batch_norm", "activation", "relu", "leaky_relu", "hard_tanh",
        "sigmoid", "tanh", "softmax", "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "global_avg_pool", "flatten", "dropout", "add",
    };

    public static Layer Create(JsonSpec s)
    {
        string type = s.RequireString("type").ToLowerInvariant();
        s.Allow("inputs");
        string? name = s.String("name");
        if (name is not null && !Names.IsIdentifier(name))
            throw s.Error("name", $"'{Files.SafeOutput.Printable(name)}' {Names.IdentifierRule}");
        Layer layer = type switch
        {
            "dense" => new Dense(s.RequireInt("units"), ReadActivation(s), s.Bool("use_bias", true),
                Initializer(s), ReadRegularizer(s)),
            "conv1d" or "conv2d" => CreateConv(s, type == "conv1d" ? 1 : 2),
            "depthwise_conv2d" => new DepthwiseConv2D(s.Ints("kernel_size", 2) ?? throw s.Error("kernel_size", "is required"),
                s.Ints("strides", 2) ?? new[] { 1, 1 }, ReadPadding(s), s.Int("depth_multiplier", 1), ReadActivation(s),
                s.Bool("use_bias", true), Initializer(s), ReadRegularizer(s)),
            "batch_norm" or "batchnormalization" or "batch_normalization" => new BatchNorm(s.Double("momentum", 0.99), s.Double("epsilon", 1e-3)),
            "activation" => new ActivationLayer(Activation.Parse(s.RequireString("activation"), s)),
            "relu" or "leaky_relu" or "hard_tanh" or "sigmoid" or "tanh" or "softmax" or "linear" => new ActivationLayer(Activation.Parse(type, s)),
            "max_pool1d" or "avg_pool1d" => new Pool(type.StartsWith("max", StringComparison.Ordinal), 1,
                s.Ints("pool_size", 1) ?? new[] { 2 }, s.Ints("strides", 1), ReadPadding(s)),
            "max_pool2d" or "avg_pool2d" => new Pool(type.StartsWith("max", StringComparison.Ordinal), 2,
                s.Ints("pool_size", 2) ?? new[] { 2, 2 }, s.Ints("strides", 2), ReadPadding(s)),
            "global_avg_pool" or "global_average_pooling" => new GlobalAveragePool(),
            "flatten" => new Flatten(),
            "dropout" => new Dropout(s.Double("rate") ?? throw s.Error("rate", "is required")),
            "add" => new Add(),
            _ => throw s.Error("type", $"unknown layer type '{type}' (known: {string.Join(", ", Types)})"),
        };
        CheckRanges(s, type);
        layer.Quantizers = ReadQuantizers(s);
        s.RejectUnknown();
        if (name is not null) layer.Name = name;
        return layer;
    }

    /// <summary>The largest unit, filter or channel count of one layer (a size guard with a clear message).</summary>
    public const int MaxUnits = 65536;

    private static void CheckRanges(JsonSpec s, string type)
    {
        foreach (var key in new[] { "units", "filters", "depth_multiplier" })
            if (s.Has(key) && s.Int(key) is int n && (n < 1 || n > MaxUnits))
                throw s.Error(key, $"must be 1 to {MaxUnits}, given {n}");
        foreach (var key in new[] { "kernel_size", "strides", "pool_size" })
            if (s.Has(key) && s.Raw(key) is { } raw && (raw.ValueKind == System.Text.Json.JsonValueKind.Number ? new[] { raw.TryGetInt32(out int v) ? v : 0 } : s.Ints(key) ?? Array.Empty<int>()) is var values
                && values.Any(v => v is < 1 or > 4096))
                throw s.Error(key, $"must be 1 to 4096, given {raw}");
        if (type is "batch_norm" or "batchnormalization" or "batch_normalization")
        {
            double m = s.Double("momentum", 0.99), e = s.Double("epsilon", 1e-3);
            if (!(m >= 0 && m < 1)) throw s.Error("momentum", $"must be in [0, 1), given {m}");
            if (!(e > 0) || double.IsInfinity(e)) throw s.Error("epsilon", $"must be positive, given {e}");
        }
        if (type == "dropout" && s.Double("rate") is double r && !(r >= 0 && r < 1)) throw s.Error("rate", $"must be in [0, 1), given {r}");
    }

    /// <summary>Checks a sample shape: 1 to 4 dimensions, each 1 to 1 048 576, at most 2^26 elements.</summary>
    public static void CheckShape(JsonSpec s, string key, int[] shape)
    {
        if (shape.Length is < 1 or > 4 || shape.Any(d => d is < 1 or > 1 << 20) || shape.Aggregate(1L, (a, d) => a * d) > 1L << 26)
            throw s.Error(key, $"[{string.Join(",", shape)}] is not a sample shape (1 to 4 positive dimensions, at most 2^26 elements)");
    }

    /// <summary>The QKeras-style quantizer keys any layer may carry: kernel_quantizer, bias_quantizer, activation_quantizer.</summary>
    public static LayerQuantizers? ReadQuantizers(JsonSpec s)
    {
        var q = new LayerQuantizers(Quantizer(s, "kernel_quantizer"), Quantizer(s, "bias_quantizer"), Quantizer(s, "activation_quantizer"));
        return q.IsEmpty ? null : q;
    }

    public static Quantization.IQuantizer? Quantizer(JsonSpec s, string key)
    {
        string? spec = s.String(key);
        if (spec is null) return null;
        try
        {
            return Quantization.QuantizerParser.Parse(spec);
        }
        catch (HetQException e)
        {
            throw s.Error(key, e.Message);
        }
    }

    private static Conv CreateConv(JsonSpec s, int rank)
    {
        int[] ks = s.Ints("kernel_size", rank) ?? throw s.Error("kernel_size", "is required");
        return new Conv(rank, s.RequireInt("filters"), ks, s.Ints("strides", rank) ?? Enumerable.Repeat(1, rank).ToArray(),
            ReadPadding(s), ReadActivation(s), s.Bool("use_bias", true), Initializer(s), ReadRegularizer(s));
    }

    /// <summary>The "padding" key: "valid" (the default) or "same".</summary>
    public static Padding ReadPadding(JsonSpec s) => s.String("padding", "valid") switch
    {
        "valid" => Padding.Valid,
        "same" => Padding.Same,
        var p => throw s.Error("padding", $"must be 'valid' or 'same', given '{p}'"),
    };

    /// <summary>The Keras spelling of <paramref name="padding"/>.</summary>
    public static string PaddingName(Padding padding) => padding == Padding.Same ? "same" : "valid";

    private static string Initializer(JsonSpec s)
    {
        string name = s.String("kernel_initializer", "glorot_uniform");
        if (!Initializers.Names.Contains(name)) throw s.Error("kernel_initializer", $"unknown initializer '{name}' (known: {string.Join(", ", Initializers.Names)})");
        return name;
    }

    private static Activation ReadActivation(JsonSpec s)
    {
        s.Allow("alpha", "min", "max");
        string? name = s.String("activation");
        try
        {
            return name is null ? new Activation(ActivationKind.Linear) : Activation.Parse(name, s);
        }
        catch (HetQException e)
        {
            throw s.Error("activation", e.Message);
        }
    }

    private static Regularizer? ReadRegularizer(JsonSpec s)
    {
        var r = s.Object("kernel_regularizer");
        if (r is null) return null;
        var reg = new Regularizer(r.Double("l1", 0), r.Double("l2", 0));
        r.RejectUnknown();
        return reg;
    }

    public static void Write(Utf8JsonWriter w, Layer layer, IReadOnlyList<string> inputs)
    {
        w.WriteStartObject();
        string type = layer is ActivationLayer ? "activation" : layer.Type;
        w.WriteString("type", type);
        w.WriteString("name", layer.Name);
        if (inputs.Count > 0)
        {
            w.WriteStartArray("inputs");
            foreach (var i in inputs) w.WriteStringValue(i);
            w.WriteEndArray();
        }
        if (layer is ActivationLayer a) w.WriteString("activation", a.Activation.Name);
        layer.WriteConfig(w);
        if (layer.Quantizers is { } q)
        {
            if (q.Kernel is not null) w.WriteString("kernel_quantizer", q.Kernel.Spec);
            if (q.Bias is not null) w.WriteString("bias_quantizer", q.Bias.Spec);
            if (q.Activation is not null) w.WriteString("activation_quantizer", q.Activation.Spec);
        }
        w.WriteEndObject();
    }

    internal static void WriteInts(Utf8JsonWriter w, string key, int[] values)
    {
        w.WriteStartArray(key);
        foreach (int v in values) w.WriteNumberValue(v);
        w.WriteEndArray();
    }

    internal static void WriteActivation(Utf8JsonWriter w, Activation a)
    {
        w.WriteString("activation", a.Name);
        if (a.Kind == ActivationKind.LeakyRelu) w.WriteNumber("alpha", a.Alpha);
        if (a.Kind == ActivationKind.HardTanh)
        {
            w.WriteNumber("min", a.Min);
            w.WriteNumber("max", a.Max);
        }
    }

    internal static void WriteRegularizer(Utf8JsonWriter w, Regularizer? r)
    {
        if (r is null) return;
        w.WriteStartObject("kernel_regularizer");
        w.WriteNumber("l1", r.L1);
        w.WriteNumber("l2", r.L2);
        w.WriteEndObject();
    }
}
