using System.Text.Json;
using System.Text.RegularExpressions;
using HetQ.Nn;
using HetQ.Quantization;

namespace HetQ.Training;

/// <summary>The "quantization" section of a training configuration: heterogeneous quantizers per layer.
/// <c>input</c> quantizes the model input; <c>default</c> gives kernel, bias and activation quantizers to every
/// layer with a kernel (the activation quantizer to all but the last such layer, whose output is the logits);
/// <c>layers</c> maps a layer name or a regular expression (matching the whole name) to quantizers that override
/// the default, field by field. Quantizer keys written on a layer spec itself take precedence over both.</summary>
public sealed record QuantizationConfig(IQuantizer? Input, LayerQuantizers Default, IReadOnlyList<(string Pattern, LayerQuantizers Quantizers)> Layers)
{
    public static QuantizationConfig Parse(JsonSpec s)
    {
        var input = LayerConfig.Quantizer(s, "input");
        var def = s.Object("default") is { } d ? Read(d) : new LayerQuantizers();
        var layers = new List<(string, LayerQuantizers)>();
        if (s.Object("layers") is { } ls)
            foreach (var p in ls.Element.EnumerateObject())
            {
                ls.Allow(p.Name);
                try
                {
                    _ = Names.Pattern(p.Name, why => ls.Error(p.Name, why));
                }
                catch (ArgumentException e)
                {
                    throw ls.Error(p.Name, $"not a valid regular expression: {e.Message}");
                }
                layers.Add((p.Name, Read(new JsonSpec(p.Value, $"{ls.Path}.{p.Name}", s.Source))));
            }
        s.RejectUnknown();
        return new QuantizationConfig(input, def, layers);
    }

    private static LayerQuantizers Read(JsonSpec s)
    {
        var q = new LayerQuantizers(LayerConfig.Quantizer(s, "kernel"), LayerConfig.Quantizer(s, "bias"), LayerConfig.Quantizer(s, "activation"));
        s.RejectUnknown();
        return q;
    }

    /// <summary>Sets the quantizers on the model's layers (and its input quantizer).</summary>
    public void Apply(Model model)
    {
        if (Input is not null) model.InputQuantizer = new FakeQuantizer(Input);
        var withKernel = model.Nodes.Where(n => n.Layer.Parameters.Any(p => p.Name.EndsWith("/kernel", StringComparison.Ordinal))).Select(n => n.Layer).ToList();
        var unused = new HashSet<string>(Layers.Select(l => l.Pattern));
        foreach (var node in model.Nodes)
        {
            var layer = node.Layer;
            LayerQuantizers q = new();
            if (withKernel.Contains(layer))
                q = layer == withKernel[^1] ? Default with { Activation = null } : Default;
            foreach (var (pattern, lq) in Layers)
                if (Names.Matches(layer.Name, pattern, why => new HetQException($"quantization.layers.{pattern}: {why}")))
                {
                    q = q.Override(lq);
                    unused.Remove(pattern);
                }
            if (layer.Quantizers is { } own) q = q.Override(own);
            if (!withKernel.Contains(layer)) q = q with { Kernel = null, Bias = q.Bias is null ? null : throw new HetQException($"quantization: layer '{layer.Name}' ({layer.Type}) has no bias to quantize") };
            layer.Quantizers = q;
        }
        if (unused.Count > 0)
            throw new HetQException($"quantization.layers: no layer matches {string.Join(", ", unused.Select(u => $"'{u}'"))} (layers: {string.Join(", ", model.Nodes.Select(n => n.Layer.Name))})");
    }
}
