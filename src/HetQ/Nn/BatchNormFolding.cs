using System.Text.Json;
using System.Text.Json.Nodes;
using HetQ.Nn.Layers;

namespace HetQ.Nn;

/// <summary>Folds each batch normalization that directly follows a dense or convolution layer (with a linear
/// activation, and no other reader) into that layer, as QKeras's QDenseBatchnorm / QConv2DBatchnorm do for
/// inference: W' = W·γ/√(σ²+ε) per output channel, b' = (b − μ)·γ/√(σ²+ε) + β. The folded layer keeps its
/// kernel and bias quantizers (so the folded parameters are what gets quantized) and takes over the batch
/// norm's activation quantizer.</summary>
internal static class BatchNormFolding
{
    /// <summary>A new model with the foldable batch norms folded (the input model is not changed), and one note per fold.</summary>
    public static (Model Model, IReadOnlyList<string> Notes) Fold(Model model)
    {
        var folds = new Dictionary<int, int>(); // bn node -> producer node
        for (int i = 0; i < model.Nodes.Count; i++)
        {
            if (model.Nodes[i].Layer is not BatchNorm || model.Nodes[i].Inputs.Length != 1) continue;
            int p = model.Nodes[i].Inputs[0];
            if (p < 0) continue;
            var producer = model.Nodes[p].Layer;
            bool linear = producer switch
            {
                Dense d => d.Activation.Kind == ActivationKind.Linear,
                Conv c => c.Activation.Kind == ActivationKind.Linear,
                DepthwiseConv2D dw => dw.Activation.Kind == ActivationKind.Linear,
                _ => false,
            };
            if (!linear || producer.OutputQuantizer is not null) continue;
            if (model.Nodes.Count(n => n.Inputs.Contains(p)) != 1) continue;
            folds[i] = p;
        }
        if (folds.Count == 0) return (model, Array.Empty<string>());

        var doc = JsonNode.Parse(ModelIO.ToJson(model, new ModelMetadata("fold", 0)))!.AsObject();
        var layers = doc["layers"]!.AsArray();
        var names = model.Nodes.Select(n => n.Layer.Name).ToArray();
        var keep = new List<JsonNode>();
        var notes = new List<string>();
        for (int i = 0; i < layers.Count; i++)
        {
            var spec = layers[i]!.DeepClone().AsObject();
            if (folds.ContainsKey(i)) continue;
            var folded = folds.FirstOrDefault(kv => kv.Value == i);
            if (folds.ContainsValue(i))
            {
                int bn = folded.Key;
                spec["use_bias"] = true;
                if (model.Nodes[bn].Layer.Quantizers?.Activation is { } aq) spec["activation_quantizer"] = aq.Spec;
                if (model.Nodes[bn].Layer.Quantizers?.Activation is null) spec.Remove("activation_quantizer");
                notes.Add($"batch norm '{names[bn]}' folded into '{names[i]}'");
            }
            // Every layer names its inputs explicitly; readers of a folded batch norm read the layer it was folded into.
            var inputs = new JsonArray();
            foreach (int src in model.Nodes[i].Inputs)
                inputs.Add(src < 0 ? "input" : names[folds.TryGetValue(src, out int into) ? into : src]);
            spec["inputs"] = inputs;
            keep.Add(spec);
        }
        var specs = keep.Select(n => new JsonSpec(JsonDocument.Parse(n.ToJsonString()).RootElement.Clone(), "$.layers", "batch-norm folding")).ToList();
        var built = Model.Build(model.InputShape, specs.Select(s => (LayerConfig.Create(s), s.Strings("inputs"))).ToList(), 0);
        built.InputQuantizer = model.InputQuantizer;

        var byName = built.Nodes.ToDictionary(n => n.Layer.Name, n => n.Layer);
        foreach (var node in model.Nodes)
        {
            if (node.Layer is BatchNorm) continue;
            var target = byName[node.Layer.Name];
            for (int k = 0; k < node.Layer.Parameters.Count; k++)
                if (k < target.Parameters.Count && target.Parameters[k].Name == node.Layer.Parameters[k].Name)
                    node.Layer.Parameters[k].Value.CopyTo(target.Parameters[k].Value, 0);
        }
        foreach (var (bnIndex, pIndex) in folds)
        {
            var bn = (BatchNorm)model.Nodes[bnIndex].Layer;
            var src = model.Nodes[pIndex].Layer;
            var dst = byName[src.Name];
            var kernel = dst.Parameters.First(p => p.Name.EndsWith("/kernel", StringComparison.Ordinal));
            var bias = dst.Parameters.First(p => p.Name.EndsWith("/bias", StringComparison.Ordinal));
            var oldBias = src.Parameters.FirstOrDefault(p => p.Name.EndsWith("/bias", StringComparison.Ordinal));
            int channels = bias.Length;
            for (int c = 0; c < channels; c++)
            {
                double scale = bn.Gamma.Value[c] / Math.Sqrt(bn.MovingVariance.Value[c] + bn.Epsilon);
                for (int i = c; i < kernel.Length; i += channels) kernel.Value[i] = (float)(kernel.Value[i] * scale);
                double b = oldBias is null ? 0 : oldBias.Value[c];
                bias.Value[c] = (float)((b - bn.MovingMean.Value[c]) * scale + bn.Beta.Value[c]);
            }
        }
        return (built, notes);
    }
}
