using HetQ.Quantization;

namespace HetQ.Tests.Quantization;

public class QuantizedBitsTests
{
    // quantized_bits(bits, integer, symmetric, keep_negative=True), alpha None (QKeras quantizers.py):
    //   m = 2^(bits - keep_negative), m_i = 2^integer, p = x·m/m_i,
    //   xq = m_i·clip(round(p), keep_negative·(-m + symmetric), m - 1)/m, round = tf.round (half to even).
    // quantized_bits(4,0): m = 8, m_i = 1: xq = clip(round(8x), -8, 7)/8.
    [Theory]
    [InlineData(0.3f, 0.25f)]        // 2.4 → 2
    [InlineData(0.0625f, 0f)]        // 0.5 → 0 (tie, even)
    [InlineData(0.1875f, 0.25f)]     // 1.5 → 2 (tie, even)
    [InlineData(0.3125f, 0.25f)]     // 2.5 → 2 (tie, even)
    [InlineData(-0.1875f, -0.25f)]   // -1.5 → -2 (tie, even)
    [InlineData(0.875f, 0.875f)]     // 7, the top code
    [InlineData(0.9375f, 0.875f)]    // 7.5 → 8 → clipped to 7
    [InlineData(5f, 0.875f)]
    [InlineData(-1f, -1f)]           // -8, the bottom code
    [InlineData(-1.0625f, -1f)]      // -8.5 → -8 (tie, even)
    [InlineData(-3f, -1f)]
    public void Four_bits_no_integer_rounds_half_to_even_and_clips(float x, float expected)
    {
        Assert.Equal(expected, new QuantizedBits(4, 0).Quantize(x));
    }

    [Theory]
    // quantized_bits(4,0,1): the clip becomes [-m + 1, m - 1] = [-7, 7].
    [InlineData(4, 0, true, -1f, -0.875f)]
    [InlineData(4, 0, true, 0.9375f, 0.875f)]
    // quantized_bits(4,2): m = 8, m_i = 4: xq = 4·clip(round(2x), -8, 7)/8 = clip(round(2x), -8, 7)/2.
    [InlineData(4, 2, false, 1.25f, 1f)]      // 2.5 → 2 (tie, even)
    [InlineData(4, 2, false, 1.75f, 2f)]      // 3.5 → 4 (tie, even)
    [InlineData(4, 2, false, 3.9f, 3.5f)]     // 7.8 → 8 → 7
    [InlineData(4, 2, false, -4.2f, -4f)]     // -8.4 → -8
    // quantized_bits(4,-1): m = 8, m_i = 1/2: xq = clip(round(16x), -8, 7)/16.
    [InlineData(4, -1, false, 0.09375f, 0.125f)] // 1.5 → 2
    [InlineData(4, -1, false, 1f, 0.4375f)]      // 16 → 7
    public void Integer_bits_and_symmetric_move_the_grid_and_the_clip(int bits, int integer, bool symmetric, float x, float expected)
    {
        Assert.Equal(expected, new QuantizedBits(bits, integer, symmetric).Quantize(x));
    }

    [Theory]
    // keep_negative=False: m = 2^bits = 16: xq = clip(round(16x), 0, 15)/16.
    [InlineData(-0.5f, 0f)]
    [InlineData(0.09375f, 0.125f)]   // 1.5 → 2
    [InlineData(0.96875f, 0.9375f)]  // 15.5 → 16 → 15
    public void Without_keep_negative_the_grid_is_unsigned(float x, float expected)
    {
        Assert.Equal(expected, new QuantizedBits(4, 0, keepNegative: false).Quantize(x));
    }

    [Theory]
    // bits=1 with keep_negative leaves no unsigned bit: xq = sign(x), sign(0) = +1.
    [InlineData(0.1f, 1f)]
    [InlineData(0f, 1f)]
    [InlineData(-0.1f, -1f)]
    [InlineData(-7f, -1f)]
    public void One_bit_is_the_sign(float x, float expected)
    {
        var q = new QuantizedBits(1, 0);
        Assert.Equal(expected, q.Quantize(x));
        Assert.Equal([-1.0, 1.0], q.Values);
        Assert.Equal(new FixedType(true, 2, 2), q.HardwareType);
    }

    [Fact]
    public void Value_sets_have_two_to_the_bits_codes_and_symmetric_drops_the_most_negative()
    {
        // quantized_bits(3,0): codes -4..3 over 4 → {-1, -0.75, ..., 0.75}.
        var plain = new QuantizedBits(3, 0).Values!;
        Assert.Equal(8, plain.Count);
        Assert.Equal([-1, -0.75, -0.5, -0.25, 0, 0.25, 0.5, 0.75], plain);
        var symmetric = new QuantizedBits(3, 0, symmetric: true).Values!;
        Assert.Equal(7, symmetric.Count);
        Assert.Equal(-0.75, symmetric[0]);
        Assert.Equal(8, new QuantizedBits(3, 0, keepNegative: false).Values!.Count);
        Assert.Equal(0.875, new QuantizedBits(3, 0, keepNegative: false).Values![^1]);
    }

    [Fact]
    public void Hardware_type_is_ap_fixed_with_one_more_integer_bit_for_the_sign()
    {
        // QKeras: ac_fixed<W, I, signed> is quantized_bits(W, I-1, keep_negative=True).
        Assert.Equal(new FixedType(true, 6, 1), new QuantizedBits(6, 0).HardwareType);
        Assert.Equal(new FixedType(true, 8, 4), new QuantizedBits(8, 3).HardwareType);
        Assert.Equal(new FixedType(true, 8, 4), new QuantizedBits(8, 3, symmetric: true).HardwareType);
        Assert.Equal(new FixedType(false, 4, 0), new QuantizedBits(4, 0, keepNegative: false).HardwareType);
        Assert.Equal(new FixedFormat(new FixedType(true, 6, 1), Rounding.RND_CONV, Overflow.SAT), new QuantizedBits(6, 0).Grid);
        Assert.Equal(Overflow.SAT_SYM, new QuantizedBits(6, 0, symmetric: true).Grid!.Value.Overflow);
    }

    [Fact]
    public void Constant_alpha_scales_the_grid_and_keeps_a_type_only_when_it_is_a_power_of_two()
    {
        // xq = alpha·grid value, the multiply in float32.
        Assert.Equal(0.25f, new QuantizedBits(4, 0, alpha: Alpha.Of(1)).Quantize(0.3f));
        Assert.Equal(0.125f, new QuantizedBits(4, 0, alpha: Alpha.Of(0.5)).Quantize(0.3f));
        Assert.Equal(0.7f * 0.25f, new QuantizedBits(4, 0, alpha: Alpha.Of(0.7)).Quantize(0.3f));
        Assert.Equal(new FixedType(true, 4, 1), new QuantizedBits(4, 0, alpha: Alpha.Of(1)).HardwareType);
        Assert.Equal(new FixedType(true, 4, 0), new QuantizedBits(4, 0, alpha: Alpha.Of(0.5)).HardwareType);
        var odd = new QuantizedBits(4, 0, alpha: Alpha.Of(0.7));
        Assert.Null(odd.HardwareType);
        Assert.Contains("not a power of two", odd.NoHardwareTypeReason, StringComparison.Ordinal);
    }

    [Fact]
    public void Auto_alpha_scales_each_channel_by_its_max_and_rounds_magnitudes_half_up()
    {
        // quantized_bits(4,0,alpha='auto'): symmetric, levels = (2^3 - 1)·2 = 14, m = 8, m_i = 1.
        // Channel 0 = [0.875, -0.3]: scale = 0.875·2/14 = 0.125;  z = floor(|x|/0.125 + 0.5) = [7, 2]
        //   → [0.875, -0.25], reported scale 0.125·m = 1.
        // Channel 1 = [1.75, -0.2]: scale = 1.75·2/14 = 0.25; z = [7, floor(0.8 + 0.5) = 1] → [1.75, -0.25], scale 2.
        var q = new QuantizedBits(4, 0, alpha: Alpha.Auto);
        Assert.True(q.Symmetric);
        Assert.Null(q.HardwareType);
        Assert.Null(q.Values);
        float[] x = [0.875f, 1.75f, -0.3f, -0.2f];
        float[] y = new float[4], scale = new float[2];
        q.Forward(x, y, 2, scale);
        Assert.Equal([0.875f, 1.75f, -0.25f, -0.25f], y);
        Assert.Equal([1f, 2f], scale);

        // One channel [0.875, -0.3, 0.1, 0.0625]: scale 0.125; 0.0625/0.125 = 0.5 → floor(1.0) = 1 (half up, not to even).
        q.Forward([0.875f, -0.3f, 0.1f, 0.0625f], y);
        Assert.Equal([0.875f, -0.25f, 0.125f, 0.125f], y);
    }

    [Fact]
    public void Auto_po2_alpha_picks_a_power_of_two_scale_by_least_squares()
    {
        // quantized_bits(4,0,alpha='auto_po2'), x = [0.6, -0.3, 0.1, 0.05]:
        //   scale = 0.6·2/14 = 0.0857 → 2^round(log2 0.0857 = -3.54) = 2^-4 = 0.0625
        //   z = min(floor(|x|/0.0625 + 0.5), 7)·sign = [min(10, 7), -5, 2, 1] = [7, -5, 2, 1]
        //   least squares: mean(x·z)/mean(z²) = 1.4875/19.75 = 0.0753 → 2^round(-3.73) = 0.0625 (stable over 5 rounds)
        //   result = 0.0625·z = [0.4375, -0.3125, 0.125, 0.0625]; reported scale 0.0625·8 = 0.5
        var q = new QuantizedBits(4, 0, alpha: Alpha.AutoPo2);
        float[] y = new float[4], scale = new float[1];
        q.Forward([0.6f, -0.3f, 0.1f, 0.05f], y, 1, scale);
        Assert.Equal([0.4375f, -0.3125f, 0.125f, 0.0625f], y);
        Assert.Equal([0.5f], scale);
        float[] computed = new float[1];
        q.ComputeScale([0.6f, -0.3f, 0.1f, 0.05f], 1, computed);
        Assert.Equal(scale, computed);
    }

    [Fact]
    public void Auto_alpha_on_an_all_zero_channel_gives_zero()
    {
        float[] y = new float[3];
        new QuantizedBits(4, 0, alpha: Alpha.Auto).Forward([0f, 0f, 0f], y);
        Assert.Equal([0f, 0f, 0f], y);
    }

    [Fact]
    public void Gradient_is_the_identity()
    {
        float[] x = [-5f, -0.3f, 0f, 0.3f, 5f], g = [1f, 2f, 3f, 4f, 5f], gi = new float[5];
        new QuantizedBits(4, 0).Backward(x, g, gi);
        Assert.Equal(g, gi);
        new QuantizedBits(4, 0, alpha: Alpha.Auto).Backward(x, g, gi);
        Assert.Equal(g, gi);
    }

    [Fact]
    public void Quantized_bits_is_the_fixed_point_spec_with_convergent_rounding()
    {
        // quantized_bits(6,1) ≡ ap_fixed<6,2,RND_CONV,SAT> on every input of a fine sweep.
        var q = new QuantizedBits(6, 1);
        var t = new FixedType(true, 6, 2);
        for (int k = -3000; k <= 3000; k++)
        {
            float x = k / 512f;
            double expected = FixedPoint.FromRaw(FixedPoint.ToRaw(x, t, Rounding.RND_CONV, Overflow.SAT), t);
            Assert.Equal((float)expected, q.Quantize(x));
        }
    }
}
