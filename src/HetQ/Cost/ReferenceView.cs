using HetQ.Graph;
using HetQ.Nn;
using HetQ.Nn.Layers;
using HetQ.Quantization;

namespace HetQ.Cost;

/// <summary>The widths a reference model is costed with: AutoQKeras's reference_internal (weights, biases and
/// activations) and reference_accumulator. With <see cref="FloatAccumulator"/> the multiplications and additions
/// cost QTools's floating-point energies (fp16 for 16 bits, fp32 otherwise), as QTools does when the reference
/// accumulator is fp16 or fp32.</summary>
public sealed record ReferenceQuantization(int WeightBits = 8, int ActivationBits = 8, int AccumulatorBits = 32, bool FloatAccumulator = false)
{
    /// <summary>int8 weights, biases and activations, int32 accumulators.</summary>
    public static ReferenceQuantization Int8 { get; } = new();

    /// <summary>Floating point everywhere (AutoQKeras's default reference: reference_internal and reference_accumulator "fp32").</summary>
    public static ReferenceQuantization Float32 { get; } = new(32, 32, 32, FloatAccumulator: true);
}

/// <summary>Builds the costing view of a model under a <see cref="ReferenceQuantization"/>: the graph the freezer
/// would build, but with every weight rounded to the reference weight width (a power-of-two scale per tensor that
/// holds its largest magnitude, round to nearest even, saturation), every layer output and the model input of the
/// activation width, and every accumulator of the accumulator width. Integer bits of the activation and
/// accumulator types are nominal (no cost reads them); the view is for costing, not for emulation.</summary>
internal static class ReferenceView
{
    public static IntegerGraph Build(Model model, ReferenceQuantization q, string name)
    {
        CheckWidth(q.WeightBits, nameof(q.WeightBits));
        CheckWidth(q.ActivationBits, nameof(q.ActivationBits));
        CheckWidth(q.AccumulatorBits, nameof(q.AccumulatorBits));
        var act = new FixedType(true, q.ActivationBits, 1);
        var actFormat = new FixedFormat(act, Rounding.RND_CONV, Overflow.SAT);
        var acc = new FixedType(true, q.AccumulatorBits, q.AccumulatorBits / 2);
        var notes = new List<string> { $"reference quantization: {q.WeightBits}-bit weights, {q.ActivationBits}-bit activations, {q.AccumulatorBits}-bit{(q.FloatAccumulator ? " floating-point" : "")} accumulators" };
        var nodes = new List<GraphNode> { new("input", new InputOp(actFormat), [], new TensorType(model.InputShape, act)) };
        var map = new int[model.Nodes.Count];
        int last = model.Nodes.Count - 1;
        for (int i = 0; i < model.Nodes.Count; i++)
        {
            var layer = model.Nodes[i].Layer;
            int[] ins = model.Nodes[i].Inputs.Select(k => k < 0 ? 0 : map[k]).ToArray();
            var x = nodes[ins[0]].Output;
            var output = new TensorType(layer.OutputShape, act);
            Op? op = null;
            switch (layer)
            {
                case Dropout:
                    break;
                case BatchNorm:
                    notes.Add($"'{layer.Name}' (batch_norm) is taken as folded into the layer before it: no cost");
                    break;
                case Dense d:
                {
                    var (w, wt) = Round(d.Kernel, q.WeightBits);
                    var (b, bt) = RoundBias(d.Bias, q.WeightBits);
                    var rq = Output(d.Activation, actFormat, layer, notes);
                    int inF = d.Kernel.Shape[0];
                    if (x.Shape.Length == 1)
                        op = new DenseOp(inF, d.Units, w, wt, b, bt, acc, rq);
                    else
                    {
                        // A dense layer on a rank > 1 input acts on the last axis at every position: a 1x1 convolution.
                        int positions = x.Size / inF;
                        op = new ConvOp(new Window(1, positions, inF, 1, 1, 1, 1, 0, 0, 1, positions), d.Units, w, wt, b, bt, acc, rq);
                    }
                    break;
                }
                case Conv c:
                {
                    var (w, wt) = Round(c.Kernel, q.WeightBits);
                    var (b, bt) = RoundBias(c.Bias, q.WeightBits);
                    op = new ConvOp(WindowOf(c.Geometry, x.Shape[^1]), c.Filters, w, wt, b, bt, acc, Output(c.Activation, actFormat, layer, notes));
                    break;
                }
                case DepthwiseConv2D dw:
                {
                    var (w, wt) = Round(dw.Kernel, q.WeightBits);
                    var (b, bt) = RoundBias(dw.Bias, q.WeightBits);
                    op = new DepthwiseConvOp(WindowOf(dw.Geometry, x.Shape[^1]), dw.DepthMultiplier, w, wt, b, bt, acc, Output(dw.Activation, actFormat, layer, notes));
                    break;
                }
                case Pool p:
                    op = p.IsMax ? new MaxPoolOp(WindowOf(p.Geometry, x.Shape[^1])) : new AvgPoolOp(WindowOf(p.Geometry, x.Shape[^1]), acc, new Requantization(false, actFormat));
                    break;
                case GlobalAveragePool:
                {
                    var s = x.Shape;
                    int positions = x.Size / s[^1];
                    var win = s.Length == 3 ? new Window(s[0], s[1], s[2], s[0], s[1], 1, 1, 0, 0, 1, 1) : new Window(1, positions, s[^1], 1, positions, 1, 1, 0, 0, 1, 1);
                    op = new AvgPoolOp(win, acc, new Requantization(false, actFormat));
                    break;
                }
                case Flatten:
                    op = new FlattenOp();
                    output = new TensorType([x.Size], act);
                    break;
                case Add:
                    op = new AddOp(acc, new Requantization(false, actFormat));
                    break;
                case ActivationLayer a when a.Activation.Kind is ActivationKind.Softmax or ActivationKind.Sigmoid && OnlyDroppableAfter(model, i):
                    notes.Add($"'{layer.Name}' ({a.Activation.Name}) at the output is left out, as the freezer leaves it out");
                    break;
                case ActivationLayer a:
                {
                    var rq = Output(a.Activation, actFormat, layer, notes);
                    int producer = ins[0];
                    if (producer == nodes.Count - 1 && producer > 0 && nodes[producer].Op is DenseOp or ConvOp or DepthwiseConvOp
                        && model.Nodes.Count(n => n.Inputs.Contains(model.Nodes[i].Inputs[0])) == 1)
                    {
                        // Fused as the freezer fuses it: the activation is the output stage of the layer before.
                        var fused = nodes[producer].Op switch
                        {
                            DenseOp d => (Op)(d with { Output = rq }),
                            ConvOp c => c with { Output = rq },
                            DepthwiseConvOp c => c with { Output = rq },
                            _ => throw new System.Diagnostics.UnreachableException(),
                        };
                        nodes[producer] = nodes[producer] with { Op = fused };
                        map[i] = producer;
                        continue;
                    }
                    op = new RequantOp(rq);
                    break;
                }
                default:
                    throw new HetQException($"layer '{layer.Name}' ({layer.Type}): no reference cost for this layer type");
            }
            if (op is null)
            {
                map[i] = ins[0];
                continue;
            }
            nodes.Add(new GraphNode(layer.Name, op, ins, output));
            map[i] = nodes.Count - 1;
        }
        if (map[last] != nodes.Count - 1)
            throw new HetQException($"the reference view of '{name}' does not end with the model's output layer");
        return new IntegerGraph(name, nodes, notes);
    }

    private static void CheckWidth(int bits, string what)
    {
        if (bits < 1 || bits > FixedType.MaxWidth)
            throw new HetQException($"reference {what} must be between 1 and {FixedType.MaxWidth}, given {bits}");
    }

    private static Window WindowOf(ConvGeometry g, int channels) =>
        new(g.InH, g.InW, channels, g.KH, g.KW, g.SH, g.SW, g.PadTop, g.PadLeft, g.OutH, g.OutW);

    /// <summary>ReLU becomes the output stage's ReLU; any other activation is an element-wise function of the same width.</summary>
    private static Requantization Output(Activation a, FixedFormat format, Layer layer, List<string> notes)
    {
        if (a.Kind is not (ActivationKind.Linear or ActivationKind.Relu))
            notes.Add($"'{layer.Name}': the {a.Name} activation is costed as a free element-wise function");
        return new Requantization(a.Kind == ActivationKind.Relu, format);
    }

    private static bool OnlyDroppableAfter(Model model, int i)
    {
        for (int j = i + 1; j < model.Nodes.Count; j++)
            if (model.Nodes[j].Layer is not Dropout) return false;
        return true;
    }

    private static (long[]? Raw, FixedType? Type) RoundBias(Parameter? p, int bits)
    {
        if (p is null) return (null, null);
        var (raw, t) = Round(p, bits);
        return (raw, t);
    }

    /// <summary>The float values of <paramref name="p"/> (its quantizer ignored) rounded to a signed
    /// <paramref name="bits"/>-bit type whose range holds the largest magnitude.</summary>
    private static (long[] Raw, FixedType Type) Round(Parameter p, int bits)
    {
        double max = 0;
        foreach (float v in p.Value)
        {
            if (!float.IsFinite(v)) throw new HetQException($"parameter '{p.Name}' has a non-finite value");
            max = Math.Max(max, Math.Abs(v));
        }
        // 2^(I-1) >= max: the top of ap_fixed<bits, I>'s range.
        int integer = max == 0 ? 1 : Math.Clamp((int)Math.Ceiling(Math.Log2(max)) + 1, -FixedType.MaxBinaryPoint + FixedType.MaxWidth, FixedType.MaxBinaryPoint);
        var t = new FixedType(true, bits, integer);
        var raw = new long[p.Length];
        for (int i = 0; i < raw.Length; i++) raw[i] = FixedPoint.ToRaw(p.Value[i], t, Rounding.RND_CONV, Overflow.SAT);
        return (raw, t);
    }
}
