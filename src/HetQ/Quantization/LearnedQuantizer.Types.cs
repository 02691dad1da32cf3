namespace HetQ.Quantization;

/// <summary>The fixed-point types a learned quantizer gives the frozen graph: each activation element's format from its
/// range and F, the widths the cost and the penalty read, and the common types of a kernel and an activation.</summary>
public sealed partial class LearnedQuantizer
{
    /// <summary>The fixed-point format of every activation element, null where its width is 0 (pruned: the element
    /// is always 0), with this quantizer's rounding and overflow.</summary>
    public FixedFormat?[] ElementFormats() =>
        Array.ConvertAll(ElementTypes(), t => t is { } type ? new FixedFormat(type, Rounding, Overflow) : (FixedFormat?)null);

    /// <summary>The one format every activation element has, when they all have the same one and none is pruned (a
    /// per-layer width, or per-channel widths that came out equal): the frozen graph then needs no per-element types.</summary>
    public FixedFormat? UniformFormat()
    {
        var formats = ElementFormats();
        if (formats.Length == 0 || formats[0] is not { } first) return null;
        foreach (var f in formats)
            if (f != first) return null;
        return first;
    }

    /// <summary>The fixed-point type of every activation element (<see cref="ElementType(int)"/>), null where its width
    /// is 0, from one pass over the ranges.</summary>
    public FixedType?[] ElementTypes()
    {
        var (ghi, glo) = GroupRanges();
        var types = new FixedType?[_size];
        for (int e = 0; e < _size; e++)
            if (ElementType(e, ghi, glo) is { Width: > 0 } t) types[e] = new FixedType(t.Signed, t.Width, t.Integer);
        return types;
    }

    /// <summary>(signed, width, ap_fixed integer bits incl. sign) of activation element e from its group's range and F.</summary>
    public (bool Signed, int Width, int Integer) ElementType(int e)
    {
        var (ghi, glo) = GroupRanges();
        return ElementType(e, ghi, glo);
    }

    private (bool Signed, int Width, int Integer) ElementType(int e, float[] ghi, float[] glo)
    {
        int g = Group(e);
        var (signed, integer) = IntegerBits(ghi[g], glo[g]);
        return integer == int.MinValue ? (signed, 0, 0) : (signed, integer + Fractional(g), integer);
    }

    /// <summary>Signed when the range has negatives; ap_fixed integer bits k + I with I = floor(log2 max|x|) + 1, or
    /// int.MinValue for an empty range (width 0).</summary>
    private static (bool Signed, int Integer) IntegerBits(float hi, float lo)
    {
        bool signed = lo < 0;
        float m = Math.Max(hi, -lo);
        if (!(m > 0)) return (signed, int.MinValue);
        return (signed, (signed ? 1 : 0) + (int)Math.Floor(Math.Log2(m)) + 1);
    }

    /// <summary>The range of each bit group (max, min) from the per-element range (<paramref name="range"/>, in the layout
    /// of <see cref="Range"/>; by default <see cref="Range"/> itself).</summary>
    private (float[] Hi, float[] Lo) GroupRanges(float[]? range = null)
    {
        var r = range ?? Range!.Value;
        int groups = FracBits!.Length;
        var hi = new float[groups];
        var lo = new float[groups];
        for (int e = 0; e < _size; e++)
        {
            int g = Group(e);
            if (r[e] > hi[g]) hi[g] = r[e];
            if (r[_size + e] < lo[g]) lo[g] = r[_size + e];
        }
        return (hi, lo);
    }

    /// <summary>Element widths of an activation (0 = pruned): what the cost and the penalty multiply.</summary>
    public int[] ElementWidths()
    {
        var w = new int[_size];
        GroupTypes(Range!.Value);
        for (int e = 0; e < _size; e++)
        {
            int g = Group(e), integer = _groupInt[g];
            w[e] = integer == int.MinValue ? 0 : Math.Max(0, integer + Fractional(g));
        }
        return w;
    }

    // The finest step among non-zero outputs and the largest |code| at that step: the frozen kernel's common type.
    private void CommonWeightType(ReadOnlySpan<float> y)
    {
        double fineScale = 0;
        for (int i = 0, e = 0; i < y.Length; i++, e = e + 1 == _size ? 0 : e + 1)
            if (y[i] != 0 && _scale[e] > fineScale) fineScale = _scale[e];
        double maxAbs = 0;
        if (fineScale != 0)
            for (int i = 0; i < y.Length; i++)
                if (y[i] != 0) maxAbs = Math.Max(maxAbs, Math.Abs(y[i] * fineScale));
        _lastFrac = fineScale == 0 ? int.MinValue : (int)Math.Round(Math.Log2(fineScale));
        _lastMax = maxAbs;
    }

    /// <summary>Weights: the common type holding every code of the last forward (the finest step, the widest range).
    /// Activations: the common type of all element formats.</summary>
    public FixedType? HardwareType
    {
        get
        {
            if (FracBits is null) return null;
            if (Role == LearnedRole.Weight)
            {
                if (_lastFrac == int.MinValue) return new FixedType(true, 1, 1);
                int bits = _lastMax < 1 ? 0 : (int)Math.Floor(Math.Log2(_lastMax)) + 1;
                int width = bits + 1;
                return new FixedType(true, width, width - _lastFrac);
            }
            return CommonActivationFormat()?.Type ?? new FixedType(false, 1, 1);
        }
    }

    public string? NoHardwareTypeReason => FracBits is null ? "the learned quantizer is not bound to a tensor" : null;

    /// <summary>The finest step and widest range over all element formats of an activation; null when every element is pruned.</summary>
    public FixedFormat? CommonActivationFormat()
    {
        int frac = int.MinValue, top = int.MinValue;
        bool signed = false;
        foreach (var element in ElementFormats())
            if (element is { } f)
            {
                frac = Math.Max(frac, f.Type.FractionalBits);
                int intBits = f.Type.IntegerBits - (f.Type.Signed ? 1 : 0);
                top = Math.Max(top, intBits);
                signed |= f.Type.Signed;
            }
        if (frac == int.MinValue) return null;
        int k = signed ? 1 : 0;
        int width = k + top + frac;
        return new FixedFormat(new FixedType(signed, Math.Max(1, width), k + top + (width < 1 ? 1 - width : 0)), Rounding.RND, Overflow.SAT);
    }
}
