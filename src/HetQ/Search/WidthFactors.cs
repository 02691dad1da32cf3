using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using HetQ.Nn;
using HetQ.Training;

namespace HetQ.Search;

/// <summary>Layer width tuning, as AutoQKeras's tune_filters: <c>space.widths</c> maps a layer-name regex to width
/// factors; each matching dense or convolution layer (not the last one with a kernel: its width is the number of
/// classes) gets a dimension "LAYER/width" whose choice scales its units or filters to max(1, round(width·factor)).
/// A trial with changed widths starts from a slice of the float weights: unit (filter) i of the trial is unit i of
/// the float model for i below both widths, so a narrower layer keeps its first units and the next layer the
/// matching inputs; units beyond the float model's width (factor &gt; 1) start from the layer initializer's weights
/// with zero weights out of them into the next layer, so the trial starts computing what the float model computes
/// restricted to the kept units.</summary>
public static class WidthFactors
{
    public const string Role = "width";

    /// <summary>The width dimensions of a space specification's <c>widths</c> object (none when it is absent).</summary>
    public static List<Dimension> Dimensions(JsonSpec? spec, IReadOnlyList<Layer> kernelLayers)
    {
        var dims = new List<Dimension>();
        if (spec?.Object("widths") is not { } w) return dims;
        foreach (var p in w.Element.EnumerateObject())
        {
            w.Allow(p.Name);
            if (p.Value.ValueKind != JsonValueKind.Array || p.Value.GetArrayLength() == 0)
                throw w.Error(p.Name, "must be a non-empty list of width factors (numbers, e.g. [0.5, 0.75, 1])");
            var factors = p.Value.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.Number && v.GetDouble() > 0
                ? v.GetDouble() : throw w.Error(p.Name, $"width factors must be positive numbers, found {v.GetRawText()}")).ToList();
            var re = Nn.Names.Pattern(p.Name, why => w.Error(p.Name, why));
            var layers = kernelLayers.Take(kernelLayers.Count - 1).Where(l => re.IsMatch(l.Name)).ToList();
            if (layers.Count == 0)
                throw w.Error(p.Name, $"matches no layer whose width can change (the last layer with a kernel keeps its width; candidates: {string.Join(", ", kernelLayers.Take(kernelLayers.Count - 1).Select(l => l.Name))})");
            foreach (var l in layers)
            {
                if (l is not (Nn.Layers.Dense or Nn.Layers.Conv)) throw w.Error(p.Name, $"layer '{l.Name}' is a {l.Type}: only dense and convolution layers have a width to tune");
                if (dims.Any(d => d.Name == $"{l.Name}/width")) throw w.Error(p.Name, $"layer '{l.Name}' matches two entries of widths");
                dims.Add(new Dimension($"{l.Name}/width", l.Name, Role, factors.Select(f => f.ToString("R", CultureInfo.InvariantCulture)).ToList()));
            }
        }
        return dims;
    }

    /// <summary>The training configuration with the chosen widths (null when every factor keeps the width); its
    /// layers must be named in the configuration. Its own initial weights are dropped: the search slices its own.</summary>
    public static TrainConfig? Scaled(TrainConfig train, IReadOnlyList<Dimension> dims, IReadOnlyDictionary<string, string> choice)
    {
        var factors = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var d in dims.Where(d => d.Role == Role))
            if (choice.TryGetValue(d.Name, out var f)) factors[d.Block] = double.Parse(f, CultureInfo.InvariantCulture);
        if (factors.Values.All(f => f == 1)) return null;
        var layers = train.Layers.Select(spec =>
        {
            if (spec.String("name") is not { } name || !factors.TryGetValue(name, out double factor) || factor == 1) return spec;
            var node = JsonNode.Parse(spec.Element.GetRawText())!.AsObject();
            string key = node.ContainsKey("units") ? "units" : "filters";
            int width = node[key]!.GetValue<int>();
            node[key] = Math.Max(1, (int)Math.Round(width * factor, MidpointRounding.AwayFromZero));
            using var doc = JsonDocument.Parse(node.ToJsonString());
            return new JsonSpec(doc.RootElement.Clone(), spec.Path, spec.Source);
        }).ToList();
        foreach (var name in factors.Keys)
            if (!train.Layers.Any(s => s.String("name") == name))
                throw new HetQException($"{train.Source}: width search needs the layer '{name}' named in the model's layers (\"name\": \"{name}\")");
        return train with { Layers = layers, InitialWeights = null };
    }

    /// <summary>Copies <paramref name="from"/>'s parameters into <paramref name="to"/>'s where the shapes differ only in
    /// size: the common leading block of every axis is copied; cells beyond <paramref name="from"/>'s extent on any axis
    /// but the last (inputs from added units) become zero; cells beyond it on the last axis only (weights into added
    /// units, their biases) keep their initial values.</summary>
    public static void CopySliced(Model from, Model to, string source)
    {
        var byName = from.Parameters.ToDictionary(p => p.Name);
        foreach (var p in to.Parameters)
        {
            if (!byName.TryGetValue(p.Name, out var src)) throw new HetQException($"{source} has no parameter '{p.Name}'");
            if (src.Shape.Length != p.Shape.Length)
                throw new HetQException($"{source}: parameter '{p.Name}' has shape [{string.Join(",", src.Shape)}], the model needs rank {p.Shape.Length}");
            int rank = p.Shape.Length;
            var idx = new int[rank];
            for (int flat = 0; flat < p.Value.Length; flat++)
            {
                int rem = flat;
                for (int a = rank - 1; a >= 0; a--)
                {
                    idx[a] = rem % p.Shape[a];
                    rem /= p.Shape[a];
                }
                bool inside = true, addedInput = false;
                for (int a = 0; a < rank; a++)
                    if (idx[a] >= src.Shape[a])
                    {
                        inside = false;
                        if (a < rank - 1) addedInput = true;
                    }
                if (inside)
                {
                    int s = 0;
                    for (int a = 0; a < rank; a++) s = s * src.Shape[a] + idx[a];
                    p.Value[flat] = src.Value[s];
                }
                else if (addedInput) p.Value[flat] = 0;
            }
        }
    }
}
