using HetQ.Quantization;

namespace HetQ.Tests.Quantization;

public class QuantizerParserTests
{
    [Theory]
    [InlineData("quantized_bits(6,0,alpha=1)", "quantized_bits(6,0,0,alpha=1)")]
    [InlineData("quantized_bits(4, 0, 1)", "quantized_bits(4,0,1)")]
    [InlineData("quantized_bits(8,3,1,alpha=\"auto_po2\")", "quantized_bits(8,3,1,alpha='auto_po2')")]
    [InlineData("quantized_bits(8,3,alpha='auto')", "quantized_bits(8,3,1,alpha='auto')")]   // auto forces symmetric
    [InlineData("quantized_bits(bits=4, integer=1, keep_negative=False)", "quantized_bits(4,1,0,keep_negative=False)")]
    [InlineData("quantized_bits(4,0,0,True,None,False,None,1.0,'w',True)", "quantized_bits(4,0,0)")]
    [InlineData("quantized_bits", "quantized_bits(8,0,0)")]
    [InlineData("quantized_bits()", "quantized_bits(8,0,0)")]
    [InlineData("quantized_relu(4,2)", "quantized_relu(4,2)")]
    [InlineData("quantized_relu(4,2,0,0.5)", "quantized_relu(4,2,negative_slope=0.5)")]
    [InlineData("quantized_relu(bits=3, integer=1, use_sigmoid=True)", "quantized_relu(3,1,1)")]
    [InlineData("ternary()", "ternary()")]
    [InlineData("ternary(0.5, 0.2)", "ternary(alpha=0.5,threshold=0.2)")]
    [InlineData("binary", "binary()")]
    [InlineData("binary(alpha=1)", "binary(alpha=1)")]
    [InlineData("binary(True)", "binary(use_01=1)")]
    [InlineData("stochastic_binary(alpha='auto_po2')", "stochastic_binary(alpha='auto_po2')")]
    [InlineData("stochastic_ternary(alpha=auto)", "stochastic_ternary(alpha='auto')")]
    [InlineData("quantized_po2(4,1)", "quantized_po2(4,1)")]
    [InlineData("quantized_po2(4, max_value=0.5)", "quantized_po2(4,0.5)")]
    [InlineData("quantized_relu_po2(4, negative_slope=0.25)", "quantized_relu_po2(4,negative_slope=0.25)")]
    [InlineData("quantized_tanh(4,0,1)", "quantized_tanh(4,symmetric=1)")]
    [InlineData("quantized_sigmoid(6,1)", "quantized_sigmoid(6,1)")]
    [InlineData("ap_fixed<8,3>", "ap_fixed<8,3,TRN,WRAP>")]
    [InlineData("ap_ufixed<8,0,AP_RND,AP_SAT>", "ap_ufixed<8,0,RND,SAT>")]
    [InlineData("fixed(6,2)", "ap_fixed<6,2,RND,SAT>")]
    [InlineData("fixed(6, 2, signed=False, rounding=RND_CONV, overflow='SAT_SYM')", "ap_ufixed<6,2,RND_CONV,SAT_SYM>")]
    [InlineData("  quantized_bits ( 4 , -1 , )  ", "quantized_bits(4,-1,0)")]
    public void QKeras_strings_parse_to_their_canonical_spec(string text, string spec)
    {
        Assert.Equal(spec, QuantizerParser.Parse(text).Spec);
    }

    [Fact]
    public void Parsed_quantizers_have_the_arguments_given()
    {
        var bits = Assert.IsType<QuantizedBits>(QuantizerParser.Parse("quantized_bits(8,3,1,alpha=\"auto_po2\")"));
        Assert.Equal(8, bits.Bits);
        Assert.Equal(3, bits.Integer);
        Assert.Equal(AlphaKind.AutoPo2, bits.Alpha.Kind);
        var relu = Assert.IsType<QuantizedRelu>(QuantizerParser.Parse("quantized_relu(4,2)"));
        Assert.Equal((4, 2), (relu.Bits, relu.Integer));
        var po2 = Assert.IsType<QuantizedPo2>(QuantizerParser.Parse("quantized_po2(4,1)"));
        Assert.Equal(1.0, po2.MaxValue);
        var fixedQ = Assert.IsType<FixedQuantizer>(QuantizerParser.Parse("ap_fixed<8,3>"));
        Assert.Equal(new FixedFormat(new FixedType(true, 8, 3), Rounding.TRN, Overflow.WRAP), fixedQ.Format);
        Assert.IsType<Binary>(QuantizerParser.Parse("binary"));
        Assert.Contains("quantized_bits", QuantizerParser.Names);
    }

    [Theory]
    // Each case: the text, the column the caret points at, and a piece of the message.
    [InlineData("quantized_bit(4,0)", 0, "unknown quantizer 'quantized_bit'; valid: quantized_bits, quantized_relu, binary")]
    [InlineData("quantized_bits(4,0,foo=1)", 19, "unknown argument 'foo' for quantized_bits; valid: bits, integer, symmetric")]
    [InlineData("quantized_bits(4,0,alpha='best')", 25, "alpha must be None, a number, 'auto' or 'auto_po2', not 'best'")]
    [InlineData("quantized_bits(4.5,0)", 15, "bits must be an integer, not 4.5")]
    [InlineData("quantized_bits(0,0)", 15, "quantized_bits: bits ('0') must be greater than or equal to '1'")]
    [InlineData("quantized_bits(4,0,use_stochastic_rounding=1)", 43, "use_stochastic_rounding=1 is not supported by HetQ (only False)")]
    [InlineData("quantized_bits(4,bits=3)", 17, "argument 'bits' of quantized_bits is given twice")]
    [InlineData("quantized_bits(bits=4,0)", 22, "positional argument follows keyword argument")]
    [InlineData("quantized_bits(4,0", 18, "expected ',' or ')' but found the end of the text")]
    [InlineData("quantized_bits(4,0))", 19, "unexpected ')' after the end")]
    [InlineData("quantized_bits(4;0)", 16, "unexpected character ';'")]
    [InlineData("quantized_bits(4,0,alpha='auto)", 25, "this string is not closed")]
    [InlineData("quantized_bits(4,0,1,1,1,1,1,1,1,1,1,1,1,1,1,1)", 45, "quantized_bits takes at most 15 positional arguments")]
    [InlineData("binary(scale_axis=[0,1])", 18, "list arguments")]
    [InlineData("ternary(alpha='auto', threshold=0.3)", 32, "threshold must be None when alpha is 'auto'")]
    [InlineData("quantized_relu(4,0,negative_slope=0.3)", 34, "negative_slope must be 0 or a power of two")]
    [InlineData("quantized_tanh(4,2)", 17, "use_stochastic_rounding in current QKeras")]
    [InlineData("quantized_tanh(4,integer=1)", 17, "unknown argument 'integer' for quantized_tanh")]
    [InlineData("quantized_sigmoid(4,use_real_sigmoid=True)", 37, "HetQ implements the hard sigmoid")]
    [InlineData("fixed(6,2,rounding=ROUND)", 19, "rounding must be one of TRN, TRN_ZERO, RND")]
    [InlineData("ap_fixed<6,2,RND,SATURATE>", 17, "unknown overflow mode 'SATURATE'; valid: WRAP, SAT, SAT_ZERO, SAT_SYM")]
    [InlineData("(4,0)", 0, "expected a quantizer name")]
    [InlineData("", 0, "expected a quantizer name but found the end of the text")]
    public void Bad_strings_name_the_problem_and_point_at_it(string text, int column, string message)
    {
        var e = Assert.Throws<HetQException>(() => QuantizerParser.Parse(text));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
        Assert.StartsWith($"bad quantizer spec \"{text}\" at column {column + 1}:", e.Message, StringComparison.Ordinal);
        string[] lines = e.Message.Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.Equal("  " + text, lines[1]);
        Assert.Equal(new string(' ', 2 + column) + "^", lines[2]);
    }
}
