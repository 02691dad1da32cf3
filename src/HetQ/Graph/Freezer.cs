using HetQ.Nn;
using HetQ.Nn.Layers;
using HetQ.Quantization;

namespace HetQ.Graph;

/// <summary>The result of freezing: the integer graph, or the reasons the model is not exactly representable
/// (each naming a layer); <see cref="LogitsNode"/> is the model node whose output the graph's output equals.</summary>
public sealed record FreezeResult(IntegerGraph? Graph, IReadOnlyList<string> Problems, int LogitsNode, FixedFormat InputFormat, bool InputFormatDefaulted, Model Model);

/// <summary>Turns a trained quantized model into the integer graph: integer weights from the kernel and bias
/// quantizers, the input type from the input quantizer, accumulator types inferred from the weights so that
/// nothing overflows, and at each layer output the activation quantizer's rounding and overflow.</summary>
public static class Freezer
{
    /// <summary>The input type used when the model has no input quantizer (hls4ml's default precision).</summary>
    public static readonly FixedFormat DefaultInput = new(new FixedType(true, 16, 6), Rounding.RND_CONV, Overflow.SAT);

    /// <summary>Loads the model saved in <paramref name="directory"/> and freezes it; a model that is not exactly
    /// representable is an error listing each layer's problem.</summary>
    public static IntegerGraph FreezeDirectory(string directory, FixedFormat? inputOverride = null)
    {
        var (model, meta) = ModelIO.Load(directory);
        var r = Freeze(model, meta.Name, inputOverride);
        return r.Graph ?? throw new HetQException($"{directory}: the model is not exactly representable in fixed point:\n  - " + string.Join("\n  - ", r.Problems));
    }

    /// <summary>Freezes <paramref name="model"/> after folding its batch norms (<see cref="FreezeResult.Model"/> is the
    /// folded model: the fake-quantized reference that the graph equals).</summary>
    public static FreezeResult Freeze(Model model, string name, FixedFormat? inputOverride = null)
    {
        var problems = new List<string>();
        var (folded, foldNotes) = BatchNormFolding.Fold(model);
        model = folded;
        var notes = new List<string>(foldNotes);
        FixedFormat input;
        bool defaulted = false;
        if (inputOverride is { } io) input = io;
        else if (model.InputQuantizer is null)
        {
            input = DefaultInput;
            defaulted = true;
            notes.Add($"the model has no input quantizer: the input is quantized to {input}");
        }
        else if (ActivationFormat(model.InputQuantizer.Quantizer, out string? why) is { } f) input = f;
        else
        {
            input = DefaultInput;
            problems.Add($"input quantizer {model.InputQuantizer.Spec}: {why}");
        }
        var nodes = new List<GraphNode> { new("input", new InputOp(input), Array.Empty<int>(), new TensorType(model.InputShape, input.Type)) };
        var map = new int[model.Nodes.Count];
        int last = model.Nodes.Count - 1;
        int logits = last;
        foreach (var p in model.Parameters) p.Refresh(false, null);
        for (int i = 0; i < model.Nodes.Count; i++)
        {
            var node = model.Nodes[i];
            var layer = node.Layer;
            int[] ins = node.Inputs.Select(k => k < 0 ? 0 : map[k]).ToArray();
            var inTypes = ins.Select(k => nodes[k].Output).ToArray();
            bool isLast = i == last || IsOnlyDroppable(model, i);
            try
            {
                var (op, output) = Lower(layer, inTypes, isLast, notes);
                if (op is null)
                {
                    map[i] = ins[0];
                    if (i == last) logits = FindSource(model, i);
                    continue;
                }
                if (op is RequantOp rq && TryFuse(nodes, ins[0], rq, output!, model, i, layer.Name, notes))
                {
                    map[i] = ins[0];
                    continue;
                }
                nodes.Add(new GraphNode(layer.Name, op, ins, output!));
                map[i] = nodes.Count - 1;
            }
            catch (FreezeException e)
            {
                problems.Add($"layer '{layer.Name}' ({layer.Type}): {e.Message}");
                // A stand-in node keeps the later layers checked, so every problem is reported at once.
                nodes.Add(new GraphNode(layer.Name, new RequantOp(new Requantization(false, null)), ins, new TensorType(layer.OutputShape, DefaultInput.Type)));
                map[i] = nodes.Count - 1;
            }
        }
        if (problems.Count > 0) return new FreezeResult(null, problems, logits, input, defaulted, model);
        return new FreezeResult(new IntegerGraph(name, nodes, notes), problems, logits, input, defaulted, model);
    }

    /// <summary>A ReLU/requantization layer right after a dense or convolution whose output is the plain accumulator
    /// and feeds nothing else becomes that op's output stage (QKeras's QDense + QActivation is one op in hardware).</summary>
    private static bool TryFuse(List<GraphNode> nodes, int producer, RequantOp rq, TensorType output, Model model, int modelIndex, string name, List<string> notes)
    {
        if (producer != nodes.Count - 1 || producer == 0) return false;
        var p = nodes[producer];
        int consumers = model.Nodes.Count(n => n.Inputs.Contains(model.Nodes[modelIndex].Inputs[0]));
        if (consumers != 1) return false;
        Op? fused = p.Op switch
        {
            DenseOp d when d.Output is { Relu: false, Format: null } => d with { Output = rq.Output },
            ConvOp c when c.Output is { Relu: false, Format: null } => c with { Output = rq.Output },
            DepthwiseConvOp c when c.Output is { Relu: false, Format: null } => c with { Output = rq.Output },
            _ => null,
        };
        if (fused is null) return false;
        nodes[producer] = p with { Op = fused, Output = output };
        notes.Add($"'{name}' is fused into '{p.Name}' as its output stage");
        return true;
    }

    private sealed class FreezeException(string message) : Exception(message);

    /// <summary>True when every layer after <paramref name="i"/> is dropped at the output (a final softmax or sigmoid).</summary>
    private static bool IsOnlyDroppable(Model model, int i)
    {
        for (int j = i + 1; j < model.Nodes.Count; j++)
            if (!(model.Nodes[j].Layer is ActivationLayer { Activation.Kind: ActivationKind.Softmax or ActivationKind.Sigmoid } a && a.OutputQuantizer is null
                  || model.Nodes[j].Layer is Dropout))
                return false;
        return true;
    }

    private static int FindSource(Model model, int i)
    {
        while (i >= 0 && (model.Nodes[i].Layer is Dropout || model.Nodes[i].Layer is ActivationLayer { Activation.Kind: ActivationKind.Softmax or ActivationKind.Sigmoid }))
            i = model.Nodes[i].Inputs[0];
        return i;
    }

    /// <summary>The op for one layer, or (null, null) when the layer vanishes (dropout, a final softmax).</summary>
    private static (Op? Op, TensorType? Output) Lower(Layer layer, TensorType[] ins, bool isLast, List<string> notes)
    {
        switch (layer)
        {
            case Dropout:
                return (null, null);
            case ActivationLayer { Activation.Kind: ActivationKind.Softmax or ActivationKind.Sigmoid } a when isLast && a.OutputQuantizer is null:
                notes.Add(a.Activation.Kind == ActivationKind.Softmax
                    ? $"'{layer.Name}' (softmax) at the output is left out: the graph outputs its input, the logits (the argmax is the same)"
                    : $"'{layer.Name}' (sigmoid) at the output is left out: the graph outputs its input, the logit (scored as logit > 0, the same decision as sigmoid > 0.5)");
                return (null, null);
            case Dense d:
            {
                var (w, wt) = Weights(d.Kernel, "kernel");
                var (b, bt) = OptionalWeights(d.Bias);
                var x = ins[0];
                int inF = d.Kernel.Shape[0], outF = d.Units;
                var acc = Accumulator(x.Type, w, wt, b, bt, inF, outF, j => Column(w, inF, outF, j));
                var rq = Output(layer, d.Activation, acc);
                var shape = (int[])x.Shape.Clone();
                shape[^1] = outF;
                if (x.Shape.Length != 1) throw new FreezeException("dense on inputs of rank > 1 is not supported; flatten first");
                return (new DenseOp(inF, outF, w, wt, b, bt, acc, rq), new TensorType(shape, rq.Format?.Type ?? acc));
            }
            case Conv c:
            {
                var (w, wt) = Weights(c.Kernel, "kernel");
                var (b, bt) = OptionalWeights(c.Bias);
                var g = c.Geometry;
                int cin = ins[0].Shape[^1], patch = g.KH * g.KW * cin;
                var win = new Window(g.InH, g.InW, cin, g.KH, g.KW, g.SH, g.SW, g.PadTop, g.PadLeft, g.OutH, g.OutW);
                var acc = Accumulator(ins[0].Type, w, wt, b, bt, patch, c.Filters, j => Column(w, patch, c.Filters, j));
                var rq = Output(layer, c.Activation, acc);
                return (new ConvOp(win, c.Filters, w, wt, b, bt, acc, rq), new TensorType(c.OutputShape, rq.Format?.Type ?? acc));
            }
            case DepthwiseConv2D dw:
            {
                var (w, wt) = Weights(dw.Kernel, "kernel");
                var (b, bt) = OptionalWeights(dw.Bias);
                var g = dw.Geometry;
                int c = ins[0].Shape[^1], m = dw.DepthMultiplier, taps = g.KH * g.KW;
                var win = new Window(g.InH, g.InW, c, g.KH, g.KW, g.SH, g.SW, g.PadTop, g.PadLeft, g.OutH, g.OutW);
                var acc = Accumulator(ins[0].Type, w, wt, b, bt, taps, c * m,
                    j => Enumerable.Range(0, taps).Select(t => w[t * c * m + j]).ToArray());
                var rq = Output(layer, dw.Activation, acc);
                return (new DepthwiseConvOp(win, m, w, wt, b, bt, acc, rq), new TensorType(dw.OutputShape, rq.Format?.Type ?? acc));
            }
            case Pool p:
            {
                var g = p.Geometry;
                int c = ins[0].Shape[^1];
                var win = new Window(g.InH, g.InW, c, g.KH, g.KW, g.SH, g.SW, g.PadTop, g.PadLeft, g.OutH, g.OutW);
                if (p.IsMax)
                {
                    if (layer.OutputQuantizer is not null) throw new FreezeException("an activation quantizer on max pooling is not supported");
                    return (new MaxPoolOp(win), new TensorType(p.OutputShape, ins[0].Type));
                }
                return AveragePool(layer, win, ins[0], p.OutputShape);
            }
            case GlobalAveragePool:
            {
                var s = ins[0].Shape;
                int c = s[^1];
                var win = s.Length == 3 ? new Window(s[0], s[1], c, s[0], s[1], 1, 1, 0, 0, 1, 1) : new Window(1, s[0], c, 1, s[0], 1, 1, 0, 0, 1, 1);
                return AveragePool(layer, win, ins[0], new[] { c });
            }
            case Flatten:
                return (new FlattenOp(), new TensorType(new[] { ins[0].Size }, ins[0].Type));
            case Add:
            {
                int frac = ins.Max(t => t.Type.FractionalBits);
                Int128 lo = 0, hi = 0;
                foreach (var t in ins)
                {
                    lo += (Int128)t.Type.MinRaw << (frac - t.Type.FractionalBits);
                    hi += (Int128)t.Type.MaxRaw << (frac - t.Type.FractionalBits);
                }
                var sum = TypeInference.Holding(lo, hi, frac);
                var rq = Output(layer, new Activation(ActivationKind.Linear), sum);
                return (new AddOp(sum, rq), new TensorType(ins[0].Shape, rq.Format?.Type ?? sum));
            }
            case ActivationLayer a when a.Activation.Kind is ActivationKind.Relu or ActivationKind.Linear:
            {
                var rq = Output(layer, a.Activation, ins[0].Type);
                if (!rq.Relu && rq.Format is null) return (null, null);
                return (new RequantOp(rq), new TensorType(ins[0].Shape, rq.Format?.Type ?? ins[0].Type));
            }
            case ActivationLayer a:
                throw new FreezeException($"the {a.Activation.Name} activation is not exactly representable in fixed point (only relu and linear are, plus a softmax or sigmoid at the output)");
            case BatchNorm:
                throw new FreezeException("batch normalization must be folded into the preceding dense or convolution layer before freezing (fold it and fine-tune; a standalone batch norm is not supported)");
            default:
                throw new FreezeException("no integer op for this layer type");
        }
    }

    private static (Op, TensorType) AveragePool(Layer layer, Window win, TensorType input, int[] outShape)
    {
        int count = win.KH * win.KW;
        if (win.PadTop != 0 || win.PadLeft != 0 || (win.OutH - 1) * win.SH + win.KH > win.InH || (win.OutW - 1) * win.SW + win.KW > win.InW)
            throw new FreezeException("average pooling with padding divides by a varying count: not exactly representable");
        if (!int.IsPow2(count)) throw new FreezeException($"average pooling over {count} elements (not a power of two) is not exactly representable");
        int k = int.Log2(count);
        var t = input.Type;
        var sum = new FixedType(t.Signed, t.Width + k, t.IntegerBits);
        var rq = Output(layer, new Activation(ActivationKind.Linear), sum);
        return (new AvgPoolOp(win, sum, rq), new TensorType(outShape, rq.Format?.Type ?? sum));
    }

    private static long[] Column(long[] w, int rows, int cols, int j)
    {
        var c = new long[rows];
        for (int i = 0; i < rows; i++) c[i] = w[i * cols + j];
        return c;
    }

    /// <summary>Raw integer codes of a quantized parameter (its fake-quantized values times 2^F must be integers of the quantizer's type).</summary>
    private static (long[] Raw, FixedType Type) Weights(Parameter p, string role)
    {
        var q = p.Quantizer ?? throw new FreezeException($"the {role} has no quantizer: float weights have no fixed-point type (set {role}_quantizer)");
        var t = q.Quantizer.HardwareType ?? throw new FreezeException($"{role} quantizer {q.Spec} has no fixed-point type: {q.Quantizer.NoHardwareTypeReason}");
        var raw = new long[p.Length];
        for (int i = 0; i < raw.Length; i++)
        {
            double v = Math.ScaleB((double)p.Effective[i], t.FractionalBits);
            if (v != Math.Round(v) || v < t.MinRaw || v > t.MaxRaw)
                throw new FreezeException($"{role} value {p.Effective[i]} is not a code of {t} (quantizer {q.Spec})");
            raw[i] = (long)v;
        }
        return (raw, t);
    }

    private static (long[]? Raw, FixedType? Type) OptionalWeights(Parameter? p)
    {
        if (p is null) return (null, null);
        var (raw, t) = Weights(p, "bias");
        return (raw, t);
    }

    /// <summary>The accumulator type of Σ x·w + b over <paramref name="fanIn"/> terms, from the actual weights.</summary>
    private static FixedType Accumulator(FixedType x, long[] w, FixedType wt, long[]? b, FixedType? bt, int fanIn, int outputs, Func<int, long[]> column)
    {
        int prodFrac = x.FractionalBits + wt.FractionalBits;
        int frac = Math.Max(prodFrac, bt?.FractionalBits ?? int.MinValue);
        Int128 lo = Int128.MaxValue, hi = Int128.MinValue;
        for (int j = 0; j < outputs; j++)
        {
            long bias = b is null ? 0 : b[j];
            var (l, h) = TypeInference.DotBounds(column(j), x.MinRaw, x.MaxRaw, frac - prodFrac, bias, bt is { } t ? frac - t.FractionalBits : 0);
            if (l < lo) lo = l;
            if (h > hi) hi = h;
        }
        if (outputs == 0) lo = hi = 0;
        return TypeInference.Holding(lo, hi, frac);
    }

    private static Requantization Output(Layer layer, Activation act, FixedType acc)
    {
        if (act.Kind is not (ActivationKind.Linear or ActivationKind.Relu))
            throw new FreezeException($"the {act.Name} activation is not exactly representable in fixed point (only relu and linear are)");
        FixedFormat? fmt = null;
        if (layer.OutputQuantizer is { } q)
        {
            fmt = ActivationFormat(q.Quantizer, out string? why) ?? throw new FreezeException($"activation quantizer {q.Spec}: {why}");
        }
        return new Requantization(act.Kind == ActivationKind.Relu, fmt);
    }

    /// <summary>The fixed-point format (type, rounding, overflow) a quantizer rounds activations to, when it is one.</summary>
    public static FixedFormat? ActivationFormat(IQuantizer q, out string? why)
    {
        why = null;
        switch (q)
        {
            case QuantizedBits b when !b.IsAutoScaled && b.Grid is FixedFormat g && b.Alpha.Po2Exponent == 0:
                return g;
            case QuantizedRelu r when r.IsPlain && r.IsQuantizedClip && r.HardwareType is FixedType t:
                return new FixedFormat(t, Rounding.RND_CONV, Overflow.SAT);
            case FixedQuantizer f:
                return f.Format;
            default:
                why = "not a plain fixed-point rounding (freeze supports quantized_bits with alpha None or 1, plain quantized_relu, and ap_fixed types)"
                      + (q.NoHardwareTypeReason is { } r2 ? $"; {r2}" : "");
                return null;
        }
    }
}
