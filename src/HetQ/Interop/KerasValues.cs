using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using HetQ.Nn;
using HetQ.Quantization;

namespace HetQ.Interop;

/// <summary>Translates the values inside a Keras/QKeras layer config: quantizers (a QKeras string or a
/// serialized {class_name, config}), activations, and kernel regularizers. The <c>where</c> argument of each
/// method names the file and layer in errors.</summary>
internal static class KerasValues
{
    /// <summary>The Keras activation names HetQ computes.</summary>
    public static readonly string[] Activations = ["linear", "relu", "sigmoid", "tanh", "softmax"];

    /// <summary>A quantizer value as its canonical QKeras spec (checked with <see cref="QuantizerParser"/>); null when absent.</summary>
    public static string? Quantizer(JsonSpec config, string key, string where)
    {
        var raw = config.Raw(key);
        if (raw is null) return null;
        string text = raw.Value.ValueKind switch
        {
            JsonValueKind.String => raw.Value.GetString()!,
            JsonValueKind.Object => QuantizerCall(new JsonSpec(raw.Value, $"{config.Path}.{key}", config.Source), where, key),
            _ => throw new HetQException($"{where}: {key}: expected a quantizer string or {{class_name, config}}, found {raw.Value.GetRawText()}"),
        };
        return Parse(text, where, key);
    }

    /// <summary>An activation value that is either a Keras activation name or a quantizer (QKeras's
    /// QActivation and the activation of QDense/QConv): (activation name, null) or ("linear", quantizer spec).</summary>
    public static (string Activation, string? Quantizer) ActivationOrQuantizer(JsonSpec config, string key, string where)
    {
        var raw = config.Raw(key);
        if (raw is null) return ("linear", null);
        if (raw.Value.ValueKind == JsonValueKind.String && Activations.Contains(raw.Value.GetString()))
            return (raw.Value.GetString()!, null);
        if (raw.Value.ValueKind == JsonValueKind.String && QuantizerNameOf(raw.Value.GetString()!) is null)
            throw new HetQException($"{where}: {key}: '{raw.Value.GetString()}' is neither a supported activation ({string.Join(", ", Activations)}) nor a QKeras quantizer ({string.Join(", ", QuantizerParser.Names)})");
        return ("linear", Quantizer(config, key, where));
    }

    /// <summary>A plain Keras activation name (Dense, Conv, Activation layers).</summary>
    public static string Activation(JsonSpec config, string key, string where)
    {
        var raw = config.Raw(key);
        if (raw is null) return "linear";
        string? name = raw.Value.ValueKind == JsonValueKind.String ? raw.Value.GetString() : null;
        if (name is null || !Activations.Contains(name))
            throw new HetQException($"{where}: {key} {raw.Value.GetRawText()} is not supported (supported: {string.Join(", ", Activations)})");
        return name;
    }

    /// <summary>A Keras regularizer {class_name: L1 | L2 | L1L2, config: {l1, l2}} as HetQ's {l1, l2}; null when absent or zero.</summary>
    public static JsonObject? Regularizer(JsonSpec config, string key, string where)
    {
        var r = config.Object(key);
        if (r is null) return null;
        string cls = r.RequireString("class_name");
        var c = r.Object("config");
        double l1 = c?.Double("l1", 0) ?? 0, l2 = c?.Double("l2", 0) ?? 0;
        (l1, l2) = cls switch
        {
            "L1" or "l1" => (l1, 0),
            "L2" or "l2" => (0, l2),
            "L1L2" or "l1_l2" => (l1, l2),
            _ => throw new HetQException($"{where}: {key}: regularizer '{cls}' is not supported (L1, L2, L1L2)"),
        };
        if (l1 == 0 && l2 == 0) return null;
        return new JsonObject { ["l1"] = l1, ["l2"] = l2 };
    }

    /// <summary>The quantizer name a string starts with, when it is one the parser knows.</summary>
    private static string? QuantizerNameOf(string text)
    {
        int end = text.IndexOfAny(['(', '<']);
        string name = (end < 0 ? text : text[..end]).Trim();
        return QuantizerParser.Names.Contains(name) || name is "ap_fixed" or "ap_ufixed" ? name : null;
    }

    /// <summary>{class_name: quantized_bits, config: {bits: 6, ...}} as "quantized_bits(bits=6, ...)".</summary>
    private static string QuantizerCall(JsonSpec q, string where, string key)
    {
        string cls = q.RequireString("class_name");
        var text = new StringBuilder(cls).Append('(');
        var config = q.Raw("config");
        if (config is { ValueKind: JsonValueKind.Object } c)
        {
            bool first = true;
            foreach (var p in c.EnumerateObject())
            {
                if (!first) text.Append(", ");
                first = false;
                text.Append(p.Name).Append('=').Append(Argument(p.Value, where, $"{key}.{p.Name}"));
            }
        }
        return text.Append(')').ToString();
    }

    private static string Argument(JsonElement v, string where, string key) => v.ValueKind switch
    {
        JsonValueKind.True => "True",
        JsonValueKind.False => "False",
        JsonValueKind.Null => "None",
        JsonValueKind.Number => v.GetDouble().ToString("R", CultureInfo.InvariantCulture),
        JsonValueKind.String => "'" + v.GetString() + "'",
        _ => throw new HetQException($"{where}: {key}: {v.GetRawText()} is not supported (per-channel lists and nested objects are not)"),
    };

    private static string Parse(string spec, string where, string key)
    {
        try
        {
            return QuantizerParser.Parse(spec).Spec;
        }
        catch (HetQException e)
        {
            throw new HetQException($"{where}: {key}: {e.Message}", e);
        }
    }
}
