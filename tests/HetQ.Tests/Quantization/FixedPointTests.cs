using HetQ.Quantization;

namespace HetQ.Tests.Quantization;

public class FixedPointTests
{
    private static readonly Rounding[] AllRoundings = Enum.GetValues<Rounding>();
    private static readonly Overflow[] AllOverflows = Enum.GetValues<Overflow>();

    [Fact]
    public void Integer_requantize_equals_the_real_number_definition_for_every_code_type_and_mode()
    {
        // Every code of every small source type, into every small target type, in every mode:
        // the shift-based integer path must give exactly the code the real-number definition gives.
        var targets = new List<FixedType>();
        foreach (bool signed in new[] { true, false })
            for (int w = 1; w <= 6; w++)
                for (int i = -2; i <= 8; i++)
                    targets.Add(new FixedType(signed, w, i));

        long checkedCount = 0;
        foreach (bool signed in new[] { true, false })
        {
            for (int w = 1; w <= 6; w++)
            {
                for (int fromFrac = -1; fromFrac <= 7; fromFrac++)
                {
                    var source = new FixedType(signed, w, w - fromFrac);
                    for (long raw = source.MinRaw; raw <= source.MaxRaw; raw++)
                    {
                        double x = FixedPoint.FromRaw(raw, source);
                        foreach (var to in targets)
                            foreach (var r in AllRoundings)
                                foreach (var o in AllOverflows)
                                {
                                    long expected = FixedPoint.ToRaw(x, to, r, o);
                                    long actual = FixedPoint.Requantize(raw, fromFrac, to, r, o);
                                    if (expected != actual)
                                        Assert.Fail($"{x} ({raw}·2^-{fromFrac}) into {to.ToString(r, o)}: ToRaw {expected}, Requantize {actual}");
                                    checkedCount++;
                                }
                    }
                }
            }
        }
        Assert.True(checkedCount > 1_000_000);
    }

    [Fact]
    public void Every_code_converts_back_to_itself_in_every_mode()
    {
        foreach (bool signed in new[] { true, false })
            for (int w = 1; w <= 8; w++)
                for (int i = -3; i <= 10; i++)
                {
                    var t = new FixedType(signed, w, i);
                    for (long raw = t.MinRaw; raw <= t.MaxRaw; raw++)
                        foreach (var r in AllRoundings)
                            foreach (var o in AllOverflows)
                            {
                                long expected = o == Overflow.SAT_SYM && raw == t.MinRaw && signed ? FixedPoint.MinRaw(t, o) : raw;
                                Assert.Equal(expected, FixedPoint.ToRaw(FixedPoint.FromRaw(raw, t), t, r, o));
                                Assert.Equal(expected, FixedPoint.Requantize(raw, t.FractionalBits, t, r, o));
                            }
                }
    }

    // ap_fixed<4,2>: F = 2, step 0.25, codes -8..7 (values -2 .. 1.75).
    // Ties: 0.125 = raw 0.5, -0.125 = raw -0.5, 0.375 = raw 1.5, -0.375 = raw -1.5.
    [Theory]
    [InlineData(0.125, Rounding.TRN, 0)]          // floor(0.5)
    [InlineData(0.125, Rounding.TRN_ZERO, 0)]
    [InlineData(0.125, Rounding.RND, 1)]          // ties toward +inf
    [InlineData(0.125, Rounding.RND_ZERO, 0)]     // ties toward zero
    [InlineData(0.125, Rounding.RND_INF, 1)]      // ties away from zero
    [InlineData(0.125, Rounding.RND_MIN_INF, 0)]  // ties toward -inf
    [InlineData(0.125, Rounding.RND_CONV, 0)]     // ties to even: 0
    [InlineData(-0.125, Rounding.TRN, -1)]        // floor(-0.5)
    [InlineData(-0.125, Rounding.TRN_ZERO, 0)]
    [InlineData(-0.125, Rounding.RND, 0)]
    [InlineData(-0.125, Rounding.RND_ZERO, 0)]
    [InlineData(-0.125, Rounding.RND_INF, -1)]
    [InlineData(-0.125, Rounding.RND_MIN_INF, -1)]
    [InlineData(-0.125, Rounding.RND_CONV, 0)]
    [InlineData(0.375, Rounding.TRN, 1)]
    [InlineData(0.375, Rounding.TRN_ZERO, 1)]
    [InlineData(0.375, Rounding.RND, 2)]
    [InlineData(0.375, Rounding.RND_ZERO, 1)]
    [InlineData(0.375, Rounding.RND_INF, 2)]
    [InlineData(0.375, Rounding.RND_MIN_INF, 1)]
    [InlineData(0.375, Rounding.RND_CONV, 2)]     // 1.5 → 2 (even)
    [InlineData(-0.375, Rounding.TRN, -2)]
    [InlineData(-0.375, Rounding.TRN_ZERO, -1)]
    [InlineData(-0.375, Rounding.RND, -1)]
    [InlineData(-0.375, Rounding.RND_ZERO, -1)]
    [InlineData(-0.375, Rounding.RND_INF, -2)]
    [InlineData(-0.375, Rounding.RND_MIN_INF, -2)]
    [InlineData(-0.375, Rounding.RND_CONV, -2)]   // -1.5 → -2 (even)
    [InlineData(0.3, Rounding.RND_CONV, 1)]       // 1.2 → 1, not a tie
    [InlineData(-0.3, Rounding.TRN, -2)]          // floor(-1.2)
    [InlineData(-0.3, Rounding.TRN_ZERO, -1)]
    public void Rounding_modes_follow_ap_fixed_at_ties_and_between_codes(double x, Rounding rounding, long expected)
    {
        var t = new FixedType(true, 4, 2);
        Assert.Equal(expected, FixedPoint.ToRaw(x, t, rounding, Overflow.SAT));
    }

    // ap_fixed<4,2> codes -8..7; ap_ufixed<4,2> codes 0..15 (values 0 .. 3.75).
    [Theory]
    [InlineData(true, 2.0, Overflow.WRAP, -8)]       // raw 8 wraps to -8
    [InlineData(true, 2.0, Overflow.SAT, 7)]
    [InlineData(true, 2.0, Overflow.SAT_ZERO, 0)]
    [InlineData(true, 2.0, Overflow.SAT_SYM, 7)]
    [InlineData(true, -2.0, Overflow.WRAP, -8)]      // raw -8 is in range
    [InlineData(true, -2.0, Overflow.SAT, -8)]
    [InlineData(true, -2.0, Overflow.SAT_ZERO, -8)]
    [InlineData(true, -2.0, Overflow.SAT_SYM, -7)]   // the most negative code is never produced
    [InlineData(true, -2.25, Overflow.WRAP, 7)]      // raw -9 + 16
    [InlineData(true, -2.25, Overflow.SAT, -8)]
    [InlineData(true, -2.25, Overflow.SAT_ZERO, 0)]
    [InlineData(true, -2.25, Overflow.SAT_SYM, -7)]
    [InlineData(true, 1.875, Overflow.SAT, 7)]       // RND_CONV: 7.5 → 8, then saturates
    [InlineData(true, 1.875, Overflow.WRAP, -8)]
    [InlineData(true, 5.0, Overflow.WRAP, 4)]        // raw 20 - 16
    [InlineData(false, 5.0, Overflow.WRAP, 4)]       // raw 20 - 16
    [InlineData(false, 5.0, Overflow.SAT, 15)]
    [InlineData(false, -0.25, Overflow.WRAP, 15)]    // raw -1 + 16
    [InlineData(false, -0.25, Overflow.SAT, 0)]
    [InlineData(false, -0.25, Overflow.SAT_ZERO, 0)]
    [InlineData(false, -0.25, Overflow.SAT_SYM, 0)]
    public void Overflow_modes_follow_ap_fixed(bool signed, double x, Overflow overflow, long expected)
    {
        var t = new FixedType(signed, 4, 2);
        Assert.Equal(expected, FixedPoint.ToRaw(x, t, Rounding.RND_CONV, overflow));
        Assert.Equal(expected, FixedPoint.Requantize((long)(x * 8), 3, t, Rounding.RND_CONV, overflow));
    }

    [Fact]
    public void Integer_bits_may_be_negative_or_exceed_the_width()
    {
        var small = new FixedType(true, 4, -2); // F = 6: codes -8..7 are -0.125 .. 0.109375
        Assert.Equal(0.015625, small.Step);
        Assert.Equal(-0.125, small.MinValue);
        Assert.Equal(0.109375, small.MaxValue);
        Assert.Equal(3, FixedPoint.ToRaw(0.05, small, Rounding.RND, Overflow.SAT)); // 3.2 → 3

        var coarse = new FixedType(true, 4, 6); // F = -2: step 4, codes -8..7 are -32 .. 28
        Assert.Equal(4.0, coarse.Step);
        Assert.Equal(2, FixedPoint.ToRaw(6.0, coarse, Rounding.RND_CONV, Overflow.SAT)); // 1.5 → 2 (even)
        Assert.Equal(1, FixedPoint.ToRaw(6.0, coarse, Rounding.RND_ZERO, Overflow.SAT));
        Assert.Equal(28.0, FixedPoint.FromRaw(FixedPoint.ToRaw(100, coarse, Rounding.RND, Overflow.SAT), coarse));
    }

    [Fact]
    public void Wide_types_and_extreme_shifts_stay_exact()
    {
        var wide = new FixedType(true, 62, 62);
        Assert.Equal(wide.MaxRaw, FixedPoint.ToRaw(1e30, wide, Rounding.TRN, Overflow.SAT));
        long mantissa = (long)Math.ScaleB(1e30, -47); // 1e30 = mantissa·2^47 exactly (2^99 ≤ 1e30 < 2^100)
        Assert.Equal(1e30, Math.ScaleB((double)mantissa, 47));
        Assert.Equal(FixedPoint.Requantize(mantissa, -47, wide, Rounding.TRN, Overflow.WRAP),
            FixedPoint.ToRaw(1e30, wide, Rounding.TRN, Overflow.WRAP)); // wraps modulo 2^62
        Assert.Equal(0, FixedPoint.ToRaw(Math.ScaleB(3, 70), wide, Rounding.TRN, Overflow.WRAP)); // a multiple of 2^62
        Assert.Equal(1L << 60, FixedPoint.ToRaw(Math.ScaleB(1, 60), wide, Rounding.TRN, Overflow.SAT));
        Assert.Equal(wide.MaxRaw, FixedPoint.ToRaw(Math.ScaleB(1, 61), wide, Rounding.TRN, Overflow.SAT));

        var t = new FixedType(true, 8, 4);
        foreach (var r in AllRoundings)
            foreach (var o in AllOverflows)
                foreach (long raw in new[] { long.MinValue, long.MinValue + 1, -1L, 0L, 1L, long.MaxValue })
                    foreach (int fromFrac in new[] { -300, -70, -64, -63, 60, 63, 64, 65, 66, 130, 1000 })
                    {
                        double x = Math.ScaleB((double)raw, -fromFrac);
                        if (raw is long.MinValue + 1 or long.MaxValue) continue; // not exact as a double
                        Assert.Equal(FixedPoint.ToRaw(x, t, r, o), FixedPoint.Requantize(raw, fromFrac, t, r, o));
                    }
    }

    [Fact]
    public void Non_finite_inputs_saturate_or_are_rejected()
    {
        var t = new FixedType(true, 4, 2);
        Assert.Equal(7, FixedPoint.ToRaw(double.PositiveInfinity, t, Rounding.TRN, Overflow.SAT));
        Assert.Equal(-7, FixedPoint.ToRaw(double.NegativeInfinity, t, Rounding.TRN, Overflow.SAT_SYM));
        Assert.Equal(0, FixedPoint.ToRaw(double.NegativeInfinity, t, Rounding.TRN, Overflow.SAT_ZERO));
        Assert.Throws<ArgumentException>(() => FixedPoint.ToRaw(double.NaN, t, Rounding.TRN, Overflow.SAT));
        Assert.Throws<ArgumentException>(() => FixedPoint.ToRaw(double.PositiveInfinity, t, Rounding.TRN, Overflow.WRAP));
    }

    [Fact]
    public void Tiny_values_keep_their_sign_when_scaling_underflows()
    {
        var t = new FixedType(true, 8, 400); // F = -392
        Assert.Equal(-1, FixedPoint.ToRaw(-double.Epsilon, t, Rounding.TRN, Overflow.SAT));
        Assert.Equal(0, FixedPoint.ToRaw(-double.Epsilon, t, Rounding.TRN_ZERO, Overflow.SAT));
        Assert.Equal(0, FixedPoint.ToRaw(double.Epsilon, t, Rounding.RND, Overflow.SAT));
    }

    [Fact]
    public void Sat_sym_on_a_one_bit_signed_type_keeps_minus_one_as_ap_fixed_does()
    {
        // ap_fixed sets MIN|1 on underflow, which for one bit is the code -1 itself.
        var t = new FixedType(true, 1, 1);
        Assert.Equal(-1, FixedPoint.ToRaw(-5, t, Rounding.TRN, Overflow.SAT_SYM));
        Assert.Equal(-1, FixedPoint.ToRaw(-1, t, Rounding.TRN, Overflow.SAT_SYM));
    }
}
