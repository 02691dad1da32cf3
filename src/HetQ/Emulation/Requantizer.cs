using HetQ.Graph;
using HetQ.Quantization;

namespace HetQ.Emulation;

/// <summary>One requantization step (optional ReLU, then a shift with rounding and an overflow rule) with the
/// common modes computed directly on integers; the rest go through <see cref="FixedPoint.Requantize"/>, the spec,
/// which tests pin this to.</summary>
public readonly struct Requantizer
{
    private readonly bool _relu, _identity, _general;
    private readonly int _shift, _fromFrac;
    private readonly long _lo, _hi, _half, _mask;
    private readonly Rounding _rounding;
    private readonly Overflow _overflow;
    private readonly FixedType _to;

    public Requantizer(Requantization r, int fromFrac)
    {
        _relu = r.Relu;
        _fromFrac = fromFrac;
        _identity = r.Format is null;
        if (r.Format is not FixedFormat f)
        {
            _general = false;
            _shift = 0;
            _lo = _hi = _half = _mask = 0;
            _rounding = Rounding.TRN;
            _overflow = Overflow.WRAP;
            _to = default;
            return;
        }
        _to = f.Type;
        _rounding = f.Rounding;
        _overflow = f.Overflow;
        _shift = fromFrac - f.Type.FractionalBits;
        _lo = FixedPoint.MinRaw(f.Type, f.Overflow);
        _hi = f.Type.MaxRaw;
        _general = _shift > 62 || _shift < -30 || f.Overflow is not (Overflow.SAT or Overflow.SAT_SYM)
                   || f.Rounding is not (Rounding.TRN or Rounding.RND or Rounding.RND_CONV);
        _half = _shift > 0 && _shift <= 62 ? 1L << (_shift - 1) : 0;
        _mask = _shift > 0 && _shift <= 62 ? (1L << _shift) - 1 : 0;
    }

    /// <summary>The output code of accumulator <paramref name="acc"/> (which has fromFrac fractional bits).</summary>
    public long Apply(long acc)
    {
        if (_relu && acc < 0) acc = 0;
        if (_identity) return acc;
        if (_general) return FixedPoint.Requantize(acc, _fromFrac, _to, _rounding, _overflow);
        long q;
        if (_shift <= 0) q = acc << -_shift;
        else
        {
            q = acc >> _shift;
            if (_rounding != Rounding.TRN)
            {
                long r = acc & _mask;
                if (r > _half || (r == _half && (_rounding == Rounding.RND || (q & 1) != 0))) q++;
            }
        }
        return q < _lo ? _lo : q > _hi ? _hi : q;
    }
}
