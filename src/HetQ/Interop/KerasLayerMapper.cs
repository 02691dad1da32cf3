using System.Text.Json.Nodes;
using HetQ.Nn;

namespace HetQ.Interop;

/// <summary>How one Keras layer becomes a HetQ layer: its HetQ spec (the JSON a model.json holds), the
/// parameters (by HetQ role: kernel, bias, gamma, ...) that the weights file must provide, and for batch
/// normalization the Keras axis to check against the built shape (null: the last axis).</summary>
/// <see cref="External"/> marks a layer whose variables are read elsewhere (an HGQ FixedPointQuantizer's bit widths).
internal sealed record LayerPlan(KerasLayer Keras, JsonObject Spec, string[] Weights, int? ChannelAxis = null, bool External = false);

/// <summary>What an HGQ proxy model adds to the mapping: the quantizer spec of each FixedPointQuantizer layer (null: not
/// yet known, the layer passes its input through), and per-weight quantizers on kernels and biases that have none.</summary>
internal sealed record HgqMapping(IReadOnlyDictionary<string, string?> QuantizerSpecs)
{
    public const string WeightSpec = "learned_fixed(role=weight,granularity=element,init=0,min=-16,max=32)";
}

/// <summary>Maps Keras 2 / QKeras layer configs to HetQ layer specs. Settings that change what a layer
/// computes and that HetQ lacks are errors; settings that act only in training (constraints, bias and
/// activity regularizers) are dropped with a warning.</summary>
internal sealed class KerasLayerMapper(string source, List<string> warnings, HgqMapping? hgq = null)
{
    /// <summary>The Keras class names HetQ imports (InputLayer gives the input shape).</summary>
    public static readonly string[] Supported =
    [
        "InputLayer", "Dense", "QDense", "Conv1D", "QConv1D", "Conv2D", "QConv2D", "DepthwiseConv2D", "QDepthwiseConv2D",
        "Activation", "QActivation", "ReLU", "LeakyReLU", "BatchNormalization", "QBatchNormalization", "Flatten",
        "MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D", "GlobalAveragePooling1D", "GlobalAveragePooling2D",
        "Dropout", "Add",
    ];

    private static readonly string[] TrainingOnly =
    [
        "kernel_constraint", "bias_constraint", "depthwise_constraint", "bias_regularizer", "activity_regularizer",
        "beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint",
    ];

    public LayerPlan Map(KerasLayer k)
    {
        string where = $"{source}: layer '{k.Name}' ({k.ClassName})";
        var c = k.Config;
        var spec = new JsonObject { ["name"] = k.Name };
        if (k.Inputs.Length > 0) spec["inputs"] = new JsonArray(k.Inputs.Select(i => (JsonNode)i).ToArray());
        string[] weights = [];
        int? axis = null;
        if (HgqProxy.IsQuantizer(k.ClassName))
        {
            if (hgq is null) throw new HetQException($"{where}: an HGQ FixedPointQuantizer needs its weights file (its bit widths are variables)");
            spec["type"] = "activation";
            spec["activation"] = "linear";
            if (hgq.QuantizerSpecs.GetValueOrDefault(k.Name) is { } qs) spec["activation_quantizer"] = qs;
            return new LayerPlan(k, spec, [], External: true);
        }
        if (HgqProxy.IsHgqLayer(k.ClassName))
            throw new HetQException($"{where}: an HGQ training layer; convert the model with HGQ's to_proxy_model(model) and import the saved proxy");
        Keras3Settings(k, where);
        switch (k.ClassName)
        {
            case "Dense" or "QDense":
                spec["type"] = "dense";
                spec["units"] = c.RequireInt("units");
                weights = Biased(c, spec, "kernel");
                Activation(c, spec, quantized: k.ClassName == "QDense", where);
                Regularizer(c, spec, "kernel_regularizer", where);
                Quantizers(c, spec, "kernel_quantizer", where);
                break;
            case "Conv1D" or "QConv1D" or "Conv2D" or "QConv2D":
                int rank = k.ClassName.EndsWith("1D", StringComparison.Ordinal) ? 1 : 2;
                spec["type"] = rank == 1 ? "conv1d" : "conv2d";
                spec["filters"] = c.RequireInt("filters");
                Window(c, spec, "kernel_size", rank, where);
                if (c.Int("groups", 1) != 1) throw new HetQException($"{where}: groups {c.Int("groups", 1)} is not supported (1 only)");
                weights = Biased(c, spec, "kernel");
                Activation(c, spec, quantized: k.ClassName.StartsWith('Q'), where);
                Regularizer(c, spec, "kernel_regularizer", where);
                Quantizers(c, spec, "kernel_quantizer", where);
                break;
            case "DepthwiseConv2D" or "QDepthwiseConv2D":
                spec["type"] = "depthwise_conv2d";
                spec["depth_multiplier"] = c.Int("depth_multiplier", 1);
                Window(c, spec, "kernel_size", 2, where);
                weights = Biased(c, spec, "kernel");
                Activation(c, spec, quantized: k.ClassName.StartsWith('Q'), where);
                Regularizer(c, spec, "depthwise_regularizer", where);
                Quantizers(c, spec, "depthwise_quantizer", where);
                break;
            case "Activation":
                spec["type"] = "activation";
                spec["activation"] = KerasValues.Activation(c, "activation", where);
                break;
            case "QActivation":
                spec["type"] = "activation";
                Activation(c, spec, quantized: true, where);
                break;
            case "ReLU":
                Relu(c, spec, where);
                break;
            case "LeakyReLU":
                spec["type"] = "leaky_relu";
                spec["alpha"] = c.Double("alpha") ?? c.Double("negative_slope") ?? 0.3;
                break;
            case "BatchNormalization" or "QBatchNormalization":
                axis = BatchNorm(k, spec, where);
                weights = [.. c.Bool("scale", true) ? ["gamma"] : Array.Empty<string>(), .. c.Bool("center", true) ? ["beta"] : Array.Empty<string>(), "moving_mean", "moving_variance"];
                break;
            case "Flatten":
                ChannelsLast(c, where);
                spec["type"] = "flatten";
                break;
            case "MaxPooling1D" or "AveragePooling1D" or "MaxPooling2D" or "AveragePooling2D":
                int prank = k.ClassName.EndsWith("1D", StringComparison.Ordinal) ? 1 : 2;
                spec["type"] = (k.ClassName.StartsWith("Max", StringComparison.Ordinal) ? "max_pool" : "avg_pool") + prank + "d";
                Window(c, spec, "pool_size", prank, where);
                break;
            case "GlobalAveragePooling1D" or "GlobalAveragePooling2D":
                ChannelsLast(c, where);
                if (c.Bool("keepdims", false)) throw new HetQException($"{where}: keepdims=True is not supported");
                spec["type"] = "global_avg_pool";
                break;
            case "Dropout":
                spec["type"] = "dropout";
                spec["rate"] = c.Double("rate") ?? throw c.Error("rate", "is required");
                break;
            case "Add":
                spec["type"] = "add";
                break;
            default:
                throw new HetQException($"{source}: layer '{k.Name}': {k.ClassName} is not supported (supported: {string.Join(", ", Supported)})");
        }
        var dropped = TrainingOnly.Where(c.Has).ToList();
        if (k.ClassName == "DepthwiseConv2D" || k.ClassName == "QDepthwiseConv2D")
            if (c.Has("kernel_regularizer")) dropped.Add("kernel_regularizer");
        if (dropped.Count > 0)
            warnings.Add($"layer '{k.Name}' ({k.ClassName}): {string.Join(", ", dropped)} not imported (they act only in training)");
        return new LayerPlan(k, spec, weights, axis);
    }

    /// <summary>Keras 3 settings that change what a layer computes: a LoRA adapter, int8/float8 quantization
    /// (quantization_config or a quantized dtype policy), and HGQ2's layers, which share QKeras's class names.</summary>
    private void Keras3Settings(KerasLayer k, string where)
    {
        var c = k.Config;
        if (hgq is null && k.Module is { } module && (module == "hgq" || module.StartsWith("hgq.", StringComparison.Ordinal)))
            throw new HetQException($"{where}: HGQ2 layer (module {module}) is not supported (HetQ maps HGQ2's QDense, QConv1D, QConv2D and Quantizer)");
        if (c.Has("lora_rank")) throw new HetQException($"{where}: lora_rank {c.Raw("lora_rank")!.Value.GetRawText()} is not supported (merge the LoRA weights first)");
        if (c.Has("quantization_config")) throw new HetQException($"{where}: Keras quantization (quantization_config) is not supported; import the float model and use hetq ptq, or QKeras layers");
        string? policy = c.Raw("dtype") is { } d
            ? d.ValueKind == System.Text.Json.JsonValueKind.String ? d.GetString()
            : d.ValueKind == System.Text.Json.JsonValueKind.Object && d.TryGetProperty("config", out var dc) && dc.ValueKind == System.Text.Json.JsonValueKind.Object
              && dc.TryGetProperty("name", out var dn) && dn.ValueKind == System.Text.Json.JsonValueKind.String ? dn.GetString() : null
            : null;
        if (policy is not null && (policy.StartsWith("int", StringComparison.Ordinal) || policy.StartsWith("float8", StringComparison.Ordinal)))
            throw new HetQException($"{where}: dtype policy '{policy}' (Keras's own quantization) is not supported; import the float model and use hetq ptq");
        if (policy is "mixed_float16" or "mixed_bfloat16" or "float16" or "bfloat16")
            warnings.Add($"layer '{k.Name}' ({k.ClassName}): dtype policy '{policy}' is imported as float32 arithmetic");
    }

    private static string[] Biased(JsonSpec c, JsonObject spec, string kernel)
    {
        bool bias = c.Bool("use_bias", true);
        spec["use_bias"] = bias;
        return bias ? [kernel, "bias"] : [kernel];
    }

    private static void Activation(JsonSpec c, JsonObject spec, bool quantized, string where)
    {
        if (!quantized)
        {
            spec["activation"] = KerasValues.Activation(c, "activation", where);
            return;
        }
        var (activation, quantizer) = KerasValues.ActivationOrQuantizer(c, "activation", where);
        spec["activation"] = activation;
        if (quantizer is not null) spec["activation_quantizer"] = quantizer;
    }

    private static void Regularizer(JsonSpec c, JsonObject spec, string key, string where)
    {
        if (KerasValues.Regularizer(c, key, where) is { } r) spec["kernel_regularizer"] = r;
    }

    private void Quantizers(JsonSpec c, JsonObject spec, string kernelKey, string where)
    {
        if (KerasValues.Quantizer(c, kernelKey, where) is { } kq) spec["kernel_quantizer"] = kq;
        if (KerasValues.Quantizer(c, "bias_quantizer", where) is { } bq) spec["bias_quantizer"] = bq;
        // An HGQ proxy's kernels and biases hold quantized values: each weight keeps the fractional bits it needs.
        if (hgq is not null)
        {
            if (!spec.ContainsKey("kernel_quantizer")) spec["kernel_quantizer"] = HgqMapping.WeightSpec;
            if (!spec.ContainsKey("bias_quantizer")) spec["bias_quantizer"] = HgqMapping.WeightSpec;
        }
    }

    /// <summary>kernel_size or pool_size, strides, padding, dilation 1, channels last.</summary>
    private static void Window(JsonSpec c, JsonObject spec, string sizeKey, int rank, string where)
    {
        ChannelsLast(c, where);
        int[] size = c.Ints(sizeKey, rank) ?? (sizeKey == "pool_size" ? Enumerable.Repeat(2, rank).ToArray() : throw c.Error(sizeKey, "is required"));
        spec[sizeKey] = Ints(size);
        if (c.Ints("strides", rank) is { } strides) spec["strides"] = Ints(strides);
        string padding = c.String("padding", "valid");
        if (padding is not ("valid" or "same")) throw new HetQException($"{where}: padding '{padding}' is not supported (valid, same)");
        spec["padding"] = padding;
        if (c.Ints("dilation_rate", rank) is { } d && d.Any(v => v != 1))
            throw new HetQException($"{where}: dilation_rate [{string.Join(",", d)}] is not supported (1 only)");
    }

    private static void ChannelsLast(JsonSpec c, string where)
    {
        string format = c.String("data_format", "channels_last");
        if (format != "channels_last") throw new HetQException($"{where}: data_format '{format}' is not supported (channels_last only)");
    }

    private static void Relu(JsonSpec c, JsonObject spec, string where)
    {
        double? max = c.Double("max_value");
        double slope = c.Double("negative_slope", 0), threshold = c.Double("threshold", 0);
        if (threshold != 0) throw new HetQException($"{where}: threshold {threshold} is not supported (0 only)");
        if (max is not null && slope != 0) throw new HetQException($"{where}: max_value together with negative_slope is not supported");
        if (max is double top)
        {
            spec["type"] = "hard_tanh";
            spec["min"] = 0.0;
            spec["max"] = top;
        }
        else if (slope != 0)
        {
            spec["type"] = "leaky_relu";
            spec["alpha"] = slope;
        }
        else
        {
            spec["type"] = "relu";
        }
    }

    private int? BatchNorm(KerasLayer k, JsonObject spec, string where)
    {
        var c = k.Config;
        if (c.Bool("renorm", false)) throw new HetQException($"{where}: renorm=True is not supported");
        spec["type"] = "batch_norm";
        spec["momentum"] = c.Double("momentum", 0.99);
        spec["epsilon"] = c.Double("epsilon", 1e-3);
        var raw = c.Raw("axis");
        int[] axes = raw is null ? [-1] : raw.Value.ValueKind == System.Text.Json.JsonValueKind.Number ? [c.Int("axis", -1)] : c.Ints("axis")!;
        if (axes.Length != 1) throw new HetQException($"{where}: normalization over axes [{string.Join(",", axes)}] is not supported (the channel axis only)");
        if (k.ClassName == "QBatchNormalization")
        {
            var quantizers = new[] { "gamma_quantizer", "beta_quantizer", "mean_quantizer", "variance_quantizer" }.Where(c.Has).ToList();
            warnings.Add($"layer '{k.Name}' (QBatchNormalization): imported as a float batch_norm; its quantizers are not applied"
                + (quantizers.Count > 0 ? $" ({string.Join(", ", quantizers)})" : ""));
        }
        return axes[0] == -1 ? null : axes[0];
    }

    private static JsonArray Ints(int[] values) => new(values.Select(v => (JsonNode)v).ToArray());
}
