using System.Text.Json;
using System.Text.Json.Nodes;
using HetQ.Data;
using HetQ.Interop;
using HetQ.Nn;
using HetQ.Nn.Layers;
using HetQ.Quantization;

namespace HetQ.Training;

/// <summary>What <c>hetq ptq</c> is asked for: the default precision (weights, biases and results), per-layer
/// overrides (an hls4ml configuration) and an optional profiling data set.</summary>
public sealed record PtqOptions(FixedFormat Precision, Hls4mlConfig? Config = null, Dataset? Profile = null);

/// <summary>One row of the precision table: a tensor (the input, a layer's weight, bias or result), its type and
/// where the type came from (default, config, profile).</summary>
public sealed record PtqTensor(string Layer, string Role, FixedFormat Format, string Source);

/// <summary>The quantized model, its precision table and what the user should know.</summary>
public sealed record PtqResult(Model Model, IReadOnlyList<PtqTensor> Tensors, IReadOnlyList<string> Warnings);

/// <summary>Post-training quantization as hls4ml does it: every weight, bias and layer result of a float model gets a
/// fixed-point type (a default, per-layer overrides, or integer bits from the range the tensor takes on a data set:
/// hls4ml's 'auto'). An activation inside a dense or convolution layer becomes its own layer named
/// <c>NAME_ACTIVATION</c> (as hls4ml splits it), so the layer's result is quantized before the activation; a
/// softmax or sigmoid at the output is left unquantized (the frozen graph outputs the logits). Batch norms after a
/// linear dense or convolution are folded first. Accumulators are not quantized: the freezer makes them exact.</summary>
public static class PtqJob
{
    public static PtqResult Run(Model model, PtqOptions o)
    {
        ArgumentNullException.ThrowIfNull(model);
        var warnings = new List<string>(o.Config?.Warnings ?? []);
        var (folded, foldNotes) = BatchNormFolding.Fold(model.WithoutQuantization());
        warnings.AddRange(foldNotes);
        var split = Split(folded);
        var names = split.Nodes.Select(n => n.Layer.Name).ToHashSet(StringComparer.Ordinal);
        var layers = new Dictionary<string, LayerPrecision>(StringComparer.Ordinal);
        LayerPrecision? inputOverride = null;
        foreach (var (name, p) in o.Config?.Layers ?? new Dictionary<string, LayerPrecision>())
        {
            if (names.Contains(name)) layers[name] = p;
            else if (name == "input" || name.EndsWith("_input", StringComparison.Ordinal)) inputOverride = p;
            else throw new HetQException($"hls4ml config: LayerName '{name}' is not a layer of the model (layers: {string.Join(", ", split.Nodes.Select(n => n.Layer.Name))})");
        }
        var def = LayerPrecision.All(o.Precision).Override(o.Config?.Model ?? new LayerPrecision());
        var ranges = o.Profile is { } data ? Ranges(split, data) : null;
        var tensors = new List<PtqTensor>();

        FixedFormat Pick(string layer, string role, FixedFormat? over, FixedFormat fallback, Func<double>? range)
        {
            if (over is { } f)
            {
                tensors.Add(new PtqTensor(layer, role, f, "config"));
                return f;
            }
            if (range is not null && ranges is not null && IntegerBitsFor(range(), fallback.Type) is { } t)
            {
                var p = fallback with { Type = t };
                tensors.Add(new PtqTensor(layer, role, p, "profile"));
                return p;
            }
            tensors.Add(new PtqTensor(layer, role, fallback, "default"));
            return fallback;
        }

        var doc = JsonNode.Parse(ModelIO.ToJson(split, new ModelMetadata("ptq", 0)))!.AsObject();
        var specs = doc["layers"]!.AsArray();
        var input = Pick("input", "result", inputOverride?.Result, def.Result!.Value, ranges is null ? null : () => ranges.Input);
        int last = split.Nodes.Count - 1;
        for (int i = 0; i < split.Nodes.Count; i++)
        {
            var layer = split.Nodes[i].Layer;
            var spec = specs[i]!.AsObject();
            var lp = layers.GetValueOrDefault(layer.Name);
            if (layer.Parameters.FirstOrDefault(p => Role(p) == "kernel") is { } kernel)
                spec["kernel_quantizer"] = Pick(layer.Name, "weight", lp?.Weight, def.Weight!.Value, () => MaxAbs(kernel.Value)).ToString();
            if (layer.Parameters.FirstOrDefault(p => Role(p) == "bias") is { } bias)
                spec["bias_quantizer"] = Pick(layer.Name, "bias", lp?.Bias, def.Bias!.Value, () => MaxAbs(bias.Value)).ToString();
            bool atOutput = IsOutputActivation(split, i, last);
            bool noResult = layer is Dropout or Flatten || layer is Pool { IsMax: true } || atOutput;
            if (atOutput && lp?.Result is not null)
                warnings.Add($"layer '{layer.Name}' ({layer.Type}) at the output: its result precision is not applied (the graph outputs the logits)");
            if (!noResult)
            {
                int node = i;
                spec["activation_quantizer"] = Pick(layer.Name, "result", lp?.Result, def.Result!.Value, () => ranges![node]).ToString();
            }
        }
        var built = Rebuild(split, specs);
        built.InputQuantizer = new FakeQuantizer(new FixedQuantizer(input));
        return new PtqResult(built, tensors, warnings);
    }

    private static string Role(Parameter p) => p.Name[(p.Name.LastIndexOf('/') + 1)..];

    private static bool IsOutputActivation(Model m, int i, int last) =>
        m.Nodes[i].Layer is ActivationLayer { Activation.Kind: ActivationKind.Softmax or ActivationKind.Sigmoid }
        && Enumerable.Range(i + 1, last - i).All(j => m.Nodes[j].Layer is Dropout);

    /// <summary>The smallest integer bits that hold <paramref name="maxAbs"/> at <paramref name="type"/>'s width and
    /// signedness (null for an all-zero tensor: the configured type stays).</summary>
    internal static FixedType? IntegerBitsFor(double maxAbs, FixedType type)
    {
        if (!(maxAbs > 0) || double.IsInfinity(maxAbs)) return null;
        // Signed: need maxAbs < 2^(I-1); unsigned: maxAbs < 2^I.
        int e = (int)Math.Floor(Math.Log2(maxAbs)) + 1;
        if (Math.ScaleB(1.0, e - 1) > maxAbs) e--; // Log2 rounding near powers of two
        if (Math.ScaleB(1.0, e) <= maxAbs) e++;
        int integer = type.Signed ? e + 1 : e;
        integer = Math.Clamp(integer, type.Width - FixedType.MaxBinaryPoint, FixedType.MaxBinaryPoint);
        return new FixedType(type.Signed, type.Width, integer);
    }

    private static double MaxAbs(ReadOnlySpan<float> v)
    {
        double m = 0;
        foreach (float x in v) m = Math.Max(m, Math.Abs((double)x));
        return m;
    }

    /// <summary>Per node, the largest |value| the float model's output takes on the profiling data; Input for the model input.</summary>
    private sealed class Profile(double input, double[] nodes)
    {
        public double Input { get; } = input;
        public double this[int i] => nodes[i];
    }

    private static Profile Ranges(Model model, Dataset data)
    {
        if (!data.SampleShape.SequenceEqual(model.InputShape))
            throw new HetQException($"--profile: the data set's samples are [{string.Join(",", data.SampleShape)}], the model takes [{string.Join(",", model.InputShape)}]");
        var m = model.CloneForWorker();
        var maxima = new double[model.Nodes.Count];
        var ctx = new ForwardContext { Training = false };
        int s = data.SampleSize;
        for (int b = 0; b < data.Count; b += 256)
        {
            int e = Math.Min(data.Count, b + 256);
            var shape = new int[model.InputShape.Length + 1];
            shape[0] = e - b;
            model.InputShape.CopyTo(shape, 1);
            m.Forward(new Tensor(shape, data.Features.AsSpan(b * s, (e - b) * s).ToArray()), ctx);
            for (int i = 0; i < model.Nodes.Count; i++)
                maxima[i] = Math.Max(maxima[i], MaxAbs(m.NodeOutput(i).Data.AsSpan(0, (e - b) * Tensor.Size(model.Nodes[i].Layer.OutputShape))));
        }
        return new Profile(MaxAbs(data.Features), maxima);
    }

    /// <summary>Dense and convolution layers with a non-linear activation become the layer (linear) followed by an
    /// activation layer NAME_ACTIVATION, so the layer's result can be quantized before its activation.</summary>
    private static Model Split(Model model)
    {
        var doc = JsonNode.Parse(ModelIO.ToJson(model, new ModelMetadata("ptq", 0)))!.AsObject();
        var specs = doc["layers"]!.AsArray();
        var names = model.Nodes.Select(n => n.Layer.Name).ToArray();
        var rename = new Dictionary<string, string>(StringComparer.Ordinal);
        var taken = names.ToHashSet(StringComparer.Ordinal);
        var result = new JsonArray();
        for (int i = 0; i < specs.Count; i++)
        {
            var spec = specs[i]!.DeepClone().AsObject();
            var inputs = new JsonArray();
            foreach (int src in model.Nodes[i].Inputs)
                inputs.Add(src < 0 ? "input" : rename.GetValueOrDefault(names[src], names[src]));
            spec["inputs"] = inputs;
            var layer = model.Nodes[i].Layer;
            var act = layer switch { Dense d => d.Activation, Conv c => c.Activation, DepthwiseConv2D dw => dw.Activation, _ => default };
            result.Add(spec);
            if (act.Kind == ActivationKind.Linear || layer is not (Dense or Conv or DepthwiseConv2D)) continue;
            var actSpec = new JsonObject { ["type"] = "activation", ["activation"] = act.Name };
            foreach (var key in new[] { "alpha", "min", "max" })
                if (spec.Remove(key, out var v)) actSpec[key] = v;
            spec["activation"] = "linear";
            string name = $"{layer.Name}_{act.Name}";
            while (!taken.Add(name)) name += "_";
            actSpec["name"] = name;
            actSpec["inputs"] = new JsonArray(layer.Name);
            rename[layer.Name] = name;
            result.Add(actSpec);
        }
        return Rebuild(model, result);
    }

    /// <summary>Builds the model <paramref name="specs"/> describe and copies every parameter of <paramref name="source"/>
    /// whose name it has.</summary>
    private static Model Rebuild(Model source, JsonArray specs)
    {
        var layers = specs.Select(n => new JsonSpec(JsonDocument.Parse(n!.ToJsonString()).RootElement.Clone(), "$.layers", "ptq"))
            .Select(s => (LayerConfig.Create(s), s.Strings("inputs"))).ToList();
        var built = Model.Build(source.InputShape, layers, 0);
        built.InputQuantizer = source.InputQuantizer;
        var values = source.Parameters.ToDictionary(p => p.Name, p => p.Value, StringComparer.Ordinal);
        foreach (var p in built.Parameters)
            if (values.TryGetValue(p.Name, out var v)) v.CopyTo(p.Value, 0);
        return built;
    }
}
