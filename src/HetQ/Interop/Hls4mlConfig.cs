using HetQ.Quantization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace HetQ.Interop;

/// <summary>The precisions of one layer (hls4ml's <c>Precision: {weight, bias, result}</c>); null: not set here.</summary>
public sealed record LayerPrecision(FixedFormat? Weight = null, FixedFormat? Bias = null, FixedFormat? Result = null)
{
    /// <summary>All three set to <paramref name="format"/> (hls4ml's <c>Precision: ap_fixed&lt;16,6&gt;</c>).</summary>
    public static LayerPrecision All(FixedFormat format) => new(format, format, format);

    /// <summary>Fields set in <paramref name="over"/> replace these.</summary>
    public LayerPrecision Override(LayerPrecision over) => new(over.Weight ?? Weight, over.Bias ?? Bias, over.Result ?? Result);
}

/// <summary>The precision part of an hls4ml configuration: <c>Model: Precision</c> and <c>LayerName: NAME: Precision</c>,
/// read from hls4ml's YAML (the whole project file with an <c>HLSConfig:</c> section, or the <c>HLSConfig</c> part alone).
/// Settings that do not change the arithmetic (ReuseFactor, Strategy, Trace, table sizes) are ignored; precision keys
/// HetQ does not model (accum: HetQ's accumulators are exact) are listed in <see cref="Warnings"/>.</summary>
public sealed record Hls4mlConfig(LayerPrecision? Model, IReadOnlyDictionary<string, LayerPrecision> Layers, IReadOnlyList<string> Warnings)
{
    private static readonly string[] PrecisionKeys = ["weight", "bias", "result"];

    /// <summary>Reads <paramref name="file"/>; a malformed file or precision is a <see cref="HetQException"/> naming the file and key.</summary>
    public static Hls4mlConfig Load(string file)
    {
        if (!File.Exists(file)) throw new HetQException($"{file}: file not found");
        return Parse(File.ReadAllText(file), file);
    }

    public static Hls4mlConfig Parse(string text, string source)
    {
        var yaml = new YamlStream();
        try
        {
            using var reader = new StringReader(text);
            yaml.Load(reader);
        }
        catch (YamlException e)
        {
            throw new HetQException($"{source}: not valid YAML (line {e.Start.Line}: {e.Message})", e);
        }
        if (yaml.Documents.Count == 0 || yaml.Documents[0].RootNode is not YamlMappingNode root)
            throw new HetQException($"{source}: expected a mapping with HLSConfig (or Model / LayerName)");
        if (Child(root, "HLSConfig") is { } hls)
            root = hls as YamlMappingNode ?? throw new HetQException($"{source}: HLSConfig must be a mapping");
        var warnings = new List<string>();
        LayerPrecision? model = null;
        if (Child(root, "Model") is { } m)
        {
            var mm = m as YamlMappingNode ?? throw new HetQException($"{source}: Model must be a mapping");
            if (Child(mm, "Precision") is { } p) model = Precision(p, $"{source}: Model.Precision", warnings, isModel: true);
        }
        var layers = new Dictionary<string, LayerPrecision>(StringComparer.Ordinal);
        if (Child(root, "LayerName") is { } ln)
        {
            var map = ln as YamlMappingNode ?? throw new HetQException($"{source}: LayerName must be a mapping of layer names");
            foreach (var (key, value) in map.Children)
            {
                string name = ((YamlScalarNode)key).Value ?? "";
                if (value is not YamlMappingNode entry) throw new HetQException($"{source}: LayerName.{name} must be a mapping");
                if (Child(entry, "Precision") is { } p) layers[name] = Precision(p, $"{source}: LayerName.{name}.Precision", warnings, isModel: false);
            }
        }
        if (Child(root, "LayerType") is not null)
            warnings.Add($"{source}: LayerType precisions are not applied (give them per layer under LayerName)");
        return new Hls4mlConfig(model, layers, warnings);
    }

    private static YamlNode? Child(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var v) ? v : null;

    private static LayerPrecision Precision(YamlNode node, string where, List<string> warnings, bool isModel)
    {
        if (node is YamlScalarNode s) return LayerPrecision.All(Format(s, where));
        if (node is not YamlMappingNode map) throw new HetQException($"{where}: expected a type such as ap_fixed<16,6> or a mapping {{weight, bias, result}}");
        var result = new LayerPrecision();
        foreach (var (key, value) in map.Children)
        {
            string k = ((YamlScalarNode)key).Value ?? "";
            if (value is not YamlScalarNode v) throw new HetQException($"{where}.{k}: expected a type such as ap_fixed<16,6>");
            switch (k)
            {
                case "default" when isModel: result = LayerPrecision.All(Format(v, $"{where}.{k}")).Override(result); break;
                case "weight": result = result with { Weight = Format(v, $"{where}.{k}") }; break;
                case "bias": result = result with { Bias = Format(v, $"{where}.{k}") }; break;
                case "result": result = result with { Result = Format(v, $"{where}.{k}") }; break;
                default: warnings.Add($"{where}.{k} is not applied (HetQ sets {string.Join(", ", PrecisionKeys)}; accumulators are exact)"); break;
            }
        }
        return result;
    }

    private static FixedFormat Format(YamlScalarNode v, string where)
    {
        string text = (v.Value ?? "").Trim();
        // hls4ml writes ap_int<W> and ap_uint<W> for integers.
        if (text.StartsWith("ap_int<", StringComparison.Ordinal) || text.StartsWith("ap_uint<", StringComparison.Ordinal))
        {
            int open = text.IndexOf('<'), close = text.IndexOf('>');
            if (close > open && int.TryParse(text[(open + 1)..close], System.Globalization.CultureInfo.InvariantCulture, out int w))
                text = $"{(text[3] == 'i' ? "ap_fixed" : "ap_ufixed")}<{w},{w}>";
        }
        try
        {
            return FixedFormat.Parse(text);
        }
        catch (HetQException e)
        {
            throw new HetQException($"{where}: {e.Message}", e);
        }
    }
}
