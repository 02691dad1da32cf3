using HetQ.Emulation;
using HetQ.Graph;
using HetQ.Quantization;

namespace HetQ.Tests.Emulation;

public class RequantizerTests
{
    public static TheoryData<Rounding, Overflow> Modes()
    {
        var d = new TheoryData<Rounding, Overflow>();
        foreach (var r in Enum.GetValues<Rounding>())
            foreach (var o in Enum.GetValues<Overflow>()) d.Add(r, o);
        return d;
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void The_fast_requantizer_equals_the_fixed_point_spec_on_every_code(Rounding rounding, Overflow overflow)
    {
        foreach (bool relu in new[] { false, true })
            foreach (var to in new[] { new FixedType(true, 4, 1), new FixedType(false, 5, 2), new FixedType(true, 6, 6), new FixedType(false, 3, -1) })
                foreach (int fromFrac in new[] { 0, 2, 3, 5, 9 })
                {
                    var rq = new Requantizer(new Requantization(relu, new FixedFormat(to, rounding, overflow)), fromFrac);
                    for (long acc = -700; acc <= 700; acc++)
                    {
                        long input = relu && acc < 0 ? 0 : acc;
                        Assert.Equal(FixedPoint.Requantize(input, fromFrac, to, rounding, overflow), rq.Apply(acc));
                    }
                }
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void The_vector_requantizer_equals_the_scalar_one(Rounding rounding, Overflow overflow)
    {
        foreach (bool relu in new[] { false, true })
            foreach (var to in new[] { new FixedType(true, 4, 1), new FixedType(false, 6, 0), new FixedType(true, 12, 3) })
                foreach (int fromFrac in new[] { 0, 1, 4, 9 })
                {
                    var rq = new Requantizer(new Requantization(relu, new FixedFormat(to, rounding, overflow)), fromFrac);
                    if (!rq.Vectorizable) continue;
                    for (int acc = -3000; acc <= 3000; acc += 8)
                    {
                        var v = rq.Apply(System.Runtime.Intrinsics.Vector256.Create(acc, acc + 1, acc + 2, acc + 3, acc + 4, acc + 5, acc + 6, acc + 7));
                        for (int l = 0; l < 8; l++) Assert.Equal(rq.Apply((long)(acc + l)), (long)v[l]);
                    }
                }
    }

    [Theory]
    [InlineData("ap_fixed<16,6,RND_CONV,SAT>")]
    [InlineData("ap_ufixed<5,1,RND_CONV,SAT>")]
    [InlineData("ap_fixed<8,2,RND,SAT_SYM>")]
    [InlineData("ap_fixed<10,3,TRN,SAT>")]
    [InlineData("ap_fixed<6,2,RND_ZERO,WRAP>")]
    public void Input_quantization_equals_the_fixed_point_spec(string format)
    {
        var f = FixedFormat.Parse(format);
        var q = new InputQuantizer(f);
        var r = new Random(3);
        for (int i = 0; i < 100_000; i++)
        {
            float x = i % 2 == 0 ? (float)(r.NextDouble() * 200 - 100) : (float)(r.Next(-20000, 20000) / 512.0);
            Assert.Equal(FixedPoint.ToRaw(x, f.Type, f.Rounding, f.Overflow), q.Apply(x));
        }
    }

    [Fact]
    public void Without_a_format_only_the_relu_applies()
    {
        var rq = new Requantizer(new Requantization(true, null), 7);
        Assert.Equal(0, rq.Apply(-5));
        Assert.Equal(123456789, rq.Apply(123456789));
    }
}
