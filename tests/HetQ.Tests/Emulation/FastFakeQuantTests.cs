using HetQ.Quantization;

namespace HetQ.Tests.Emulation;

public class FastFakeQuantTests
{
    [Theory]
    [InlineData("quantized_bits(6,0,alpha=1)")]
    [InlineData("quantized_bits(8,3,1)")]
    [InlineData("quantized_bits(4,0,1,alpha=1)")]
    [InlineData("quantized_bits(5,2,keep_negative=False)")]
    [InlineData("quantized_relu(6)")]
    [InlineData("quantized_relu(4,2)")]
    [InlineData("quantized_relu(8,4)")]
    [InlineData("ap_fixed<10,3,RND_CONV,SAT>")]
    [InlineData("ap_ufixed<8,0,RND_CONV,SAT>")]
    [InlineData("ap_fixed<8,2,RND_CONV,SAT_SYM>")]
    public void The_vectorised_path_gives_exactly_the_quantizers_values(string spec)
    {
        var q = QuantizerParser.Parse(spec);
        var fast = FastFakeQuant.TryCreate(q);
        Assert.NotNull(fast);
        var r = new Random(5);
        var x = new float[20011];
        for (int i = 0; i < x.Length; i++)
            x[i] = i % 3 == 0 ? (float)(r.NextDouble() * 40 - 20) : (float)((r.Next(-4096, 4096) + (i % 2 == 0 ? 0.5 : 0)) / 256.0);
        var expected = new float[x.Length];
        var actual = new float[x.Length];
        q.Forward(x, expected);
        fast!.Forward(x, actual);
        for (int i = 0; i < x.Length; i++)
            Assert.True(expected[i] == actual[i], $"{spec} at x={x[i]:R}: {expected[i]:R} vs {actual[i]:R}"); // equal values (+0 and -0 are the same code)
        var g = new float[x.Length];
        Array.Fill(g, 1f);
        var ge = new float[x.Length];
        var ga = new float[x.Length];
        q.Backward(x, g, ge);
        fast.Backward(x, g, ga);
        Assert.Equal(ge, ga);
    }

    [Theory]
    [InlineData("quantized_bits(6,0,alpha=1)")]
    [InlineData("quantized_relu(6)")]
    [InlineData("ap_fixed<8,2,RND_CONV,SAT_SYM>")]
    public void The_Vector512_Vector256_and_scalar_paths_give_the_same_bits(string spec)
    {
        var fast = FastFakeQuant.TryCreate(QuantizerParser.Parse(spec))!;
        var r = new Random(7);
        var x = new float[4099];
        for (int i = 0; i < x.Length; i++)
            x[i] = i % 5 == 0 ? (float)(r.NextDouble() * 8 - 4) : (float)((r.Next(-4096, 4096) + (i % 2 == 0 ? 0.5 : 0)) / 512.0);
        x[3] = float.NaN;
        x[17] = float.PositiveInfinity;
        x[40] = -0f;
        var widths = new[] { HetQ.Numerics.SimdWidth.Scalar, HetQ.Numerics.SimdWidth.Avx2, HetQ.Numerics.SimdWidth.Avx512 };
        var outputs = widths.Select(w =>
        {
            var y = new float[x.Length];
            fast.Forward(w, x, y);
            return y.Select(BitConverter.SingleToInt32Bits).ToArray();
        }).ToArray();
        Assert.Equal(outputs[0], outputs[1]);
        Assert.Equal(outputs[0], outputs[2]);
        var g = x.Select((_, i) => (float)(i % 9 - 4)).ToArray();
        var grads = widths.Select(w =>
        {
            var gi = new float[x.Length];
            fast.Backward(w, x, g, gi);
            return gi.Select(BitConverter.SingleToInt32Bits).ToArray();
        }).ToArray();
        Assert.Equal(grads[0], grads[1]);
        Assert.Equal(grads[0], grads[2]);
    }

    [Theory]
    [InlineData("quantized_bits(4,0,alpha=\"auto\")")]
    [InlineData("ternary()")]
    [InlineData("quantized_po2(4,1)")]
    public void Quantizers_off_a_plain_grid_have_no_fast_path(string spec) => Assert.Null(FastFakeQuant.TryCreate(QuantizerParser.Parse(spec)));
}
