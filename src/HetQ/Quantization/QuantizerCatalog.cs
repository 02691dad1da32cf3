using System.Diagnostics.CodeAnalysis;

namespace HetQ.Quantization;

/// <summary>The quantizers the parser knows: each with QKeras's full parameter list, in QKeras's order
/// (so positional arguments bind as in Python), and a factory that reads the arguments HetQ supports.</summary>
internal static class QuantizerCatalog
{
    internal sealed record Definition(string Name, string[] Parameters, Func<QuantizerArguments, IQuantizer> Create);

    private static readonly Func<SpecValue, bool> IsFalse = v => v.IsFalse;
    private static readonly Func<SpecValue, bool> IsTrue = v => v.IsTrue;
    private static readonly Func<SpecValue, bool> IsNone = v => v.IsNone;
    private static readonly Func<SpecValue, bool> IsOne = v => v.Kind == SpecValueKind.Number && v.Number == 1;

    private static readonly Definition[] Definitions =
    [
        new("quantized_bits",
            ["bits", "integer", "symmetric", "keep_negative", "alpha", "use_stochastic_rounding", "scale_axis",
             "qnoise_factor", "var_name", "use_ste", "use_variables", "elements_per_scale", "min_po2_exponent",
             "max_po2_exponent", "post_training_scale"],
            a =>
            {
                Common(a);
                foreach (var name in new[] { "scale_axis", "elements_per_scale", "min_po2_exponent", "max_po2_exponent", "post_training_scale" })
                    a.DefaultOnly(name, "None", IsNone);
                return a.Build(() => new QuantizedBits(a.Int("bits", 8), a.Int("integer", 0), a.Bool("symmetric", false),
                    a.Bool("keep_negative", true), a.Alpha("alpha")));
            }),
        new("quantized_relu",
            ["bits", "integer", "use_sigmoid", "negative_slope", "use_stochastic_rounding", "relu_upper_bound",
             "is_quantized_clip", "qnoise_factor", "var_name", "use_ste", "use_variables", "enable_fast_inference"],
            a =>
            {
                Common(a);
                a.DefaultOnly("enable_fast_inference", "False", IsFalse);
                return a.Build(() => new QuantizedRelu(a.Int("bits", 8), a.Int("integer", 0), a.Bool("use_sigmoid", false),
                    a.Number("negative_slope", 0.0), a.NumberOrNone("relu_upper_bound"), a.Bool("is_quantized_clip", true)));
            }),
        new("binary",
            ["use_01", "alpha", "use_stochastic_rounding", "scale_axis", "elements_per_scale", "min_po2_exponent", "max_po2_exponent"],
            a =>
            {
                a.DefaultOnly("use_stochastic_rounding", "False", IsFalse);
                foreach (var name in new[] { "scale_axis", "elements_per_scale", "min_po2_exponent", "max_po2_exponent" })
                    a.DefaultOnly(name, "None", IsNone);
                return a.Build(() => new Binary(a.Bool("use_01", false), a.Alpha("alpha")));
            }),
        new("stochastic_binary", ["alpha", "temperature", "use_real_sigmoid"],
            a => a.Build(() => new StochasticBinary(a.Alpha("alpha"), a.Number("temperature", 6.0), a.Bool("use_real_sigmoid", true)))),
        new("ternary", ["alpha", "threshold", "use_stochastic_rounding", "number_of_unrolls"],
            a =>
            {
                a.DefaultOnly("use_stochastic_rounding", "False", IsFalse);
                return a.Build(() => new Ternary(a.Alpha("alpha"), a.NumberOrNone("threshold"), a.Int("number_of_unrolls", 5)));
            }),
        new("stochastic_ternary", ["alpha", "threshold", "temperature", "use_real_sigmoid", "number_of_unrolls"],
            a => a.Build(() => new StochasticTernary(a.Alpha("alpha"), a.NumberOrNone("threshold"), a.Number("temperature", 8.0),
                a.Bool("use_real_sigmoid", true), a.Int("number_of_unrolls", 5)))),
        new("quantized_po2",
            ["bits", "max_value", "use_stochastic_rounding", "quadratic_approximation", "log2_rounding", "qnoise_factor",
             "var_name", "use_ste", "use_variables"],
            a =>
            {
                Common(a);
                Po2Options(a);
                return a.Build(() => new QuantizedPo2(a.Int("bits", 8), a.NumberOrNone("max_value")));
            }),
        new("quantized_relu_po2",
            ["bits", "max_value", "negative_slope", "use_stochastic_rounding", "quadratic_approximation", "log2_rounding",
             "qnoise_factor", "var_name", "use_ste", "use_variables"],
            a =>
            {
                Common(a);
                Po2Options(a);
                return a.Build(() => new QuantizedReluPo2(a.Int("bits", 8), a.NumberOrNone("max_value"), a.Number("negative_slope", 0)));
            }),
        new("quantized_tanh", ["bits", "use_stochastic_rounding", "symmetric", "use_real_tanh"],
            a =>
            {
                a.DefaultOnly("use_stochastic_rounding", "False", IsFalse,
                    "the second positional argument of quantized_tanh is use_stochastic_rounding in current QKeras (QKeras 0.9.0's 'integer' was removed)");
                a.DefaultOnly("use_real_tanh", "False", IsFalse, "HetQ implements the hard tanh");
                return a.Build(() => new QuantizedTanh(a.Int("bits", 8), a.Bool("symmetric", false)));
            }),
        new("quantized_sigmoid", ["bits", "symmetric", "use_real_sigmoid", "use_stochastic_rounding"],
            a =>
            {
                a.DefaultOnly("use_real_sigmoid", "False", IsFalse, "HetQ implements the hard sigmoid");
                a.DefaultOnly("use_stochastic_rounding", "False", IsFalse);
                return a.Build(() => new QuantizedSigmoid(a.Int("bits", 8), a.Bool("symmetric", false)));
            }),
        new("fixed", ["width", "integer", "signed", "rounding", "overflow"],
            a => a.Build(() => new FixedQuantizer(
                new FixedType(a.Bool("signed", true), a.Int("width", 8), a.Int("integer", 0)),
                a.Mode("rounding", Rounding.RND), a.Mode("overflow", Overflow.SAT)))),
    ];

    private static readonly Dictionary<string, Definition> ByName = Definitions.ToDictionary(d => d.Name);

    public static IReadOnlyList<string> Names { get; } = Definitions.Select(d => d.Name).ToArray();

    public static bool TryGet(string name, [MaybeNullWhen(false)] out Definition definition) =>
        ByName.TryGetValue(name, out definition);

    // Arguments that only steer TensorFlow (variables, names) or that HetQ supports at their default.
    private static void Common(QuantizerArguments a)
    {
        a.DefaultOnly("use_stochastic_rounding", "False", IsFalse);
        a.DefaultOnly("qnoise_factor", "1.0", IsOne);
        a.DefaultOnly("use_ste", "True", IsTrue);
        a.Ignore("var_name");
        a.Ignore("use_variables");
    }

    private static void Po2Options(QuantizerArguments a)
    {
        a.DefaultOnly("quadratic_approximation", "False", IsFalse);
        a.DefaultOnly("log2_rounding", "'rnd'", v => v.Text == "rnd");
    }
}
