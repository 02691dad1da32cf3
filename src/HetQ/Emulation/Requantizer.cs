using System.Runtime.Intrinsics;
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

    /// <summary>True when <see cref="Apply(Vector256{int})"/> may be used: the accumulator fits 31 bits (caller's
    /// check) and the rounding, overflow and shift are ones the vector path computes.</summary>
    public bool Vectorizable => _identity || (!_general && _shift >= -30 && _shift <= 30 && _lo >= int.MinValue && _hi <= int.MaxValue);

    /// <summary>Eight accumulators at once; the same results as <see cref="Apply(long)"/>.</summary>
    public Vector256<int> Apply(Vector256<int> acc)
    {
        if (_relu) acc = Vector256.Max(acc, Vector256<int>.Zero);
        if (_identity) return acc;
        Vector256<int> q;
        if (_shift <= 0) q = Vector256.ShiftLeft(acc, -_shift);
        else
        {
            q = Vector256.ShiftRightArithmetic(acc, _shift);
            if (_rounding != Rounding.TRN)
            {
                var r = acc & Vector256.Create((int)_mask);
                var half = Vector256.Create((int)_half);
                var above = Vector256.GreaterThan(r, half);
                var tie = Vector256.Equals(r, half);
                var up = _rounding == Rounding.RND ? above | tie : above | (tie & Vector256.Equals(q & Vector256<int>.One, Vector256<int>.One));
                q -= up; // a true lane is -1
            }
        }
        return Vector256.Min(Vector256.Max(q, Vector256.Create((int)_lo)), Vector256.Create((int)_hi));
    }

    /// <summary>The output code of accumulator <paramref name="acc"/> (which has fromFrac fractional bits).</summary>
    public long Apply(long acc)
    {
        // Branch-free on the common path: the signs and comparisons of random data mispredict.
        if (_relu) acc &= ~(acc >> 63);
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
                long above = ((_half - r) >>> 63);             // r > half
                long tie = (((r ^ _half) - 1) >>> 63);          // r == half (both are non-negative)
                long odd = _rounding == Rounding.RND ? 1 : q & 1;
                q += above | (tie & odd);
            }
        }
        return Math.Min(Math.Max(q, _lo), _hi);
    }
}
