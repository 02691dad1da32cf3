using HetQ.Graph;
using HetQ.Nn;
using HetQ.Nn.Layers;
using HetQ.Quantization;

namespace HetQ.Training;

/// <summary>The fake-quantized model computed in double precision: the same layers, the same quantized weights
/// (<see cref="Parameter.Effective"/>) and the same activation formats as the float32 forward pass, but every
/// product and sum exact as long as the values fit double's 53-bit significand (the float32 pass rounds once an
/// accumulator is wider than 24 bits). <c>hetq eval</c> compares the emulator with this reference, so a mismatch
/// is a real difference and not float32 rounding. Covers the layers the freezer lowers.</summary>
internal sealed class ExactReference
{
    private readonly Model _model;
    private readonly FixedFormat _input;
    private readonly FixedFormat?[] _formats;

    /// <param name="model">The folded model the graph was frozen from (<see cref="FreezeResult.Model"/>), with its
    /// parameters refreshed.</param>
    /// <param name="input">The graph's input format.</param>
    public ExactReference(Model model, FixedFormat input)
    {
        _model = model;
        _input = input;
        _formats = model.Nodes.Select(n => n.Layer.OutputQuantizer is { } q ? Freezer.ActivationFormat(q.Quantizer, out _) : null).ToArray();
        // Learned bit widths: each element its own format (null: width 0, always 0).
        _elements = model.Nodes.Select(n => n.Layer.OutputQuantizer?.Learned?.ElementFormats()).ToArray();
        if (model.InputQuantizer?.Learned is { } li && li.CommonActivationFormat() is { } common && common == input) _inputElements = li.ElementFormats();
    }

    private readonly FixedFormat?[]?[] _elements;
    private readonly FixedFormat?[]? _inputElements;

    private static double Round(double x, FixedFormat? f) =>
        f is { } g ? FixedPoint.FromRaw(FixedPoint.ToRaw(x, g.Type, g.Rounding, g.Overflow), g.Type) : 0;

    /// <summary>The output of model node <paramref name="target"/> for every sample, [count × size].</summary>
    public double[] Run(ReadOnlySpan<float> features, int count, int target)
    {
        int inSize = Numerics.Tensor.Size(_model.InputShape);
        int k = Numerics.Tensor.Size(_model.Nodes[target].Layer.OutputShape);
        var result = new double[count * k];
        var outs = new double[_model.Nodes.Count][];
        var x = new double[inSize];
        for (int s = 0; s < count; s++)
        {
            if (_inputElements is { } ie)
                for (int i = 0; i < inSize; i++) x[i] = Round(features[s * inSize + i], ie[i]);
            else
            for (int i = 0; i < inSize; i++)
                x[i] = FixedPoint.FromRaw(FixedPoint.ToRaw(features[s * inSize + i], _input.Type, _input.Rounding, _input.Overflow), _input.Type);
            for (int n = 0; n <= target; n++)
            {
                var node = _model.Nodes[n];
                var ins = node.Inputs.Select(j => j < 0 ? x : outs[j]).ToArray();
                outs[n] = Quantize(n, Layer(node.Layer, ins));
            }
            outs[target].CopyTo(result, s * k);
        }
        return result;
    }

    private double[] Quantize(int n, double[] y)
    {
        if (_elements[n] is { } el)
        {
            for (int i = 0; i < y.Length; i++) y[i] = Round(y[i], el[i % el.Length]);
            return y;
        }
        if (_formats[n] is not { } f) return y;
        for (int i = 0; i < y.Length; i++) y[i] = FixedPoint.FromRaw(FixedPoint.ToRaw(y[i], f.Type, f.Rounding, f.Overflow), f.Type);
        return y;
    }

    private static double[] Layer(Layer layer, double[][] ins) => layer switch
    {
        Dense d => Activate(d.Activation, DenseForward(d, ins[0])),
        Conv c => Activate(c.Activation, ConvForward(c, ins[0])),
        DepthwiseConv2D dw => Activate(dw.Activation, DepthwiseForward(dw, ins[0])),
        Pool p => PoolForward(p, ins[0]),
        GlobalAveragePool => GlobalAverage(layer, ins[0]),
        Flatten or Dropout => (double[])ins[0].Clone(),
        Nn.Layers.Add => Sum(ins),
        ActivationLayer a => Activate(a.Activation, (double[])ins[0].Clone()),
        _ => throw new HetQException($"layer '{layer.Name}' ({layer.Type}): no exact reference for this layer type"),
    };

    private static double[] Activate(Activation a, double[] y)
    {
        switch (a.Kind)
        {
            case ActivationKind.Linear:
                return y;
            case ActivationKind.Relu:
                for (int i = 0; i < y.Length; i++) y[i] = Math.Max(y[i], 0);
                return y;
            case ActivationKind.HardTanh:
                for (int i = 0; i < y.Length; i++) y[i] = Math.Clamp(y[i], (double)a.Min, (double)a.Max);
                return y;
            case ActivationKind.Sigmoid:
                for (int i = 0; i < y.Length; i++) y[i] = 1 / (1 + Math.Exp(-y[i]));
                return y;
            case ActivationKind.Softmax:
                double max = y.Max(), sum = 0;
                for (int i = 0; i < y.Length; i++) sum += y[i] = Math.Exp(y[i] - max);
                for (int i = 0; i < y.Length; i++) y[i] /= sum;
                return y;
            default:
                throw new HetQException($"the {a.Name} activation has no exact reference");
        }
    }

    private static double[] DenseForward(Dense d, double[] x)
    {
        int inF = d.Kernel.Shape[0], outF = d.Units;
        var w = d.Kernel.Effective;
        var y = new double[outF];
        for (int j = 0; j < outF; j++)
        {
            double acc = d.Bias is null ? 0 : d.Bias.Effective[j];
            for (int i = 0; i < inF; i++) acc += x[i] * w[i * outF + j];
            y[j] = acc;
        }
        return y;
    }

    private static double[] ConvForward(Conv c, double[] x)
    {
        var g = c.Geometry;
        int cin = c.InputShapes[0][^1], f = c.Filters;
        var w = c.Kernel.Effective;
        var y = new double[g.OutH * g.OutW * f];
        for (int oy = 0; oy < g.OutH; oy++)
            for (int ox = 0; ox < g.OutW; ox++)
                for (int o = 0; o < f; o++)
                {
                    double acc = c.Bias is null ? 0 : c.Bias.Effective[o];
                    foreach (var (iy, ix, ky, kx) in g.Taps(oy, ox))
                        for (int ch = 0; ch < cin; ch++)
                            acc += x[(iy * g.InW + ix) * cin + ch] * w[((ky * g.KW + kx) * cin + ch) * f + o];
                    y[(oy * g.OutW + ox) * f + o] = acc;
                }
        return y;
    }

    private static double[] DepthwiseForward(DepthwiseConv2D dw, double[] x)
    {
        var g = dw.Geometry;
        int c = dw.InputShapes[0][^1], m = dw.DepthMultiplier, outC = c * m;
        var w = dw.Kernel.Effective;
        var y = new double[g.OutH * g.OutW * outC];
        for (int oy = 0; oy < g.OutH; oy++)
            for (int ox = 0; ox < g.OutW; ox++)
                for (int o = 0; o < outC; o++)
                {
                    double acc = dw.Bias is null ? 0 : dw.Bias.Effective[o];
                    int ch = o / m;
                    foreach (var (iy, ix, ky, kx) in g.Taps(oy, ox))
                        acc += x[(iy * g.InW + ix) * c + ch] * w[(ky * g.KW + kx) * outC + o];
                    y[(oy * g.OutW + ox) * outC + o] = acc;
                }
        return y;
    }

    private static double[] PoolForward(Pool p, double[] x)
    {
        var g = p.Geometry;
        int c = p.InputShapes[0][^1];
        var y = new double[g.OutH * g.OutW * c];
        for (int oy = 0; oy < g.OutH; oy++)
            for (int ox = 0; ox < g.OutW; ox++)
                for (int ch = 0; ch < c; ch++)
                {
                    double acc = p.IsMax ? double.NegativeInfinity : 0;
                    foreach (var (iy, ix, _, _) in g.Taps(oy, ox))
                    {
                        double v = x[(iy * g.InW + ix) * c + ch];
                        acc = p.IsMax ? Math.Max(acc, v) : acc + v;
                    }
                    // The freezer accepts only unpadded windows of 2^k elements: the division is exact.
                    y[(oy * g.OutW + ox) * c + ch] = p.IsMax ? acc : acc / (g.KH * g.KW);
                }
        return y;
    }

    private static double[] GlobalAverage(Layer layer, double[] x)
    {
        int c = layer.InputShapes[0][^1], positions = x.Length / c;
        var y = new double[c];
        for (int i = 0; i < positions; i++)
            for (int ch = 0; ch < c; ch++) y[ch] += x[i * c + ch];
        for (int ch = 0; ch < c; ch++) y[ch] /= positions;
        return y;
    }

    private static double[] Sum(double[][] ins)
    {
        var y = (double[])ins[0].Clone();
        for (int k = 1; k < ins.Length; k++)
            for (int i = 0; i < y.Length; i++) y[i] += ins[k][i];
        return y;
    }
}
