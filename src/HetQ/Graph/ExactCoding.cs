using HetQ.Nn;
using HetQ.Nn.Layers;
using HetQ.Numerics;
using HetQ.Quantization;

namespace HetQ.Graph;

/// <summary>The freezer's coding: the exact integer model of the fake-quantized one. Integer weights from the kernel
/// and bias quantizers, accumulator types inferred from the weights so that nothing overflows, and at each layer output
/// the activation quantizer's rounding and overflow (per element for a learned one); what is not exactly representable
/// is an error.</summary>
internal sealed class ExactCoding(FixedFormat input, IReadOnlyList<FixedFormat?>? inputElements = null) : Coding
{
    public override FixedFormat InputFormat => input;

    public override IReadOnlyList<FixedFormat?>? InputElements => inputElements;

    /// <summary>Raw integer codes of a quantized parameter (its fake-quantized values times 2^F must be integers of the quantizer's type).</summary>
    public override (long[] Raw, FixedType Type) Codes(Parameter p, string role)
    {
        var q = p.Quantizer ?? throw new LoweringException($"the {role} has no quantizer: float weights have no fixed-point type (set {role}_quantizer)");
        var t = q.Quantizer.HardwareType ?? throw new LoweringException($"{role} quantizer {q.Spec} has no fixed-point type: {q.Quantizer.NoHardwareTypeReason}");
        var raw = new long[p.Length];
        for (int i = 0; i < raw.Length; i++)
        {
            double v = Math.ScaleB((double)p.Effective[i], t.FractionalBits);
            if (v != Math.Round(v) || v < t.MinRaw || v > t.MaxRaw)
                throw new LoweringException($"{role} value {p.Effective[i]} is not a code of {t} (quantizer {q.Spec})");
            raw[i] = (long)v;
        }
        return (raw, t);
    }

    /// <summary>The narrowest type holding Σ x·w + b over every x of its type, from the actual weights.</summary>
    public override FixedType Accumulator(FixedType x, FixedType weightType, long[]? bias, FixedType? biasType, int outputs, Func<int, long[]> column)
    {
        int prodFrac = x.FractionalBits + weightType.FractionalBits;
        int frac = Math.Max(prodFrac, biasType?.FractionalBits ?? int.MinValue);
        Int128 lo = Int128.MaxValue, hi = Int128.MinValue;
        for (int j = 0; j < outputs; j++)
        {
            long b = bias is null ? 0 : bias[j];
            var (l, h) = TypeInference.DotBounds(column(j), x.MinRaw, x.MaxRaw, frac - prodFrac, b, biasType is { } t ? frac - t.FractionalBits : 0);
            if (l < lo) lo = l;
            if (h > hi) hi = h;
        }
        if (outputs == 0) lo = hi = 0;
        return TypeInference.Holding(lo, hi, frac);
    }

    public override Requantization Output(Layer layer, Activation activation, List<string> notes)
    {
        if (activation.Kind is not (ActivationKind.Linear or ActivationKind.Relu))
            throw new LoweringException($"the {activation.Name} activation is not exactly representable in fixed point (only relu and linear are"
                + (layer is ActivationLayer ? ", plus a softmax or sigmoid at the output)" : ")"));
        if (layer.OutputQuantizer?.Learned is { } learned)
        {
            // Learned bit widths: a format per element, re-expressed on the finest step and widest range of them.
            // One format for every element (a per-layer width): a plain requantization, the same arithmetic.
            if (learned.UniformFormat() is { } uniform) return new Requantization(activation.Kind == ActivationKind.Relu, uniform);
            var common = learned.CommonActivationFormat() ?? new FixedFormat(new FixedType(false, 1, 1), Rounding.RND, Overflow.SAT);
            return new Requantization(activation.Kind == ActivationKind.Relu, common, learned.ElementFormats());
        }
        FixedFormat? fmt = null;
        if (layer.OutputQuantizer is { } q)
            fmt = Freezer.ActivationFormat(q.Quantizer, out string? why) ?? throw new LoweringException($"activation quantizer {q.Spec}: {why}");
        return new Requantization(activation.Kind == ActivationKind.Relu, fmt);
    }

    /// <summary>The inputs aligned to the finest fractional step, wide enough for every sum.</summary>
    public override FixedType AddSum(TensorType[] inputs)
    {
        int frac = inputs.Max(t => t.Type.FractionalBits);
        Int128 lo = 0, hi = 0;
        foreach (var t in inputs)
        {
            lo += (Int128)t.Type.MinRaw << (frac - t.Type.FractionalBits);
            hi += (Int128)t.Type.MaxRaw << (frac - t.Type.FractionalBits);
        }
        return TypeInference.Holding(lo, hi, frac);
    }

    /// <summary>The sum of 2^k codes read with k more fractional bits: exact only without padding and for a power-of-two window.</summary>
    public override FixedType PoolSum(Window window, FixedType input)
    {
        int count = window.TapCount;
        if (!window.IsUnpadded) throw new LoweringException("average pooling with padding divides by a varying count: not exactly representable");
        if (!int.IsPow2(count)) throw new LoweringException($"average pooling over {count} elements (not a power of two) is not exactly representable");
        int k = int.Log2(count);
        return new FixedType(input.Signed, input.Width + k, input.IntegerBits);
    }

    /// <summary>Refused, as before the one lowering: the exact reference that eval compares the emulator with reads a
    /// dense layer's input as one vector.</summary>
    public override void CheckPointwiseDense(Layer layer) =>
        throw new LoweringException("dense on inputs of rank > 1 is not supported; flatten first");

    public override void CheckMaxPool(Layer layer)
    {
        if (layer.OutputQuantizer is not null) throw new LoweringException("an activation quantizer on max pooling is not supported");
    }

    public override void BatchNorm(Layer layer, List<string> notes) =>
        throw new LoweringException("batch normalization must be folded into the preceding dense or convolution layer before freezing (fold it and fine-tune; a standalone batch norm is not supported)");

    public override bool DropsOutputActivation(ActivationLayer layer) => layer.OutputQuantizer is null;

    /// <summary>Only a plain accumulator output: a requantization already there is not replaced.</summary>
    public override bool Fuses(Requantization producer) => producer.IsIdentity;
}
