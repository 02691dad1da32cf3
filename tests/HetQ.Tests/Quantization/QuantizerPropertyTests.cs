using HetQ.Quantization;

namespace HetQ.Tests.Quantization;

/// <summary>Checks every quantizer kind against its own claims: outputs are in Values, Values are on
/// the HardwareType grid and within its range, and the spec string round-trips.</summary>
public class QuantizerPropertyTests
{
    public static TheoryData<string> Specs => new()
    {
        "quantized_bits(3,0,0)", "quantized_bits(3,0,1)", "quantized_bits(4,2,0)", "quantized_bits(6,-2,0)",
        "quantized_bits(4,0,0,keep_negative=False)", "quantized_bits(4,1,1,keep_negative=False)",
        "quantized_bits(1,0,0)", "quantized_bits(1,0,0,keep_negative=False)", "quantized_bits(8,3,0,alpha=1)",
        "quantized_bits(5,0,0,alpha=0.25)", "quantized_bits(5,0,0,alpha=0.7)", "quantized_bits(1,2,0,alpha=4)",
        "quantized_bits(16,6,0)",
        "quantized_relu(4,2)", "quantized_relu(3,0)", "quantized_relu(6,-1)", "quantized_relu(4,0,1)",
        "quantized_relu(4,1,negative_slope=0.25)", "quantized_relu(5,0,1,negative_slope=0.5)",
        "quantized_relu(4,2,negative_slope=2)", "quantized_relu(4,2,relu_upper_bound=2.5,is_quantized_clip=False)",
        "quantized_relu(4,2,relu_upper_bound=1.3,is_quantized_clip=False)", "quantized_relu(1,0)",
        "binary()", "binary(use_01=1)", "binary(alpha=1)", "binary(alpha=0.5)", "binary(use_01=1,alpha=2)",
        "stochastic_binary()", "stochastic_binary(alpha=1,temperature=3,use_real_sigmoid=0)",
        "ternary()", "ternary(alpha=1)", "ternary(threshold=0.1)", "ternary(alpha=0.25,threshold=0.5)",
        "stochastic_ternary()", "stochastic_ternary(threshold=0.2,temperature=4,use_real_sigmoid=0,number_of_unrolls=3)",
        "quantized_po2(4)", "quantized_po2(4,1)", "quantized_po2(3,0.5)", "quantized_po2(5,4)", "quantized_po2(8)",
        "quantized_relu_po2(4)", "quantized_relu_po2(4,1)", "quantized_relu_po2(3,2,negative_slope=0.5)",
        "quantized_relu_po2(8,1)",
        "quantized_tanh(4)", "quantized_tanh(3,symmetric=1)", "quantized_tanh(8)",
        "quantized_sigmoid(4)", "quantized_sigmoid(4,1)", "quantized_sigmoid(1)",
        "ap_fixed<6,2,RND,SAT>", "ap_ufixed<5,1,TRN,WRAP>", "ap_fixed<4,-1,RND_CONV,SAT_SYM>",
        "ap_fixed<5,7,TRN_ZERO,SAT_ZERO>", "ap_fixed<3,1,RND_INF,WRAP>",
    };

    public static TheoryData<string> AutoSpecs => new()
    {
        "quantized_bits(4,0,1,alpha='auto')", "quantized_bits(8,3,1,alpha='auto_po2')",
        "quantized_bits(4,1,1,keep_negative=False,alpha='auto_po2')", "binary(alpha='auto')",
        "binary(use_01=1,alpha='auto_po2')", "ternary(alpha='auto')", "ternary(alpha='auto_po2',number_of_unrolls=2)",
        "stochastic_binary(alpha='auto_po2')", "stochastic_ternary(alpha='auto')",
    };

    /// <summary>A sweep that hits every rounding bucket of the small types above, their ties, clip edges,
    /// and a few extreme inputs.</summary>
    private static IEnumerable<float> Inputs()
    {
        for (int k = -8192; k <= 8192; k++) yield return k / 1024f;
        for (int k = -400; k <= 400; k++) yield return k / 16f;
        foreach (float x in new[] { 1e-8f, -1e-8f, 1e-7f, 3e-5f, -3e-5f, 1e6f, -1e6f, float.MaxValue, float.MinValue, -0f })
            yield return x;
        var random = new Random(1);
        for (int i = 0; i < 2000; i++) yield return (float)(random.NextDouble() * 20 - 10);
    }

    [Theory]
    [MemberData(nameof(Specs))]
    public void Every_output_is_one_of_the_values_and_every_value_is_on_the_hardware_grid(string spec)
    {
        var q = QuantizerParser.Parse(spec);
        var values = q.Values;
        Assert.NotNull(values);
        Assert.True(values.Count >= 1);
        for (int i = 1; i < values.Count; i++) Assert.True(values[i - 1] < values[i], "Values are sorted and distinct");

        var set = new HashSet<double>(values);
        foreach (float x in Inputs())
        {
            float y = q.Quantize(x);
            Assert.True(set.Contains(y), $"{spec}: Quantize({x:R}) = {y:R} is not in Values");
        }

        if (q.HardwareType is FixedType type)
        {
            Assert.Null(q.NoHardwareTypeReason);
            foreach (double v in values)
                Assert.True(type.Contains(v), $"{spec}: value {v:R} is not a code of {type}");
        }
        else
        {
            Assert.False(string.IsNullOrEmpty(q.NoHardwareTypeReason));
        }
    }

    [Theory]
    [MemberData(nameof(Specs))]
    [MemberData(nameof(AutoSpecs))]
    public void Spec_parses_back_to_the_same_spec(string spec)
    {
        var q = QuantizerParser.Parse(spec);
        Assert.Equal(spec, q.Spec);
        Assert.Equal(q.Spec, QuantizerParser.Parse(q.Spec).Spec);
        Assert.Equal(spec, q.ToString());
    }

    [Theory]
    [MemberData(nameof(Specs))]
    [MemberData(nameof(AutoSpecs))]
    public void Forward_on_one_channel_equals_quantize_elementwise_for_fixed_scales(string spec)
    {
        var q = QuantizerParser.Parse(spec);
        float[] x = Inputs().Take(3000).ToArray(), y = new float[x.Length];
        q.Forward(x, y);
        if (q is IScaledQuantizer { IsAutoScaled: true } scaled)
        {
            // Auto scales: each output is the channel's scale times a level of the same quantizer with alpha=1,
            // and both forward overloads and ComputeScale agree.
            float[] scale = new float[1], again = new float[1], y1 = new float[x.Length];
            scaled.Forward(x, y1, 1, scale);
            Assert.Equal(y, y1);
            scaled.ComputeScale(x, 1, again);
            Assert.Equal(scale[0], again[0]);
            Assert.True(float.IsFinite(scale[0]) && scale[0] > 0, $"scale {scale[0]}");
            var unscaled = QuantizerParser.Parse(System.Text.RegularExpressions.Regex.Replace(spec, "alpha='auto(_po2)?'", "alpha=1"));
            // QKeras's auto scale quantizes |x| and puts the sign back (tf.sign), even with keep_negative=False,
            // so the magnitudes are the levels.
            var levels = unscaled.Values!.Select(v => Math.Abs((float)v)).ToHashSet();
            Assert.True(y.Select(Math.Abs).Distinct().Count() <= levels.Count, $"{y.Distinct().Count()} distinct outputs, {levels.Count} levels");
            if (float.IsPow2(scale[0]))
                Assert.All(y, v => Assert.True(levels.Contains(Math.Abs(v) / scale[0]), $"{v} / {scale[0]} is not a level of {unscaled.Spec}"));
            return;
        }
        for (int i = 0; i < x.Length; i++) Assert.Equal(q.Quantize(x[i]), y[i]);
    }

    [Theory]
    [MemberData(nameof(AutoSpecs))]
    public void Auto_po2_scales_are_powers_of_two_and_auto_quantizers_have_no_type(string spec)
    {
        var q = (IScaledQuantizer)QuantizerParser.Parse(spec);
        Assert.True(q.IsAutoScaled);
        Assert.Null(q.HardwareType);
        Assert.Null(q.Values);
        Assert.Contains("alpha='auto", q.NoHardwareTypeReason, StringComparison.Ordinal);
        var random = new Random(3);
        float[] x = Enumerable.Range(0, 64).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray();
        float[] y = new float[x.Length], scale = new float[8];
        q.Forward(x, y, 8, scale);
        if (spec.Contains("auto_po2", StringComparison.Ordinal))
            Assert.All(scale, s => Assert.True(float.IsPow2(s), $"scale {s} is not a power of two"));
    }

    [Theory]
    [InlineData(3, 0, false, 8)]
    [InlineData(3, 0, true, 7)]
    [InlineData(5, 2, false, 32)]
    public void Quantized_bits_value_counts(int bits, int integer, bool symmetric, int count)
    {
        Assert.Equal(count, new QuantizedBits(bits, integer, symmetric).Values!.Count);
    }

    [Fact]
    public void Nan_inputs_stay_nan()
    {
        foreach (string spec in new[] { "quantized_bits(4,0)", "quantized_relu(4,0)", "binary()", "ternary()", "quantized_po2(4)",
                     "quantized_relu_po2(4)", "quantized_tanh(4)", "quantized_sigmoid(4)", "ap_fixed<4,2>" })
            Assert.True(float.IsNaN(QuantizerParser.Parse(spec).Quantize(float.NaN)), spec);
    }

    [Fact]
    public void Large_widths_have_a_type_but_no_enumerated_values()
    {
        var q = QuantizerParser.Parse("quantized_bits(24,4)");
        Assert.Null(q.Values);
        Assert.Equal(new FixedType(true, 24, 5), q.HardwareType);
        Assert.Equal(24, q.Bits);
    }
}
