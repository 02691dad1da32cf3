using HetQ.Quantization;

namespace HetQ.Tests.Quantization;

public class BinaryTernaryTests
{
    private static float[] Gradient(IQuantizer q, params float[] x)
    {
        float[] ones = Enumerable.Repeat(1f, x.Length).ToArray(), g = new float[x.Length];
        q.Backward(x, ones, g);
        return g;
    }

    // binary: k = sign(x); k += 1 - |k| (so sign(0) = +1); use_01: (k + 1)/2; result = alpha·k.
    [Theory]
    [InlineData(false, 0.3f, 1f)]
    [InlineData(false, -0.3f, -1f)]
    [InlineData(false, 0f, 1f)]
    [InlineData(true, -2f, 0f)]
    [InlineData(true, 0f, 1f)]
    public void Binary_is_the_sign_with_zero_mapped_to_plus_one(bool use01, float x, float expected)
    {
        var q = new Binary(use01);
        Assert.Equal(expected, q.Quantize(x));
        Assert.Equal(use01 ? [0.0, 1.0] : [-1.0, 1.0], q.Values);
        Assert.Equal(use01 ? new FixedType(false, 1, 1) : new FixedType(true, 2, 2), q.HardwareType);
    }

    [Fact]
    public void Binary_without_alpha_differentiates_tanh_and_with_alpha_the_identity()
    {
        // alpha None: `x = K.tanh(x)` before `x + stop_gradient(-x + scale·k)`, so d/dx = 1 - tanh²(x).
        float t = MathF.Tanh(1f);
        Assert.Equal([1f, 1f - t * t], Gradient(new Binary(), 0f, 1f));
        Assert.Equal([1f, 1f], Gradient(new Binary(alpha: Alpha.Of(1)), 0f, 1f));
    }

    [Fact]
    public void Binary_auto_alpha_is_the_least_squares_scale_per_channel()
    {
        // x = [0.5, -1.5, 0.25, -0.25], k = [1, -1, 1, -1]: mean(x·k) = 2.5/4 = 0.625, mean(k²) = 1,
        // scale = 0.625/(1 + 1e-7) in float32 (1 + 1e-7f rounds to 1 + 2^-23).
        float[] x = [0.5f, -1.5f, 0.25f, -0.25f], y = new float[4], scale = new float[1];
        new Binary(alpha: Alpha.Auto).Forward(x, y, 1, scale);
        float s = 0.625f / (1f + 1e-7f);
        Assert.Equal([s], scale);
        Assert.Equal([s, -s, s, -s], y);
        // auto_po2: 2^round(log2 0.625 = -0.68) = 0.5.
        new Binary(alpha: Alpha.AutoPo2).Forward(x, y);
        Assert.Equal([0.5f, -0.5f, 0.5f, -0.5f], y);
        Assert.Null(new Binary(alpha: Alpha.Auto).HardwareType);
    }

    // ternary: q = cast(|x| >= threshold)·sign(x), threshold 0.33 (float32) by default; result = alpha·q.
    [Theory]
    [InlineData(0.33f, 1f)]
    [InlineData(0.3f, 0f)]
    [InlineData(-0.5f, -1f)]
    [InlineData(0f, 0f)]
    public void Ternary_zeroes_inside_the_threshold(float x, float expected)
    {
        var q = new Ternary();
        Assert.Equal(expected, q.Quantize(x));
        Assert.Equal([-1.0, 0.0, 1.0], q.Values);
        Assert.Equal(new FixedType(true, 2, 2), q.HardwareType);
    }

    [Fact]
    public void Ternary_with_threshold_and_alpha_scales_the_levels()
    {
        var q = new Ternary(Alpha.Of(2), threshold: 0.5);
        Assert.Equal(2f, q.Quantize(0.5f));
        Assert.Equal(0f, q.Quantize(0.49f));
        Assert.Equal(-2f, q.Quantize(-0.7f));
        Assert.Equal(new FixedType(true, 2, 3), q.HardwareType);       // {-2, 0, 2}
        Assert.Equal([1f, 1f], Gradient(q, 0f, 2f));                    // alpha set: identity
        float t = MathF.Tanh(2f);
        Assert.Equal([1f, 1f - t * t], Gradient(new Ternary(), 0f, 2f)); // alpha None: tanh
    }

    [Fact]
    public void Ternary_auto_alpha_fits_threshold_and_scale_together()
    {
        // x = [0.9, -0.6, 0.1, -0.05]: m = 0.9, scale = 2·0.9/3 = 0.6.
        // round 1: thres 0.3; v = 0.6·round(x/0.6) = [0.6, -0.6, 0, 0] → q = [1, -1, 0, 0];
        //          scale = mean(x·q)/(mean(q²) + eps) = 0.375/(0.5 + 1e-7)
        // rounds 2-5: thres ≈ 0.375, v = [0.75, -0.75, 0, 0] → the same q and scale.
        float[] x = [0.9f, -0.6f, 0.1f, -0.05f], y = new float[4], scale = new float[1];
        new Ternary(Alpha.Auto).Forward(x, y, 1, scale);
        float s = 0.375f / (0.5f + 1e-7f);
        Assert.Equal([s], scale);
        Assert.Equal([s, -s, 0f, 0f], y);

        // auto_po2: scale = 2^round(log2 0.6) = 0.5; round 1: v = 0.5·round([1.8, -1.2, 0.2, -0.1]) = [1, -0.5, 0, 0]
        // → q = [1, -1, 0, 0]; scale = 2^round(log2 0.75) = 1; rounds 2-5: v = [1, -1, 0, 0] → unchanged.
        new Ternary(Alpha.AutoPo2).Forward(x, y);
        Assert.Equal([1f, -1f, 0f, 0f], y);
    }

    [Fact]
    public void Ternary_auto_alpha_rejects_a_threshold()
    {
        Assert.Throws<ArgumentException>(() => new Ternary(Alpha.Auto, threshold: 0.3));
    }

    [Fact]
    public void Stochastic_binary_is_binary_at_inference_and_random_but_seeded_in_training()
    {
        var q = new StochasticBinary();
        Assert.True(q.IsStochastic);
        Assert.Equal(new Binary().Quantize(-0.2f), q.Quantize(-0.2f));
        Assert.Equal(new FixedType(true, 2, 2), q.HardwareType);

        // p = sigmoid(6·0.1) = 0.6457: E[q] = 2p - 1 = 0.2913.
        float[] x = Enumerable.Repeat(0.1f, 20000).ToArray(), y1 = new float[x.Length], y2 = new float[x.Length];
        q.ForwardTraining(x, y1, 1, new Random(7));
        q.ForwardTraining(x, y2, 1, new Random(7));
        Assert.Equal(y1, y2);
        Assert.All(y1, v => Assert.True(v is 1f or -1f));
        Assert.InRange(y1.Average(), 0.2913 - 0.03, 0.2913 + 0.03);
        float[] g = new float[x.Length];
        q.Backward(x, Enumerable.Repeat(1f, x.Length).ToArray(), g);
        Assert.All(g, v => Assert.Equal(1f, v));
    }

    [Fact]
    public void Stochastic_ternary_draws_from_its_three_levels_in_training()
    {
        var q = new StochasticTernary(Alpha.AutoPo2);
        var random = new Random(11);
        float[] x = Enumerable.Range(0, 4000).Select(i => (float)Math.Sin(i) * 0.8f).ToArray(), y = new float[x.Length];
        q.ForwardTraining(x, y, 4, random);
        float[] scale = new float[4];
        q.ComputeScale(x, 4, scale);
        for (int i = 0; i < x.Length; i++)
        {
            float s = y[i] == 0 ? 0 : MathF.Abs(y[i]);
            Assert.True(s == 0 || float.IsPow2(s), $"{y[i]} is not 0 or a power of two");
        }
        // At inference it is ternary.
        float[] inference = new float[x.Length], expected = new float[x.Length];
        q.Forward(x, inference, 4);
        new Ternary(Alpha.AutoPo2).Forward(x, expected, 4);
        Assert.Equal(expected, inference);
        Assert.Contains(y, v => v != 0);
    }
}
