using HetQ.Nn;
using HetQ.Nn.Layers;
using HetQ.Numerics;
using HetQ.Quantization;

namespace HetQ.Graph;

/// <summary>The integer graph of a model, the notes on what lowering did, and the problems that keep it from being
/// exact (each naming a layer); <see cref="LogitsNode"/> is the model node whose output the graph's output equals, and
/// <see cref="OutputNode"/> the graph node the model's last layer became.</summary>
internal sealed record Lowered(IntegerGraph? Graph, IReadOnlyList<string> Problems, int LogitsNode, int OutputNode);

/// <summary>The one lowering from a trained model to the integer graph: the layer-to-op rules, the dropped output
/// activations and the fusion of an activation into the weighted op before it. What the numbers are (the weight
/// codes, the types of accumulators and outputs) is the <see cref="Coding"/>'s choice: the freezer's exact coding
/// from the model's quantizers, or a reference coding of fixed widths for costing.</summary>
internal static class Lowering
{
    /// <summary>Lowers every layer of <paramref name="model"/> under <paramref name="coding"/>; a layer that cannot be
    /// lowered is a problem, and lowering goes on so that every problem is reported at once.</summary>
    public static Lowered Lower(Model model, Coding coding, string name, IEnumerable<string> notes)
    {
        var problems = new List<string>();
        var ctx = new Context(coding, new List<string>(notes));
        var nodes = new List<GraphNode>
        {
            new("input", new InputOp(coding.InputFormat, coding.InputElements), [], Typed(model.InputShape, coding.InputFormat.Type, coding.InputElements)),
        };
        var map = new int[model.Nodes.Count];
        int last = model.Nodes.Count - 1;
        int logits = last;
        for (int i = 0; i < model.Nodes.Count; i++)
        {
            var layer = model.Nodes[i].Layer;
            int[] ins = model.Nodes[i].Inputs.Select(k => k < 0 ? 0 : map[k]).ToArray();
            var inTypes = ins.Select(k => nodes[k].Output).ToArray();
            try
            {
                var lowered = LowerLayer(layer, inTypes, i == last || OnlyDroppableAfter(model, i), ctx);
                if (lowered is not { } l)
                {
                    map[i] = ins[0];
                    if (i == last) logits = SourceOf(model, i);
                    continue;
                }
                var (op, output) = l;
                if (op is RequantOp rq && Fuse(nodes, ins[0], rq, output, SoleConsumer(model, i), layer.Name, ctx))
                {
                    map[i] = ins[0];
                    continue;
                }
                nodes.Add(new GraphNode(layer.Name, op, ins, output));
                map[i] = nodes.Count - 1;
            }
            catch (LoweringException e)
            {
                problems.Add($"layer '{layer.Name}' ({layer.Type}): {e.Message}");
                // A stand-in node keeps the later layers checked, so every problem is reported at once.
                nodes.Add(new GraphNode(layer.Name, new RequantOp(new Requantization(false, null)), ins, new TensorType(layer.OutputShape, coding.InputFormat.Type)));
                map[i] = nodes.Count - 1;
            }
        }
        return new Lowered(problems.Count > 0 ? null : new IntegerGraph(name, nodes, ctx.Notes), problems, logits, map[last]);
    }

    /// <summary>The state one layer's lowering reads and adds to.</summary>
    internal sealed record Context(Coding Coding, List<string> Notes);

    /// <summary>The op and output type of one layer, or null when the layer vanishes (dropout, a linear activation
    /// without quantizer, a softmax or sigmoid at the output).</summary>
    private static (Op Op, TensorType Output)? LowerLayer(Layer layer, TensorType[] ins, bool atOutput, Context ctx)
    {
        var coding = ctx.Coding;
        var x = ins.Length > 0 ? ins[0] : null;
        switch (layer)
        {
            case Dropout:
                return null;
            case ActivationLayer { Activation.Kind: ActivationKind.Softmax or ActivationKind.Sigmoid } a when atOutput && coding.DropsOutputActivation(a):
                ctx.Notes.Add(a.Activation.Kind == ActivationKind.Softmax
                    ? $"'{layer.Name}' (softmax) at the output is left out: the graph outputs its input, the logits (the argmax is the same)"
                    : $"'{layer.Name}' (sigmoid) at the output is left out: the graph outputs its input, the logit (scored as logit > 0, the same decision as sigmoid > 0.5)");
                return null;
            case Dense d:
            {
                int inF = d.Kernel.Shape[0];
                // A dense layer on a rank > 1 input acts on the last axis at every position: a 1x1 convolution.
                if (x!.Shape.Length != 1) coding.CheckPointwiseDense(layer);
                var win = x.Shape.Length == 1 ? Window.Dense(inF) : Window.Pointwise(x.Size / inF, inF);
                return Weighted(layer, d.Kernel, d.Bias, d.Activation, x, win, d.Units, (w, wt, b, bt, acc, rq) =>
                    x.Shape.Length == 1 ? new DenseOp(inF, d.Units, w, wt, b, bt, acc, rq) : new ConvOp(win, d.Units, w, wt, b, bt, acc, rq), ctx);
            }
            case Conv c:
                return Weighted(layer, c.Kernel, c.Bias, c.Activation, x!, c.Geometry, c.Filters, (w, wt, b, bt, acc, rq) =>
                    new ConvOp(c.Geometry, c.Filters, w, wt, b, bt, acc, rq), ctx);
            case DepthwiseConv2D dw:
                return Weighted(layer, dw.Kernel, dw.Bias, dw.Activation, x!, dw.Geometry, dw.DepthMultiplier, (w, wt, b, bt, acc, rq) =>
                    new DepthwiseConvOp(dw.Geometry, dw.DepthMultiplier, w, wt, b, bt, acc, rq), ctx);
            case Pool { IsMax: true } p:
                coding.CheckMaxPool(layer);
                // Codes stay on the input's common type; with per-element types each output element has the join of
                // the types its window covers.
                return (new MaxPoolOp(p.Geometry), new TensorType(layer.OutputShape, x!.Type,
                    x.Elements is { } el ? MaxPoolElements(p.Geometry, el) : null));
            case Pool p:
                return AveragePool(layer, p.Geometry, x!, ctx);
            case GlobalAveragePool:
                return AveragePool(layer, Window.Global(x!.Shape), x, ctx);
            case Flatten:
                return (new FlattenOp(), x! with { Shape = [x.Size] });
            case Add:
            {
                var sum = coding.AddSum(ins);
                var rq = coding.Output(layer, new Activation(ActivationKind.Linear), ctx.Notes);
                if (rq.Elements is not null || ins.Any(t => t.Elements is not null)) throw new LoweringException("add with per-element (learned) types is not supported yet");
                return (new AddOp(sum, rq), new TensorType(layer.OutputShape, rq.Format?.Type ?? sum));
            }
            case ActivationLayer { Activation.Kind: ActivationKind.HardTanh } a:
            {
                var rq = coding.Output(layer, new Activation(ActivationKind.Linear), ctx.Notes);
                if (rq.Elements is not null || x!.Elements is not null) throw new LoweringException("clip with per-element (learned) types is not supported yet");
                long lo = ClipBound(a.Activation.Min, x!.Type, "min"), hi = ClipBound(a.Activation.Max, x.Type, "max");
                return (new ClipOp(lo, hi, rq), new TensorType(layer.OutputShape, rq.Format?.Type ?? x.Type));
            }
            case ActivationLayer a:
            {
                var rq = coding.Output(layer, a.Activation, ctx.Notes);
                if (rq.IsIdentity) return null;
                if (x!.Elements is not null) throw new LoweringException("a requantization of a tensor with per-element types is not supported");
                return (new RequantOp(rq), Typed(layer.OutputShape, rq.Format?.Type ?? x.Type, rq.Elements));
            }
            case BatchNorm:
                coding.BatchNorm(layer, ctx.Notes);
                return null;
            default:
                throw new LoweringException("no integer op for this layer type");
        }
    }

    /// <summary>A clip bound as a raw code of the input type: outside the type's range it is the range's end (the
    /// clamp does nothing there); inside, it must lie on the type's grid, or the clamp would leave the grid.</summary>
    private static long ClipBound(float bound, FixedType type, string what)
    {
        double v = Math.ScaleB((double)bound, type.FractionalBits);
        if (v <= type.MinRaw) return type.MinRaw;
        if (v >= type.MaxRaw) return type.MaxRaw;
        if (v != Math.Round(v)) throw new LoweringException($"the hard_tanh {what} {bound} is not a value of the input type {type}");
        return (long)v;
    }

    private delegate Op WeightedFactory(long[] w, FixedType wt, long[]? b, FixedType? bt, FixedType acc, Requantization rq);

    /// <summary>A dense, convolution or depthwise convolution: codes of the kernel and bias, the accumulator over the
    /// window's fan-in, the activation as the output stage. <paramref name="perChannel"/> is the filters (dense,
    /// convolution) or the depth multiplier (depthwise: each output channel sees one input channel).</summary>
    private static (Op, TensorType) Weighted(Layer layer, Parameter kernel, Parameter? bias, Activation activation, TensorType x,
        Window win, int perChannel, WeightedFactory create, Context ctx)
    {
        var coding = ctx.Coding;
        var (w, wt) = coding.Codes(kernel, "kernel");
        long[]? b = null;
        FixedType? bt = null;
        if (bias is not null) (b, bt) = coding.Codes(bias, "bias");
        bool depthwise = layer is DepthwiseConv2D;
        int outputs = depthwise ? win.Channels * perChannel : perChannel;
        int fanIn = depthwise ? win.TapCount : win.TapCount * win.Channels;
        var acc = coding.Accumulator(x.Type, wt, b, bt, outputs, j => Column(w, fanIn, outputs, j));
        var rq = coding.Output(layer, activation, ctx.Notes);
        return (create(w, wt, b, bt, acc, rq), Typed(layer.OutputShape, rq.Format?.Type ?? acc, rq.Elements));
    }

    private static (Op, TensorType) AveragePool(Layer layer, Window win, TensorType x, Context ctx)
    {
        var sum = ctx.Coding.PoolSum(win, x.Type);
        var rq = ctx.Coding.Output(layer, new Activation(ActivationKind.Linear), ctx.Notes);
        if (rq.Elements is not null || x.Elements is not null) throw new LoweringException("average pooling with per-element (learned) types is not supported yet");
        return (new AvgPoolOp(win, sum, rq), new TensorType(layer.OutputShape, rq.Format?.Type ?? sum));
    }

    /// <summary>The per-element types of a max pooling's output over an input with per-element types: each output
    /// element's type is the join of the types of the input elements its window covers (padding taps excluded), null
    /// where all of them are pruned (always 0, so the maximum is 0). The maximum of codes on one common type is exact,
    /// and its value lies in every type of the window's join.</summary>
    internal static FixedType?[] MaxPoolElements(Window g, IReadOnlyList<FixedType?> x)
    {
        var y = new FixedType?[g.OutH * g.OutW * g.Channels];
        int c = g.Channels;
        for (int oy = 0; oy < g.OutH; oy++)
            for (int ox = 0; ox < g.OutW; ox++)
            {
                var (y0, y1, x0, x1) = g.Clip(oy, ox);
                for (int ch = 0; ch < c; ch++)
                {
                    FixedType? join = null;
                    for (int iy = y0; iy < y1; iy++)
                        for (int ix = x0; ix < x1; ix++)
                            if (x[(iy * g.InW + ix) * c + ch] is { } t) join = join is { } j ? Join(j, t) : t;
                    y[(oy * g.OutW + ox) * c + ch] = join;
                }
            }
        return y;
    }

    /// <summary>The narrowest type holding every value of both: the finer step, the wider integer part, signed if either is.</summary>
    internal static FixedType Join(FixedType a, FixedType b)
    {
        if (a == b) return a;
        bool signed = a.Signed || b.Signed;
        int frac = Math.Max(a.FractionalBits, b.FractionalBits);
        int top = Math.Max(a.IntegerBits - (a.Signed ? 1 : 0), b.IntegerBits - (b.Signed ? 1 : 0));
        int k = signed ? 1 : 0;
        return new FixedType(signed, k + top + frac, k + top);
    }

    /// <summary>A tensor type, with per-element types when the formats are per element.</summary>
    private static TensorType Typed(int[] shape, FixedType type, IReadOnlyList<FixedFormat?>? elements) =>
        new(shape, type, elements?.Select(f => f?.Type).ToArray());

    /// <summary>The weights output <paramref name="j"/> sums, of a kernel laid out [rows, cols] (dense [in, out];
    /// convolution [KH·KW·C, F]; depthwise [KH·KW, C·M]).</summary>
    private static long[] Column(long[] w, int rows, int cols, int j)
    {
        var c = new long[rows];
        for (int i = 0; i < rows; i++) c[i] = w[i * cols + j];
        return c;
    }

    /// <summary>A ReLU/requantization layer right after a dense or convolution that feeds nothing else becomes that
    /// op's output stage (QKeras's QDense + QActivation is one op in hardware), when the coding allows it.</summary>
    private static bool Fuse(List<GraphNode> nodes, int producer, RequantOp rq, TensorType output, bool soleConsumer, string name, Context ctx)
    {
        if (producer != nodes.Count - 1 || producer == 0 || !soleConsumer) return false;
        var p = nodes[producer];
        if (p.Op is not WeightedOp w || !ctx.Coding.Fuses(w.Output)) return false;
        nodes[producer] = p with { Op = w with { Output = rq.Output }, Output = output };
        ctx.Notes.Add($"'{name}' is fused into '{p.Name}' as its output stage");
        return true;
    }

    /// <summary>True when model node <paramref name="i"/> is the only reader of its input.</summary>
    private static bool SoleConsumer(Model model, int i)
    {
        int input = model.Nodes[i].Inputs[0];
        return model.Nodes.Count(n => n.Inputs.Contains(input)) == 1;
    }

    /// <summary>True when every layer after <paramref name="i"/> is dropped at the output (a final softmax or sigmoid, dropout).</summary>
    private static bool OnlyDroppableAfter(Model model, int i)
    {
        for (int j = i + 1; j < model.Nodes.Count; j++)
            if (!(model.Nodes[j].Layer is ActivationLayer { Activation.Kind: ActivationKind.Softmax or ActivationKind.Sigmoid, OutputQuantizer: null }
                  || model.Nodes[j].Layer is Dropout))
                return false;
        return true;
    }

    private static int SourceOf(Model model, int i)
    {
        while (i >= 0 && (model.Nodes[i].Layer is Dropout || model.Nodes[i].Layer is ActivationLayer { Activation.Kind: ActivationKind.Softmax or ActivationKind.Sigmoid }))
            i = model.Nodes[i].Inputs[0];
        return i;
    }
}

/// <summary>A layer that cannot be lowered under the coding; the message names what is wrong (the layer is added by the caller).</summary>
internal sealed class LoweringException(string message) : Exception(message);
