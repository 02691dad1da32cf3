using HetQ.Quantization;

namespace HetQ.Tests.Quantization;

public class FixedTypeTests
{
    [Fact]
    public void Ranges_and_step_follow_ap_fixed()
    {
        var s = new FixedType(true, 6, 1);   // F = 5: codes -32..31
        Assert.Equal(5, s.FractionalBits);
        Assert.Equal(-32, s.MinRaw);
        Assert.Equal(31, s.MaxRaw);
        Assert.Equal(1.0 / 32, s.Step);
        Assert.Equal(-1.0, s.MinValue);
        Assert.Equal(31.0 / 32, s.MaxValue);

        var u = new FixedType(false, 6, 1);  // codes 0..63, values 0 .. 63/32
        Assert.Equal(0, u.MinRaw);
        Assert.Equal(63, u.MaxRaw);
        Assert.Equal(63.0 / 32, u.MaxValue);
    }

    [Theory]
    [InlineData("ap_fixed<6,1,RND,SAT>", true, 6, 1, Rounding.RND, Overflow.SAT)]
    [InlineData("ap_ufixed<8,3,RND_CONV,SAT_SYM>", false, 8, 3, Rounding.RND_CONV, Overflow.SAT_SYM)]
    [InlineData("ap_fixed<4,-2,TRN_ZERO,SAT_ZERO>", true, 4, -2, Rounding.TRN_ZERO, Overflow.SAT_ZERO)]
    [InlineData("ap_fixed<16,20,RND_MIN_INF,WRAP>", true, 16, 20, Rounding.RND_MIN_INF, Overflow.WRAP)]
    public void Format_strings_round_trip(string text, bool signed, int width, int integer, Rounding rounding, Overflow overflow)
    {
        var format = FixedFormat.Parse(text);
        Assert.Equal(new FixedFormat(new FixedType(signed, width, integer), rounding, overflow), format);
        Assert.Equal(text, format.ToString());
    }

    [Theory]
    [InlineData("ap_fixed<8,3>", "ap_fixed<8,3,TRN,WRAP>")]               // ap_fixed's defaults
    [InlineData("ap_fixed<8,3,AP_RND>", "ap_fixed<8,3,RND,WRAP>")]
    [InlineData(" ap_ufixed < 8 , 3 , AP_RND_CONV , AP_SAT , 0 > ", "ap_ufixed<8,3,RND_CONV,SAT>")]
    public void Format_strings_accept_defaults_prefixes_and_spaces(string text, string canonical)
    {
        Assert.Equal(canonical, FixedFormat.Parse(text).ToString());
    }

    [Theory]
    [InlineData("ap_fixed<8,3,RNDX>", 13, "unknown rounding mode 'RNDX'")]
    [InlineData("ap_fixed<0,3>", 9, "width must be between 1 and 62")]
    [InlineData("ap_fixed<8,3,RND,SAT,2>", 21, "saturation bits N")]
    [InlineData("ap_fixed<8;3>", 10, "unexpected character ';'")]
    [InlineData("ap_fixed<8,3", 12, "expected '>'")]
    [InlineData("ap_int<8>", 0, "expected ap_fixed")]
    public void Bad_format_strings_point_at_the_bad_part(string text, int column, string message)
    {
        var e = Assert.Throws<HetQException>(() => FixedFormat.Parse(text));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
        string[] lines = e.Message.Split('\n');
        Assert.Equal("  " + text, lines[1]);
        Assert.Equal(new string(' ', 2 + column) + "^", lines[2]);
    }

    [Fact]
    public void Containing_type_is_the_narrowest_that_holds_every_value()
    {
        Assert.Equal(new FixedType(true, 2, 2), FixedType.Containing([-1.0, 1.0]));    // codes -2..1, step 1
        Assert.Equal(new FixedType(false, 1, 1), FixedType.Containing([0.0, 1.0]));
        Assert.Equal(new FixedType(true, 4, 1), FixedType.Containing([-1.0, 0.875]));  // step 1/8
        Assert.Equal(new FixedType(false, 2, 4), FixedType.Containing([4.0, 12.0]));   // step 4, codes 1 and 3
        Assert.Equal(new FixedType(true, 9, 5), FixedType.Containing([-8.0, 0.0625, 8.0])); // ±2^3, 2^-4
        Assert.Null(FixedType.Containing([0.1, 1e30]));                                // wider than 62 bits
        Assert.Null(FixedType.Containing([]));
    }

    [Fact]
    public void Contains_checks_grid_and_range()
    {
        var t = new FixedType(true, 4, 2);
        Assert.True(t.Contains(-2.0));
        Assert.True(t.Contains(1.75));
        Assert.False(t.Contains(2.0));
        Assert.False(t.Contains(0.1));
        Assert.False(t.Contains(double.NaN));
    }
}
