using HetQ.Quantization;

namespace HetQ.Emulation;

/// <summary>Float input to raw code, as <see cref="FixedPoint.ToRaw"/> defines it, with the common roundings
/// (TRN, RND, RND_CONV) and saturation computed directly in double precision (exact: x·2^F is exact and the
/// rounding functions are exact on doubles); other modes call the spec.</summary>
public readonly struct InputQuantizer
{
    private readonly FixedFormat _f;
    private readonly double _scale, _lo, _hi;
    private readonly bool _fast;

    public InputQuantizer(FixedFormat format)
    {
        _f = format;
        _scale = Math.ScaleB(1.0, format.Type.FractionalBits);
        _lo = FixedPoint.MinRaw(format.Type, format.Overflow);
        _hi = format.Type.MaxRaw;
        _fast = format.Overflow is Overflow.SAT or Overflow.SAT_SYM && format.Rounding is Rounding.TRN or Rounding.RND or Rounding.RND_CONV
                && format.Type.Width <= 52 && Math.Abs(format.Type.FractionalBits) < 900;
    }

    public long Apply(float x)
    {
        if (!_fast || !float.IsFinite(x)) return FixedPoint.ToRaw(x, _f.Type, _f.Rounding, _f.Overflow);
        double v = x * _scale;
        v = _f.Rounding switch
        {
            Rounding.TRN => Math.Floor(v),
            Rounding.RND => Math.Floor(v + 0.5),
            _ => Math.Round(v, MidpointRounding.ToEven),
        };
        return (long)(v < _lo ? _lo : v > _hi ? _hi : v);
    }
}
