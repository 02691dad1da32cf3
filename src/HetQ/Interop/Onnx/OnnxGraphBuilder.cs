using System.Globalization;
using System.Text.Json.Nodes;
using Onnx;

namespace HetQ.Interop.Onnx;

/// <summary>An ONNX tensor as the builder tracks it: a constant (initializer, Constant node; optionally with the
/// QONNX quantizer applied to it), or the output of a HetQ layer ("input" for the model input) with its ONNX sample
/// shape (channels first) and, for a flattened channels-first tensor, the ONNX index of each HetQ element.</summary>
internal sealed class OnnxValue
{
    public string? Layer { get; init; }
    public int[] OnnxShape { get; init; } = [];
    public int[]? Perm { get; init; }
    public double[]? Const { get; init; }
    public long[] Dims { get; init; } = [];
    public string? Quantizer { get; init; }

    public bool IsConst => Const is not null;
}

/// <summary>Walks an ONNX graph in its (topological) node order and writes HetQ layer specs and weights.</summary>
internal sealed class OnnxGraphBuilder
{
    public static readonly string[] Supported =
    [
        "Gemm", "MatMul", "Add", "Conv", "BatchNormalization", "Relu", "LeakyRelu", "Clip", "Sigmoid", "Tanh", "Softmax",
        "MaxPool", "AveragePool", "GlobalAveragePool", "Flatten", "Reshape", "Identity", "Dropout", "Constant", "Pad (zero)",
        "Quant", "BipolarQuant", "Trunc",
    ];

    private readonly string _file;
    private readonly GraphProto _graph;
    private readonly Dictionary<string, OnnxValue> _values = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _consumers = new(StringComparer.Ordinal);
    private readonly List<JsonObject> _specs = [];
    private readonly Dictionary<string, float[]> _weights = new(StringComparer.Ordinal);
    private readonly HashSet<string> _names = new(StringComparer.Ordinal) { "input" };
    private string? _inputQuantizer;
    private string _where = "";

    public List<string> Warnings { get; } = [];

    public OnnxGraphBuilder(string file, GraphProto graph)
    {
        _file = file;
        _graph = graph;
    }

    public (int[] InputShape, IReadOnlyList<JsonObject> Specs, IReadOnlyDictionary<string, float[]> Weights, string? InputQuantizer) Build()
    {
        foreach (var t in _graph.Initializer)
        {
            var (v, d) = OnnxValues.Read(t, $"{_file}: initializer");
            _values[t.Name] = new OnnxValue { Const = v, Dims = d };
        }
        foreach (var n in _graph.Node)
            foreach (var i in n.Input)
                if (i.Length > 0) _consumers[i] = _consumers.GetValueOrDefault(i) + 1;
        foreach (var o in _graph.Output) _consumers[o.Name] = _consumers.GetValueOrDefault(o.Name) + 1;
        var inputs = _graph.Input.Where(i => !_values.ContainsKey(i.Name)).ToList();
        if (inputs.Count != 1) throw new HetQException($"{_file}: the graph has {inputs.Count} inputs ({string.Join(", ", inputs.Select(i => i.Name))}); one is supported");
        var dims = inputs[0].Type?.TensorType?.Shape?.Dim ?? throw new HetQException($"{_file}: input '{inputs[0].Name}' has no tensor shape");
        if (dims.Count < 2) throw new HetQException($"{_file}: input '{inputs[0].Name}' has rank {dims.Count}; expected [batch, ...]");
        var sample = dims.Skip(1).Select((d, k) => d.HasDimValue && d.DimValue > 0 ? (int)d.DimValue
            : throw new HetQException($"{_file}: input '{inputs[0].Name}' dimension {k + 1} is not fixed ('{d.DimParam}'); export with a fixed sample shape")).ToArray();
        _values[inputs[0].Name] = new OnnxValue { Layer = "input", OnnxShape = sample };
        for (int k = 0; k < _graph.Node.Count; k++)
        {
            var n = _graph.Node[k];
            _where = $"{_file}: node {OnnxValues.Describe(n, k)}";
            Node(n, k);
        }
        if (_graph.Output.Count != 1) throw new HetQException($"{_file}: the graph has {_graph.Output.Count} outputs; one is supported");
        var output = Get(_graph.Output[0].Name);
        if (output.IsConst || output.Layer == "input" || _specs.Count == 0) throw new HetQException($"{_file}: the graph output is not computed by any layer");
        if (output.Layer != _specs[^1]["name"]!.GetValue<string>())
            throw new HetQException($"{_file}: the graph output is '{output.Layer}', not the last layer; HetQ models end in their output");
        if (output.Perm is not null && !IsIdentity(output.Perm))
            Warnings.Add("the output is a flattened channels-first tensor: HetQ gives its elements in channels-last order");
        return (HetQShape(sample), _specs, _weights, _inputQuantizer);
    }

    private void Node(NodeProto n, int index)
    {
        if (n.Domain is { Length: > 0 } d && d != "ai.onnx" && n.OpType is not ("Quant" or "BipolarQuant" or "Trunc"))
            throw Error($"operator domain '{d}' is not supported");
        switch (n.OpType)
        {
            case "Identity" or "Dropout":
                _values[n.Output[0]] = Get(n.Input[0]);
                break;
            case "Pad":
                // torch writes a zero Pad before some AveragePool nodes; any other padding is an error.
                if (n.Input.Count < 2 || !Constant(n.Input[1], "pads").Const!.All(v => v == 0)) throw Error("only a zero Pad is supported (padding belongs to the Conv or pooling node)");
                _values[n.Output[0]] = Activation(n.Input[0]);
                break;
            case "Constant":
                var t = OnnxValues.Attribute(n, "value")?.T ?? throw Error("only a 'value' tensor constant is supported");
                var (cv, cd) = OnnxValues.Read(t, _where);
                _values[n.Output[0]] = new OnnxValue { Const = cv, Dims = cd };
                break;
            case "Gemm":
                Gemm(n, index);
                break;
            case "MatMul":
                MatMul(n, index);
                break;
            case "Add":
                AddNode(n, index);
                break;
            case "Conv":
                OnnxConv.Conv(this, n, index);
                break;
            case "BatchNormalization":
                BatchNorm(n, index);
                break;
            case "Relu":
                Unary(n, index, new JsonObject { ["type"] = "relu" });
                break;
            case "LeakyRelu":
                Unary(n, index, new JsonObject { ["type"] = "leaky_relu", ["alpha"] = (double)OnnxValues.Float(n, "alpha", 0.01f) });
                break;
            case "Sigmoid":
                Unary(n, index, new JsonObject { ["type"] = "sigmoid" });
                break;
            case "Tanh":
                Unary(n, index, new JsonObject { ["type"] = "tanh" });
                break;
            case "Clip":
                Clip(n, index);
                break;
            case "Softmax":
                var x = Activation(n.Input[0]);
                long axis = OnnxValues.Int(n, "axis", -1);
                if (!(axis == -1 || axis == x.OnnxShape.Length)) throw Error($"softmax over axis {axis} is not supported (the last axis only)");
                if (x.OnnxShape.Length != 1) throw Error("softmax over a tensor of rank > 2 is not supported");
                Unary(n, index, new JsonObject { ["type"] = "softmax" });
                break;
            case "MaxPool" or "AveragePool":
                OnnxConv.Pool(this, n, index);
                break;
            case "GlobalAveragePool":
                var g = Activation(n.Input[0]);
                if (g.OnnxShape.Length is not (2 or 3)) throw Error($"input of rank {g.OnnxShape.Length + 1} is not supported ([N,C,L] or [N,C,H,W])");
                int[] shape = [g.OnnxShape[0], .. Enumerable.Repeat(1, g.OnnxShape.Length - 1)];
                AddLayer(n, index, new JsonObject { ["type"] = "global_avg_pool" }, [g], shape, new Dictionary<string, float[]>(), perm: Enumerable.Range(0, g.OnnxShape[0]).ToArray());
                break;
            case "Flatten":
                if (OnnxValues.Int(n, "axis", 1) != 1) throw Error($"axis {OnnxValues.Int(n, "axis", 1)} is not supported (1: keep the batch axis)");
                Flatten(n, index);
                break;
            case "Reshape":
                var target = Get(n.Input[1]);
                if (!target.IsConst || target.Const!.Length != 2 || !(target.Const[1] == -1 || target.Const[1] == Numerics.Tensor.Size(Activation(n.Input[0]).OnnxShape)))
                    throw Error("only a reshape to [N, -1] (a flatten) is supported");
                Flatten(n, index);
                break;
            case "Quant":
                Quant(n);
                break;
            case "BipolarQuant":
                Bipolar(n);
                break;
            case "Trunc":
                Trunc(n, index);
                break;
            default:
                throw new HetQException($"{_where}: {n.OpType} is not supported (supported: {string.Join(", ", Supported)})");
        }
    }

    internal HetQException Error(string message) => new($"{_where}: {message}");

    internal OnnxValue Get(string name) =>
        _values.TryGetValue(name, out var v) ? v : throw Error($"input '{name}' is not produced by an earlier node, an initializer or the graph input");

    internal OnnxValue Activation(string name)
    {
        var v = Get(name);
        if (v.IsConst) throw Error($"input '{name}' is a constant where a computed tensor is expected");
        return v;
    }

    internal OnnxValue Constant(string name, string what)
    {
        var v = Get(name);
        if (!v.IsConst) throw Error($"{what} '{name}' must be a constant (an initializer)");
        return v;
    }

    /// <summary>Channels-first ONNX sample shape [C, H, W] / [C, L] / [F] to HetQ's [H, W, C] / [L, C] / [F].</summary>
    internal static int[] HetQShape(int[] onnx) => onnx.Length <= 1 ? onnx : [.. onnx[1..], onnx[0]];

    private static bool IsIdentity(int[] perm) => perm.Select((p, i) => p == i).All(b => b);

    /// <summary>Adds a HetQ layer reading <paramref name="inputs"/>, records its weights (role -> values) and maps the
    /// node's first output to it.</summary>
    internal void AddLayer(NodeProto n, int index, JsonObject spec, OnnxValue[] inputs, int[] onnxShape,
        IReadOnlyDictionary<string, float[]> weights, int[]? perm = null)
    {
        string name = LayerName(n, index);
        spec["name"] = name;
        spec["inputs"] = new JsonArray(inputs.Select(i => (JsonNode)i.Layer!).ToArray());
        _specs.Add(spec);
        foreach (var (role, v) in weights) _weights[$"{name}/{role}"] = v;
        _values[n.Output[0]] = new OnnxValue { Layer = name, OnnxShape = onnxShape, Perm = perm };
    }

    private string LayerName(NodeProto n, int index)
    {
        string raw = string.IsNullOrEmpty(n.Name) ? $"{n.OpType}_{index}" : n.Name;
        var chars = raw.Select(c => char.IsAsciiLetterOrDigit(c) || c == '_' ? c : '_').ToArray();
        string name = new string(chars).Trim('_');
        if (name.Length == 0 || char.IsAsciiDigit(name[0])) name = $"{n.OpType.ToLowerInvariant()}_{name}";
        string unique = name;
        for (int k = 2; !_names.Add(unique); k++) unique = $"{name}_{k}";
        return unique;
    }

    private JsonObject? SpecOf(string layer) => _specs.LastOrDefault(s => s["name"]!.GetValue<string>() == layer);

    private void Unary(NodeProto n, int index, JsonObject spec)
    {
        var x = Activation(n.Input[0]);
        AddLayer(n, index, spec, [x], x.OnnxShape, new Dictionary<string, float[]>(), x.Perm);
    }

    private void Clip(NodeProto n, int index)
    {
        double? Bound(int input, string attr)
        {
            if (n.Input.Count > input && n.Input[input].Length > 0) return Constant(n.Input[input], "clip bound").Const![0];
            return OnnxValues.Attribute(n, attr) is { } a ? a.F : null;
        }
        double? lo = Bound(1, "min"), hi = Bound(2, "max");
        if (lo == 0 && hi is null) Unary(n, index, new JsonObject { ["type"] = "relu" });
        else if (lo is double l && hi is double h) Unary(n, index, new JsonObject { ["type"] = "hard_tanh", ["min"] = l, ["max"] = h });
        else throw Error("clip needs both bounds, or min 0 alone (ReLU)");
    }

    private void Flatten(NodeProto n, int index)
    {
        var x = Activation(n.Input[0]);
        int size = Numerics.Tensor.Size(x.OnnxShape);
        if (x.OnnxShape.Count(d => d != 1) <= 1 && (x.Perm is not null || x.OnnxShape.Length <= 1))
        {
            // Already one axis in HetQ (a dense output, a global pooling): nothing to do.
            _values[n.Output[0]] = new OnnxValue { Layer = x.Layer, OnnxShape = [size], Perm = x.Perm ?? Enumerable.Range(0, size).ToArray() };
            return;
        }
        // HetQ's flatten of [H, W, C] lists (h, w, c); ONNX's of [C, H, W] lists (c, h, w).
        int c = x.OnnxShape[0], spatial = size / c;
        var perm = new int[size];
        for (int s = 0; s < spatial; s++)
            for (int ch = 0; ch < c; ch++) perm[s * c + ch] = ch * spatial + s;
        if (x.OnnxShape.Length == 1) perm = Enumerable.Range(0, size).ToArray();
        AddLayer(n, index, new JsonObject { ["type"] = "flatten" }, [x], [size], new Dictionary<string, float[]>(), perm);
    }

    private void Gemm(NodeProto n, int index)
    {
        if (OnnxValues.Int(n, "transA", 0) != 0) throw Error("transA=1 is not supported");
        var x = Activation(n.Input[0]);
        var b = Constant(n.Input[1], "weight B");
        float alpha = OnnxValues.Float(n, "alpha", 1), beta = OnnxValues.Float(n, "beta", 1);
        bool transB = OnnxValues.Int(n, "transB", 0) != 0;
        if (b.Dims.Length != 2) throw Error($"weight B has rank {b.Dims.Length}; 2 expected");
        int outF = (int)(transB ? b.Dims[0] : b.Dims[1]), inF = (int)(transB ? b.Dims[1] : b.Dims[0]);
        if (alpha != 1 && b.Quantizer is not null) throw Error("alpha != 1 with a quantized weight is not supported");
        double[]? bias = null;
        string? biasQ = null;
        if (n.Input.Count > 2 && n.Input[2].Length > 0)
        {
            var c = Constant(n.Input[2], "bias C");
            if (beta != 1 && c.Quantizer is not null) throw Error("beta != 1 with a quantized bias is not supported");
            bias = c.Const!.Length == 1 ? Enumerable.Repeat(c.Const[0], outF).ToArray() : c.Const!.Length == outF ? c.Const : throw Error($"bias C has {c.Const.Length} values for {outF} outputs");
            bias = bias.Select(v => v * beta).ToArray();
            biasQ = c.Quantizer;
        }
        Dense(n, index, x, inF, outF, (i, j) => alpha * b.Const![transB ? j * inF + i : i * outF + j], b.Quantizer, bias, biasQ);
    }

    private void MatMul(NodeProto n, int index)
    {
        var x = Activation(n.Input[0]);
        var b = Constant(n.Input[1], "weight");
        if (b.Dims.Length != 2) throw Error($"weight has rank {b.Dims.Length}; 2 expected");
        int inF = (int)b.Dims[0], outF = (int)b.Dims[1];
        Dense(n, index, x, inF, outF, (i, j) => b.Const![i * outF + j], b.Quantizer, null, null);
    }

    private void Dense(NodeProto n, int index, OnnxValue x, int inF, int outF, Func<int, int, double> w, string? kq, double[]? bias, string? bq)
    {
        if (x.OnnxShape.Length != 1) throw Error($"input has sample shape [{string.Join(",", x.OnnxShape)}]; flatten first");
        if (x.OnnxShape[0] != inF) throw Error($"input has {x.OnnxShape[0]} features, the weight {inF}");
        var kernel = new float[inF * outF];
        for (int i = 0; i < inF; i++)
        {
            int src = x.Perm?[i] ?? i;
            for (int j = 0; j < outF; j++) kernel[i * outF + j] = (float)w(src, j);
        }
        var spec = new JsonObject { ["type"] = "dense", ["units"] = outF, ["use_bias"] = bias is not null };
        if (kq is not null) spec["kernel_quantizer"] = kq;
        if (bq is not null) spec["bias_quantizer"] = bq;
        var weights = new Dictionary<string, float[]> { ["kernel"] = kernel };
        if (bias is not null) weights["bias"] = bias.Select(v => (float)v).ToArray();
        AddLayer(n, index, spec, [x], [outF], weights);
    }

    /// <summary>Add of two computed tensors is a HetQ add; a constant added to a MatMul or bias-free Conv is its bias.</summary>
    private void AddNode(NodeProto n, int index)
    {
        var a = Get(n.Input[0]);
        var b = Get(n.Input[1]);
        if (a.IsConst) (a, b) = (b, a);
        if (a.IsConst) throw Error("both inputs are constants");
        if (!b.IsConst)
        {
            if (!a.OnnxShape.SequenceEqual(b.OnnxShape)) throw Error($"inputs of shapes [{string.Join(",", a.OnnxShape)}] and [{string.Join(",", b.OnnxShape)}]: broadcasting is not supported");
            if (!(a.Perm ?? []).SequenceEqual(b.Perm ?? [])) throw Error("inputs are flattened differently");
            AddLayer(n, index, new JsonObject { ["type"] = "add" }, [a, b], a.OnnxShape, new Dictionary<string, float[]>(), a.Perm);
            return;
        }
        var spec = a.Layer is { } l ? SpecOf(l) : null;
        int channels = a.OnnxShape.Length == 0 ? 0 : a.OnnxShape[0];
        bool foldable = spec is not null && spec["type"]!.GetValue<string>() is "dense" or "conv1d" or "conv2d"
            && spec["use_bias"]?.GetValue<bool>() == false && !spec.ContainsKey("activation_quantizer")
            && _consumers.GetValueOrDefault(n.Input[a == Get(n.Input[0]) ? 0 : 1]) == 1;
        if (!foldable) throw Error("adding a constant is supported only as the bias of the MatMul or Conv before it");
        int perChannel = b.Const!.Length;
        if (!(perChannel == 1 || perChannel == channels) || b.Dims.Count(d => d != 1) > 1)
            throw Error($"a bias of shape [{string.Join(",", b.Dims)}] for {channels} channels is not supported");
        spec!["use_bias"] = true;
        if (b.Quantizer is not null) spec["bias_quantizer"] = b.Quantizer;
        _weights[$"{a.Layer}/bias"] = Enumerable.Range(0, channels).Select(c => (float)b.Const[perChannel == 1 ? 0 : c]).ToArray();
        _values[n.Output[0]] = a;
    }

    private void BatchNorm(NodeProto n, int index)
    {
        var x = Activation(n.Input[0]);
        if (OnnxValues.Int(n, "training_mode", 0) != 0) throw Error("training_mode=1 is not supported (export in eval mode)");
        int c = x.OnnxShape[0];
        float[] Param(int k, string what)
        {
            var v = Constant(n.Input[k], what);
            if (v.Const!.Length != c) throw Error($"{what} has {v.Const.Length} values for {c} channels");
            if (v.Quantizer is not null) throw Error($"a quantized {what} is not supported");
            return v.Const.Select(d => (float)d).ToArray();
        }
        var weights = new Dictionary<string, float[]>
        {
            ["gamma"] = Param(1, "scale"), ["beta"] = Param(2, "bias"), ["moving_mean"] = Param(3, "mean"), ["moving_variance"] = Param(4, "variance"),
        };
        var spec = new JsonObject { ["type"] = "batch_norm", ["epsilon"] = (double)OnnxValues.Float(n, "epsilon", 1e-5f) };
        AddLayer(n, index, spec, [x], x.OnnxShape, weights, x.Perm);
    }

    // ---- QONNX ----

    /// <summary>A QONNX scale as the fractional bits F of 2^-F (only power-of-two scalar scales are fixed point).</summary>
    private int Po2Scale(string name)
    {
        var s = Constant(name, "scale");
        if (s.Const!.Length != 1) throw Error($"scale '{name}' has {s.Const.Length} values; only one scale per tensor is supported (per-channel scales are not)");
        double v = s.Const[0];
        int e = v > 0 ? (int)Math.Round(Math.Log2(v)) : 0;
        if (!(v > 0) || Math.ScaleB(1.0, e) != v)
            throw Error($"scale {v.ToString("R", CultureInfo.InvariantCulture)} is not a power of two, so the values are not fixed point (use Brevitas's power-of-two / *FixedPoint quantizers)");
        return -e;
    }

    private void ZeroPoint(string name)
    {
        var z = Constant(name, "zero point");
        if (z.Const!.Any(v => v != 0)) throw Error("a non-zero zero point is not supported");
    }

    private int Bits(string name, string what)
    {
        var b = Constant(name, what);
        if (b.Const!.Length != 1 || b.Const[0] != Math.Round(b.Const[0]) || b.Const[0] < 1 || b.Const[0] > Quantization.FixedType.MaxWidth)
            throw Error($"{what} must be one integer between 1 and {Quantization.FixedType.MaxWidth}");
        return (int)b.Const[0];
    }

    private string Rounding(NodeProto n, string fallback)
    {
        string mode = OnnxValues.String(n, "rounding_mode", fallback).ToUpperInvariant();
        return mode switch
        {
            "ROUND" or "HALF_EVEN" => "RND_CONV",
            "FLOOR" => "TRN",
            "DOWN" => "TRN_ZERO",
            "HALF_UP" => "RND_INF",
            "HALF_DOWN" => "RND_ZERO",
            _ => throw Error($"rounding_mode '{mode}' has no fixed-point counterpart (ROUND, FLOOR, DOWN, HALF_UP, HALF_DOWN are supported)"),
        };
    }

    private void Quant(NodeProto n)
    {
        if (n.Input.Count != 4) throw Error("Quant takes x, scale, zeropt, bitwidth");
        int f = Po2Scale(n.Input[1]);
        ZeroPoint(n.Input[2]);
        int bits = Bits(n.Input[3], "bitwidth");
        bool signed = OnnxValues.Int(n, "signed", 1) != 0, narrow = OnnxValues.Int(n, "narrow", 0) != 0;
        if (narrow && !signed) throw Error("narrow=1 with signed=0 (codes up to 2^b - 2) has no fixed-point counterpart");
        // y = clamp(round(x / scale), min, max) · scale: ap_fixed<b, b - F> with SAT (SAT_SYM when narrow).
        string spec = string.Create(CultureInfo.InvariantCulture,
            $"{(signed ? "ap_fixed" : "ap_ufixed")}<{bits},{bits - f},{Rounding(n, "ROUND")},{(narrow ? "SAT_SYM" : "SAT")}>");
        Apply(n, spec);
    }

    private void Bipolar(NodeProto n)
    {
        if (n.Input.Count != 2) throw Error("BipolarQuant takes x, scale");
        int f = Po2Scale(n.Input[1]);
        // y = (x >= 0 ? +1 : -1) · scale: QKeras's binary with sign(0) = +1.
        Apply(n, string.Create(CultureInfo.InvariantCulture, $"binary(alpha={Math.ScaleB(1.0, -f):R})"));
    }

    /// <summary>Trunc: y = rnd(round(x / scale) / 2^(in - out)) · scale · 2^(in - out): two roundings, so two
    /// quantizers (to the input grid, round half to even, then to the coarser grid with the node's rounding); the
    /// output type is signed with out + 1 bits (it holds a signed or unsigned out-bit value).</summary>
    private void Trunc(NodeProto n, int index)
    {
        if (n.Input.Count != 5) throw Error("Trunc takes x, scale, zeropt, in_bitwidth, out_bitwidth");
        int f = Po2Scale(n.Input[1]);
        ZeroPoint(n.Input[2]);
        int inBits = Bits(n.Input[3], "in_bitwidth"), outBits = Bits(n.Input[4], "out_bitwidth");
        if (outBits > inBits) throw Error($"out_bitwidth {outBits} exceeds in_bitwidth {inBits}");
        string rounding = Rounding(n, "FLOOR");
        if (rounding is not ("TRN" or "RND_CONV")) throw Error($"Trunc's rounding_mode must be FLOOR or ROUND");
        var x = Activation(n.Input[0]);
        int w1 = Math.Min(inBits + 1, Quantization.FixedType.MaxWidth), w2 = outBits + 1, f2 = f - (inBits - outBits);
        string first = string.Create(CultureInfo.InvariantCulture, $"ap_fixed<{w1},{w1 - f},RND_CONV,SAT>");
        string second = string.Create(CultureInfo.InvariantCulture, $"ap_fixed<{w2},{w2 - f2},{rounding},SAT>");
        AddLayer(n, index, new JsonObject { ["type"] = "linear", ["activation_quantizer"] = first }, [x], x.OnnxShape, new Dictionary<string, float[]>(), x.Perm);
        var mid = _values[n.Output[0]];
        var spec = new JsonObject { ["type"] = "linear", ["activation_quantizer"] = second, ["name"] = mid.Layer + "_out", ["inputs"] = new JsonArray(mid.Layer!) };
        _names.Add(mid.Layer + "_out");
        _specs.Add(spec);
        _values[n.Output[0]] = new OnnxValue { Layer = mid.Layer + "_out", OnnxShape = mid.OnnxShape, Perm = mid.Perm };
    }

    /// <summary>A quantizer on a constant marks the constant (the layer reading it takes it as its kernel or bias
    /// quantizer); on the graph input it is the input quantizer; on a layer's output it is that layer's activation
    /// quantizer when the layer has none and nothing else reads the unquantized tensor, else a linear layer.</summary>
    private void Apply(NodeProto n, string spec)
    {
        var x = Get(n.Input[0]);
        if (x.IsConst)
        {
            if (x.Quantizer is not null) throw Error("a constant quantized twice is not supported");
            _values[n.Output[0]] = new OnnxValue { Const = x.Const, Dims = x.Dims, Quantizer = spec };
            return;
        }
        bool only = _consumers.GetValueOrDefault(n.Input[0]) == 1;
        if (x.Layer == "input" && only && _inputQuantizer is null)
        {
            _inputQuantizer = spec;
            _values[n.Output[0]] = x;
            return;
        }
        var producer = x.Layer is { } l && l != "input" ? SpecOf(l) : null;
        if (producer is not null && only && !producer.ContainsKey("activation_quantizer") && producer["type"]!.GetValue<string>() != "flatten"
            && !producer["type"]!.GetValue<string>().StartsWith("max_pool", StringComparison.Ordinal))
        {
            producer["activation_quantizer"] = spec;
            _values[n.Output[0]] = x;
            return;
        }
        AddLayer(n, _specs.Count, new JsonObject { ["type"] = "linear", ["activation_quantizer"] = spec }, [x], x.OnnxShape, new Dictionary<string, float[]>(), x.Perm);
    }
}
