using HetQ.Quantization;

namespace HetQ.Tests.Quantization;

public class ActivationQuantizerTests
{
    private static float[] Gradient(IQuantizer q, params float[] x)
    {
        float[] ones = Enumerable.Repeat(1f, x.Length).ToArray(), g = new float[x.Length];
        q.Backward(x, ones, g);
        return g;
    }

    // quantized_relu(4,2): m = 2^4 = 16, m_i = 4: p = x·m/m_i = 4x; xq = 4·clip(round(4x)/16, 0, 15/16)
    // → k/4 for k = 0..15 (ap_ufixed<4,2>).
    [Theory]
    [InlineData(0.125f, 0f)]       // 0.5 → 0 (tie, even)
    [InlineData(0.375f, 0.5f)]     // 1.5 → 2
    [InlineData(0.625f, 0.5f)]     // 2.5 → 2
    [InlineData(3.7f, 3.75f)]      // 14.8 → 15
    [InlineData(3.9f, 3.75f)]      // 15.6 → 16 → clipped to 15/16
    [InlineData(-1f, 0f)]
    public void Quantized_relu_rounds_onto_the_unsigned_grid(float x, float expected)
    {
        var q = new QuantizedRelu(4, 2);
        Assert.Equal(expected, q.Quantize(x));
        Assert.Equal(new FixedType(false, 4, 2), q.HardwareType);
        Assert.Equal(16, q.Values!.Count);
    }

    [Fact]
    public void Quantized_relu_gradient_is_that_of_the_relu_clipped_at_the_top_value()
    {
        // x_u = where(x <= m_i - m_f, relu(x), m_i - m_f), m_i - m_f = 4 - 2^(2-4) = 3.75; relu'(0) = 0.
        Assert.Equal([0f, 0f, 1f, 1f, 0f], Gradient(new QuantizedRelu(4, 2), -1f, 0f, 1f, 3.75f, 3.8f));
        // leaky: the slope below zero (leaky_relu's gradient at 0 is the slope too).
        Assert.Equal([0.25f, 0.25f, 1f, 0f], Gradient(new QuantizedRelu(4, 0, negativeSlope: 0.25), -1f, 0f, 0.5f, 0.9f));
    }

    // quantized_relu(4,0,negative_slope=0.25): non_sign_bits = 3, m = 8, m_i = 1, p = 8x;
    //   positive: clip(round(p)/8, 0, 7/8); negative: 0.25·clip(round(p·0.25)·0.5, -1, 0)  (neg_factor = 1/(0.25·8))
    [Theory]
    [InlineData(-0.25f, 0f)]       // p·s = -0.5 → -0 (tie, even)
    [InlineData(-0.5f, -0.125f)]   // p·s = -1 → -1·0.5·0.25
    [InlineData(-0.75f, -0.25f)]   // p·s = -1.5 → -2 → -1 → -0.25
    [InlineData(-3f, -0.25f)]      // clipped at -1 → -slope
    [InlineData(0.4f, 0.375f)]     // p = 3.2 → 3 → 3/8
    [InlineData(2f, 0.875f)]
    public void Leaky_quantized_relu_adds_a_clipped_negative_part(float x, float expected)
    {
        var q = new QuantizedRelu(4, 0, negativeSlope: 0.25);
        Assert.Equal(expected, q.Quantize(x));
        Assert.Equal([-0.25, -0.125, 0, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875], q.Values);
        Assert.Equal(new FixedType(true, 4, 1), q.HardwareType);
    }

    // quantized_relu(4,0,1) (use_sigmoid): m = 16, p = hard_sigmoid(x)·16, xq = clip(2·round(p)/16 - 1, 0, 15/16).
    [Theory]
    [InlineData(0.25f, 0.25f)]     // hsig 0.625, p = 10 → 20/16 - 1
    [InlineData(0.1f, 0.125f)]     // hsig 0.55, p = 8.8 → 9 → 18/16 - 1
    [InlineData(0.95f, 0.9375f)]   // p = 15.6 → 16 → 1 → clipped to 15/16
    [InlineData(-0.5f, 0f)]
    public void Quantized_relu_with_sigmoid_uses_the_hard_sigmoid(float x, float expected)
    {
        var q = new QuantizedRelu(4, 0, useSigmoid: true);
        Assert.Equal(expected, q.Quantize(x));
        // {0, 1/8, ..., 7/8} from 2k/16 - 1, plus the clip value 15/16.
        Assert.Equal(9, q.Values!.Count);
        Assert.Equal(0.9375, q.Values![^1]);
        Assert.Equal(new FixedType(false, 4, 0), q.HardwareType);
    }

    [Fact]
    public void Relu_upper_bound_applies_only_without_the_quantized_clip()
    {
        // is_quantized_clip=True (the default) takes precedence: the bound is ignored.
        Assert.Equal(3.5f, new QuantizedRelu(4, 2, reluUpperBound: 3).Quantize(3.4f));
        var bounded = new QuantizedRelu(4, 2, reluUpperBound: 3, isQuantizedClip: false);
        Assert.Equal(3f, bounded.Quantize(3.4f));   // 13.6 → 14 → 3.5, then min(3.5, 3)
        Assert.Equal(2.5f, bounded.Quantize(2.5f));
        Assert.Equal([1f, 1f, 0f], Gradient(bounded, 0.5f, 3f, 3.5f));
        Assert.Equal(new FixedType(false, 4, 2), bounded.HardwareType);
        var offGrid = new QuantizedRelu(4, 2, reluUpperBound: 1.3, isQuantizedClip: false);
        Assert.Null(offGrid.HardwareType);
        Assert.Contains("relu_upper_bound=1.3", offGrid.NoHardwareTypeReason, StringComparison.Ordinal);
    }

    // quantized_tanh(4): m = 2^3 = 8, p = 2·hard_sigmoid(x) - 1 = clip(x, -1, 1), y = clip(round(8p)/8, -1, 7/8).
    [Theory]
    [InlineData(false, 0.3f, 0.25f)]       // 2.4 → 2
    [InlineData(false, 0.0625f, 0f)]       // 0.5 → 0 (tie, even)
    [InlineData(false, 0.1875f, 0.25f)]    // 1.5 → 2 (tie, even)
    [InlineData(false, -0.1875f, -0.25f)]
    [InlineData(false, 0.95f, 0.875f)]     // 7.6 → 8 → clipped to 7/8
    [InlineData(false, -2f, -1f)]
    [InlineData(true, -2f, -0.875f)]       // symmetric: lower clip -1 + 1/8
    public void Quantized_tanh_is_the_hard_tanh_on_the_ap_fixed_bits_1_grid(bool symmetric, float x, float expected)
    {
        var q = new QuantizedTanh(4, symmetric);
        Assert.Equal(expected, q.Quantize(x));
        Assert.Equal(new FixedType(true, 4, 1), q.HardwareType);
        Assert.Equal(symmetric ? 15 : 16, q.Values!.Count);
    }

    [Fact]
    public void Quantized_tanh_gradient_passes_only_inside_both_clips()
    {
        // d/dx clip(round_through(clip(x,-1,1)·m)/m, lo, hi): 1 where |x| ≤ 1 and the rounded value is in [lo, hi].
        Assert.Equal([0f, 1f, 1f, 0f, 0f], Gradient(new QuantizedTanh(4), -1.5f, -1f, 0.5f, 0.95f, 1f));
    }

    // quantized_sigmoid(4): m = 16, y = clip(round(16·hard_sigmoid(x))/16, 0, 15/16).
    [Theory]
    [InlineData(false, 0f, 0.5f)]          // 8
    [InlineData(false, 0.0625f, 0.5f)]     // hsig 0.53125 → 8.5 → 8 (tie, even)
    [InlineData(false, 0.1875f, 0.625f)]   // 9.5 → 10 (tie, even)
    [InlineData(false, -0.1875f, 0.375f)]  // 6.5 → 6 (tie, even)
    [InlineData(false, 2f, 0.9375f)]       // 16 → clipped
    [InlineData(false, -2f, 0f)]
    [InlineData(true, -2f, 0.0625f)]       // symmetric: lower clip 1/16
    public void Quantized_sigmoid_is_the_hard_sigmoid_on_the_ap_ufixed_bits_0_grid(bool symmetric, float x, float expected)
    {
        var q = new QuantizedSigmoid(4, symmetric);
        Assert.Equal(expected, q.Quantize(x));
        Assert.Equal(new FixedType(false, 4, 0), q.HardwareType);
        Assert.Equal([0f, 0.5f, 0.5f, 0f], Gradient(new QuantizedSigmoid(4), -1.5f, -0.5f, 0.5f, 2f));
    }

    // quantized_po2(4): max_value None needs an exponent sign bit: bits - 1 - 1 = 2 exponent bits,
    // exponents -4..3; e = round(log2|x|) (the boundary between 2^-2 and 2^-1 is 2^-1.5 = 0.35355).
    [Theory]
    [InlineData(0.3f, 0.25f)]
    [InlineData(0.35f, 0.25f)]
    [InlineData(0.36f, 0.5f)]
    [InlineData(-3f, -4f)]          // log2 3 = 1.58 → 2
    [InlineData(100f, 8f)]          // 7 clipped to 3
    [InlineData(0.001f, 0.0625f)]   // -10 clipped to -4
    [InlineData(0f, 0.0625f)]       // |x| < 1e-7 → min exponent, sign(0) → +1
    [InlineData(-1e-8f, -0.0625f)]
    public void Quantized_po2_rounds_the_exponent(float x, float expected)
    {
        var q = new QuantizedPo2(4);
        Assert.Equal(expected, q.Quantize(x));
        Assert.Equal(16, q.Values!.Count);              // ±2^-4 .. ±2^3
        Assert.Equal(new FixedType(true, 9, 5), q.HardwareType);
    }

    [Fact]
    public void Quantized_po2_max_value_clips_the_input_before_rounding()
    {
        // max_value = 1 ≤ 1: no exponent sign bit, 3 exponent bits (-8..7), |x| clipped to 1 → 2^0.
        var q = new QuantizedPo2(4, 1);
        Assert.Equal(1f, q.Quantize(5f));
        Assert.Equal(0.5f, q.Quantize(0.7f));   // log2 0.7 = -0.51 → -1
        Assert.Equal(1f, q.Quantize(0.72f));    // -0.47 → 0
        Assert.Equal(18, q.Values!.Count);      // ±2^-8 .. ±2^0
        Assert.Equal(new FixedType(true, 10, 2), q.HardwareType);
        // max_value = 3: clipped to 3, then round(log2 3) = 2 gives 4 > max_value, as in QKeras.
        Assert.Equal(4f, new QuantizedPo2(4, 3).Quantize(10f));
    }

    // quantized_relu_po2(4): exponent sign bit needed: 3 exponent bits → -8..7; x ≤ 0 → 2^-8 (never 0).
    [Theory]
    [InlineData(-1f, 0.00390625f)]
    [InlineData(0f, 0.00390625f)]
    [InlineData(0.3f, 0.25f)]
    [InlineData(200f, 128f)]       // log2 200 = 7.6 → 8, clipped to 7
    public void Quantized_relu_po2_never_outputs_zero(float x, float expected)
    {
        var q = new QuantizedReluPo2(4);
        Assert.Equal(expected, q.Quantize(x));
        Assert.Equal(16, q.Values!.Count);
        Assert.Equal(new FixedType(false, 16, 8), q.HardwareType);
    }

    [Fact]
    public void Leaky_quantized_relu_po2_rounds_the_scaled_negative_magnitude()
    {
        // x < 0: -2^round(log2(|x|·slope)): -1·0.5 → -2^-1; -3·0.5 = 1.5 → log2 0.58 → 1 → -2.
        var q = new QuantizedReluPo2(4, negativeSlope: 0.5);
        Assert.Equal(-0.5f, q.Quantize(-1f));
        Assert.Equal(-2f, q.Quantize(-3f));
        Assert.Equal(1f, q.Quantize(1f));
        Assert.Equal([0.5f, 0.5f, 1f], Gradient(q, -1f, 0f, 1f));
        // max_value = 1: the relu is clipped there, so the gradient is zero above it.
        Assert.Equal([1f, 0f], Gradient(new QuantizedReluPo2(4, 1), 1f, 2f));
        Assert.Equal(1f, new QuantizedReluPo2(4, 1).Quantize(3f));
    }

    // fixed(6,2) = ap_fixed<6,2,RND,SAT>: F = 4, codes -32..31.
    [Theory]
    [InlineData(0.03125f, 0.0625f)]   // 0.5 → 1 (RND: ties up)
    [InlineData(-0.03125f, 0f)]       // -0.5 → 0
    [InlineData(2f, 1.9375f)]         // 32 → 31
    [InlineData(-3f, -2f)]
    public void Fixed_quantizer_is_the_fixed_point_spec(float x, float expected)
    {
        var q = new FixedQuantizer(new FixedType(true, 6, 2));
        Assert.Equal(expected, q.Quantize(x));
        Assert.Equal("ap_fixed<6,2,RND,SAT>", q.Spec);
        Assert.Equal(64, q.Values!.Count);
    }
}
