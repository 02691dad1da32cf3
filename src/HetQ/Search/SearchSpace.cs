using System.Text.RegularExpressions;
using HetQ.Nn;
using HetQ.Quantization;

namespace HetQ.Search;

/// <summary>One choice of the search: the quantizer of one parameter type (kernel, bias, activation) of one layer
/// (or of a block of layers named by a regular expression), the input quantizer (role "input"), or a layer's
/// width factor (role "width", see <see cref="WidthFactors"/>).</summary>
public sealed record Dimension(string Name, string Block, string Role, IReadOnlyList<string> Choices);

/// <summary>The candidates for each layer and parameter type. Defaults are AutoQKeras's; limits cap the bits per
/// parameter type (per layer type or layer regex) or give an explicit list.</summary>
public sealed class SearchSpace
{
    public static readonly string[] DefaultKernel =
    {
        "binary", "stochastic_binary", "ternary", "stochastic_ternary", "quantized_bits(2,1,1,alpha=1)",
        "quantized_bits(4,0,1)", "quantized_bits(8,0,1)", "quantized_po2(4,1)",
    };
    public static readonly string[] DefaultBias = { "quantized_bits(4,0,1)", "quantized_bits(8,3,1)", "quantized_po2(4,8)" };
    public static readonly string[] DefaultActivation =
    {
        "binary", "ternary", "quantized_relu(3,1)", "quantized_relu(4,2)", "quantized_relu(8,2)", "quantized_relu(8,4)",
        "quantized_relu(16,8)", "quantized_relu_po2(4,4)",
    };

    public IReadOnlyList<Dimension> Dimensions { get; }

    public SearchSpace(IReadOnlyList<Dimension> dimensions) => Dimensions = dimensions;

    /// <summary>The space for a model: a block per layer with a kernel (or per "blocks" regex), kernel, bias and
    /// activation dimensions (no activation dimension for the last such layer, its output is the logits, unless
    /// "layers" lists activation candidates for it).</summary>
    public static SearchSpace Create(Model model, JsonSpec? spec)
    {
        var kernelLayers = model.Nodes.Select(n => n.Layer).Where(l => l.Parameters.Any(p => p.Name.EndsWith("/kernel", StringComparison.Ordinal))).ToList();
        if (kernelLayers.Count == 0) throw new HetQException("search: the model has no layer with a kernel to quantize");
        var defaults = spec?.Object("default");
        var kernel = defaults?.Strings("kernel") ?? DefaultKernel;
        var bias = defaults?.Strings("bias") ?? DefaultBias;
        var activation = defaults?.Strings("activation") ?? DefaultActivation;
        defaults?.RejectUnknown();
        var perLayer = new List<(Regex Pattern, JsonSpec Spec)>();
        if (spec?.Object("layers") is { } ls)
            foreach (var p in ls.Element.EnumerateObject())
            {
                ls.Allow(p.Name);
                perLayer.Add((Nn.Names.Pattern(p.Name, why => ls.Error(p.Name, why)), new JsonSpec(p.Value, $"{ls.Path}.{p.Name}", ls.Source)));
            }
        var limits = new List<(string Key, JsonSpec Spec)>();
        if (spec?.Object("limits") is { } lim)
            foreach (var p in lim.Element.EnumerateObject())
            {
                lim.Allow(p.Name);
                limits.Add((p.Name, new JsonSpec(p.Value, $"{lim.Path}.{p.Name}", lim.Source)));
            }
        var blocks = spec?.Strings("blocks");
        var input = spec?.Strings("input");
        var widths = WidthFactors.Dimensions(spec, kernelLayers);
        var penalty = PenaltyDimensions.Dimensions(spec);
        spec?.RejectUnknown();

        var dims = new List<Dimension>();
        if (input is not null)
        {
            if (input.Length == 0) throw spec!.Error("input", "needs at least one candidate input quantizer");
            foreach (var q in input) QuantizerParser.Parse(q);
            dims.Add(new Dimension(InputDimension, InputDimension, "input", input));
        }
        var groups = blocks is null
            ? kernelLayers.Select(l => (Block: l.Name, Layers: new List<Layer> { l })).ToList()
            : blocks.Select(b => (Block: b, Layers: kernelLayers.Where(l => Nn.Names.Matches(l.Name, b, why => new HetQException($"search.space.blocks: {why}"))).ToList())).ToList();
        foreach (var (block, layers) in groups)
        {
            if (layers.Count == 0) throw new HetQException($"search.space.blocks: '{block}' matches no layer with a kernel (layers: {string.Join(", ", kernelLayers.Select(l => l.Name))})");
            var first = layers[0];
            string[] Candidates(string role, string[] fallback)
            {
                var c = fallback;
                foreach (var (pattern, s) in perLayer)
                    if (pattern.IsMatch(first.Name) && s.Strings(role) is { } own) c = own;
                foreach (var (key, s) in limits)
                {
                    bool applies = key == first.Type || Nn.Names.Matches(first.Name, key, why => new HetQException($"search.space.limits.{key}: {why}"));
                    if (!applies || !s.Has(role)) continue;
                    var raw = s.Raw(role)!.Value;
                    if (raw.ValueKind == System.Text.Json.JsonValueKind.Number)
                    {
                        int max = raw.GetInt32();
                        c = c.Where(q => QuantizerParser.Parse(q).Bits <= max).ToArray();
                    }
                    else c = s.Strings(role)!;
                }
                foreach (var q in c) QuantizerParser.Parse(q);
                if (c.Length == 0) throw new HetQException($"search: no candidate {role} quantizer is left for '{first.Name}' after the limits");
                return c;
            }
            dims.Add(new Dimension($"{block}/kernel", block, "kernel", Candidates("kernel", kernel)));
            if (first.Parameters.Any(p => p.Name.EndsWith("/bias", StringComparison.Ordinal)))
                dims.Add(new Dimension($"{block}/bias", block, "bias", Candidates("bias", bias)));
            // The last layer's output (the logits) has no activation choice unless the space lists its own
            // (an autoencoder's reconstruction or a regression's outputs, quantized for the chip).
            if (!layers.Contains(kernelLayers[^1]) || perLayer.Any(p => p.Pattern.IsMatch(first.Name) && p.Spec.Has("activation")))
                dims.Add(new Dimension($"{block}/activation", block, "activation", Candidates("activation", activation)));
        }
        dims.AddRange(widths);
        dims.AddRange(penalty);
        foreach (var (_, s) in perLayer) s.Allow("kernel", "bias", "activation");
        foreach (var (_, s) in limits) s.Allow("kernel", "bias", "activation");
        return new SearchSpace(dims);
    }

    /// <summary>The name (and role) of the input quantizer's dimension, present when the space lists <c>input</c> candidates.</summary>
    public const string InputDimension = "input";

    /// <summary>Sets the chosen quantizers on the model's layers (every layer of a block gets the block's choice) and
    /// the chosen input quantizer.</summary>
    public void Apply(Model model, IReadOnlyDictionary<string, string> choice)
    {
        if (Dimensions.Any(d => d.Role == "input") && choice.TryGetValue(InputDimension, out var inputSpec))
            model.InputQuantizer = new FakeQuantizer(QuantizerParser.Parse(inputSpec));
        foreach (var node in model.Nodes)
        {
            var layer = node.Layer;
            IQuantizer? Q(string role)
            {
                var d = Dimensions.FirstOrDefault(d => d.Role == role && (d.Block == layer.Name || Nn.Names.Matches(layer.Name, d.Block, why => new HetQException($"search.space.blocks: {why}"))));
                return d is not null && choice.TryGetValue(d.Name, out var spec) ? QuantizerParser.Parse(spec) : null;
            }
            var k = Q("kernel");
            if (k is null) continue;
            layer.Quantizers = new LayerQuantizers(k, Q("bias"), Q("activation"));
        }
    }

    public long Size => Dimensions.Aggregate(1L, (n, d) => n * d.Choices.Count);
}
