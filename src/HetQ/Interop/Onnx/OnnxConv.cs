using System.Text.Json.Nodes;
using Onnx;

namespace HetQ.Interop.Onnx;

/// <summary>Conv, MaxPool and AveragePool: channels-first windows to HetQ's channels-last layers. Padding must be
/// none ('valid') or what Keras's 'same' pads (torch's padding=k//2 at stride 1 with an odd kernel, for example).</summary>
internal static class OnnxConv
{
    public static void Conv(OnnxGraphBuilder b, NodeProto n, int index)
    {
        var x = b.Activation(n.Input[0]);
        var w = b.Constant(n.Input[1], "weight");
        int rank = x.OnnxShape.Length - 1;
        if (rank is not (1 or 2)) throw b.Error($"input of sample shape [{string.Join(",", x.OnnxShape)}]: Conv1d and Conv2d are supported");
        if (w.Dims.Length != rank + 2) throw b.Error($"weight of rank {w.Dims.Length} for a {rank}-D convolution");
        int c = x.OnnxShape[0], f = (int)w.Dims[0], cg = (int)w.Dims[1];
        int kh = rank == 2 ? (int)w.Dims[2] : 1, kw = (int)w.Dims[^1];
        int group = (int)OnnxValues.Int(n, "group", 1);
        if (OnnxValues.Ints(n, "dilations") is { } d && d.Any(v => v != 1)) throw b.Error("dilations other than 1 are not supported");
        var (strides, padding, outH, outW) = Window(b, n, x, rank, kh, kw);
        var spec = new JsonObject();
        float[] kernel;
        if (group == 1)
        {
            if (cg != c) throw b.Error($"weight has {cg} input channels, the input {c}");
            spec["type"] = rank == 1 ? "conv1d" : "conv2d";
            spec["filters"] = f;
            kernel = new float[kh * kw * c * f];
            // ONNX [F, C, KH, KW] -> HetQ [KH, KW, C, F].
            for (int o = 0; o < f; o++)
                for (int ch = 0; ch < c; ch++)
                    for (int ky = 0; ky < kh; ky++)
                        for (int kx = 0; kx < kw; kx++)
                            kernel[((ky * kw + kx) * c + ch) * f + o] = (float)w.Const![((o * c + ch) * kh + ky) * kw + kx];
        }
        else if (group == c && cg == 1 && f % c == 0 && rank == 2)
        {
            spec["type"] = "depthwise_conv2d";
            spec["depth_multiplier"] = f / c;
            kernel = new float[kh * kw * f];
            // ONNX [C·M, 1, KH, KW] -> HetQ [KH, KW, C, M]; output channel o = c·M + m in both.
            for (int o = 0; o < f; o++)
                for (int ky = 0; ky < kh; ky++)
                    for (int kx = 0; kx < kw; kx++)
                        kernel[(ky * kw + kx) * f + o] = (float)w.Const![(o * kh + ky) * kw + kx];
        }
        else
        {
            throw b.Error($"group {group} is not supported (1, or one group per input channel: a depthwise convolution)");
        }
        spec["kernel_size"] = Ints(rank == 1 ? [kw] : [kh, kw]);
        spec["strides"] = Ints(strides);
        spec["padding"] = padding;
        if (w.Quantizer is not null) spec["kernel_quantizer"] = w.Quantizer;
        var weights = new Dictionary<string, float[]> { ["kernel"] = kernel };
        bool bias = n.Input.Count > 2 && n.Input[2].Length > 0;
        spec["use_bias"] = bias;
        if (bias)
        {
            var bv = b.Constant(n.Input[2], "bias");
            if (bv.Const!.Length != f) throw b.Error($"bias has {bv.Const.Length} values for {f} filters");
            weights["bias"] = bv.Const.Select(v => (float)v).ToArray();
            if (bv.Quantizer is not null) spec["bias_quantizer"] = bv.Quantizer;
        }
        b.AddLayer(n, index, spec, [x], rank == 1 ? [f, outW] : [f, outH, outW], weights);
    }

    public static void Pool(OnnxGraphBuilder b, NodeProto n, int index)
    {
        var x = b.Activation(n.Input[0]);
        int rank = x.OnnxShape.Length - 1;
        if (rank is not (1 or 2)) throw b.Error($"input of sample shape [{string.Join(",", x.OnnxShape)}]: 1-D and 2-D pooling are supported");
        var k = OnnxValues.Ints(n, "kernel_shape") ?? throw b.Error("kernel_shape is required");
        if (k.Length != rank) throw b.Error($"kernel_shape has {k.Length} values for a {rank}-D input");
        if (OnnxValues.Int(n, "ceil_mode", 0) != 0) throw b.Error("ceil_mode=1 is not supported");
        if (OnnxValues.Ints(n, "dilations") is { } d && d.Any(v => v != 1)) throw b.Error("dilations other than 1 are not supported");
        if (n.OpType == "MaxPool" && n.Output.Count > 1 && n.Output[1].Length > 0) throw b.Error("the indices output is not supported");
        int kh = rank == 2 ? (int)k[0] : 1, kw = (int)k[^1];
        var (strides, padding, outH, outW) = Window(b, n, x, rank, kh, kw);
        if (n.OpType == "AveragePool" && padding == "same" && OnnxValues.Int(n, "count_include_pad", 0) != 0)
            throw b.Error("count_include_pad=1 is not supported (HetQ averages over the taps inside the input)");
        bool max = n.OpType == "MaxPool";
        var spec = new JsonObject
        {
            ["type"] = (max ? "max_pool" : "avg_pool") + rank + "d",
            ["pool_size"] = Ints(rank == 1 ? [kw] : [kh, kw]),
            ["strides"] = Ints(strides),
            ["padding"] = padding,
        };
        int c = x.OnnxShape[0];
        b.AddLayer(n, index, spec, [x], rank == 1 ? [c, outW] : [c, outH, outW], new Dictionary<string, float[]>());
    }

    /// <summary>Strides, HetQ padding ('valid' or 'same') and output size of a window node.</summary>
    private static (int[] Strides, string Padding, int OutH, int OutW) Window(OnnxGraphBuilder b, NodeProto n, OnnxValue x, int rank, int kh, int kw)
    {
        var s = OnnxValues.Ints(n, "strides") ?? Enumerable.Repeat(1L, rank).ToArray();
        int sh = rank == 2 ? (int)s[0] : 1, sw = (int)s[^1];
        int inH = rank == 2 ? x.OnnxShape[1] : 1, inW = x.OnnxShape[^1];
        string auto = OnnxValues.String(n, "auto_pad", "NOTSET");
        var pads = OnnxValues.Ints(n, "pads") ?? new long[2 * rank];
        int[] strides = rank == 1 ? [sw] : [sh, sw];
        if (auto == "VALID" || (auto == "NOTSET" && pads.All(p => p == 0)))
            return (strides, "valid", (inH - kh) / sh + 1, (inW - kw) / sw + 1);
        // Keras 'same': out = ceil(in / s), the padding split with the extra row at the bottom / right.
        int outH = (inH + sh - 1) / sh, outW = (inW + sw - 1) / sw;
        int totalH = Math.Max((outH - 1) * sh + kh - inH, 0), totalW = Math.Max((outW - 1) * sw + kw - inW, 0);
        long[] same = rank == 2 ? [totalH / 2, totalW / 2, totalH - totalH / 2, totalW - totalW / 2] : [totalW / 2, totalW - totalW / 2];
        if (auto == "SAME_UPPER" || (auto == "NOTSET" && pads.SequenceEqual(same)))
            return (strides, "same", outH, outW);
        throw b.Error($"padding [{string.Join(",", pads)}] (auto_pad {auto}) is neither none nor Keras's 'same' padding [{string.Join(",", same)}] for this input; HetQ supports those two");
    }

    private static JsonArray Ints(int[] v) => new(v.Select(i => (JsonNode)i).ToArray());
}
