using System.Globalization;

namespace HetQ.Quantization;

/// <summary>Base of the quantizers: the tensor loops, the shape checks and the straight-through
/// estimator, written once. A quantizer supplies <see cref="Quantize"/> and, where QKeras
/// differentiates something other than the identity, <see cref="SurrogateGradient"/>.</summary>
public abstract class Quantizer : IQuantizer
{
    /// <summary>Largest value set that <see cref="Values"/> enumerates.</summary>
    public const int MaxEnumeratedValues = 1 << 16;

    private IReadOnlyList<double>? _values;
    private bool _valuesDone;

    public abstract string Spec { get; }
    public abstract int Bits { get; }
    public virtual bool IsStochastic => false;
    public abstract FixedType? HardwareType { get; }
    public abstract string? NoHardwareTypeReason { get; }

    public IReadOnlyList<double>? Values
    {
        get
        {
            if (!_valuesDone)
            {
                _values = EnumerateValues()?.Distinct().Order().ToArray();
                _valuesDone = true;
            }
            return _values;
        }
    }

    public abstract float Quantize(float x);

    public void Forward(ReadOnlySpan<float> x, Span<float> y) => Forward(x, y, 1);

    public virtual void Forward(ReadOnlySpan<float> x, Span<float> y, int channels)
    {
        CheckShapes(x, y, channels);
        for (int i = 0; i < x.Length; i++) y[i] = Quantize(x[i]);
    }

    public void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> gradOut, Span<float> gradIn)
    {
        if (gradOut.Length != x.Length || gradIn.Length != x.Length)
            throw new ArgumentException($"x, gradOut and gradIn lengths differ ({x.Length}, {gradOut.Length}, {gradIn.Length})");
        if (HasIdentityGradient)
        {
            gradOut.CopyTo(gradIn);
            return;
        }
        for (int i = 0; i < x.Length; i++) gradIn[i] = gradOut[i] * SurrogateGradient(x[i]);
    }

    /// <summary>True when QKeras's gradient is the identity (`x + stop_gradient(q(x) - x)`).</summary>
    protected virtual bool HasIdentityGradient => true;

    /// <summary>d(surrogate)/dx where QKeras's graph differentiates something other than x
    /// (tanh for binary/ternary without alpha, the clipped relu for relu quantizers, ...).</summary>
    protected virtual float SurrogateGradient(float x) => 1f;

    /// <summary>The candidates for <see cref="Values"/> (duplicates allowed); null when not a small fixed set.</summary>
    protected abstract IEnumerable<double>? EnumerateValues();

    public override string ToString() => Spec;

    protected static void CheckShapes(ReadOnlySpan<float> x, Span<float> y, int channels)
    {
        if (y.Length != x.Length)
            throw new ArgumentException($"output length {y.Length} differs from input length {x.Length}", nameof(y));
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        if (x.Length % channels != 0)
            throw new ArgumentException($"length {x.Length} is not a multiple of {channels} channels", nameof(channels));
    }

    /// <summary>HardwareType from a value list, or null with the caller's reason.</summary>
    protected static FixedType? ContainingType(IReadOnlyList<double>? values) =>
        values is null ? null : FixedType.Containing(values);
}

/// <summary>The `alpha` argument of QKeras quantizers: None, a number, "auto" or "auto_po2".</summary>
public enum AlphaKind { None, Value, Auto, AutoPo2 }

/// <summary>A QKeras `alpha`: the scale that multiplies the quantized grid.</summary>
public readonly record struct Alpha(AlphaKind Kind, double Value)
{
    public static Alpha None => default;
    public static Alpha Auto => new(AlphaKind.Auto, 0);
    public static Alpha AutoPo2 => new(AlphaKind.AutoPo2, 0);
    public static Alpha Of(double value) => new(AlphaKind.Value, value);

    public bool IsAuto => Kind is AlphaKind.Auto or AlphaKind.AutoPo2;

    /// <summary>The constant scale as QKeras applies it (float32); 1 for None.</summary>
    public float Constant => Kind == AlphaKind.Value ? (float)Value : 1f;

    /// <summary>The power of two 2^k that the scale is, when it is a constant power of two.</summary>
    public int? Po2Exponent => Kind switch
    {
        AlphaKind.None => 0,
        AlphaKind.Value when Constant > 0 && float.IsPow2(Constant) => Math.ILogB(Constant),
        _ => null,
    };

    /// <summary>Why a grid type does not exist for this alpha; null when it does.</summary>
    public string? NoGridReason => Kind switch
    {
        AlphaKind.Auto => "alpha='auto' multiplies each channel by a floating-point scale computed from the data",
        AlphaKind.AutoPo2 => "alpha='auto_po2' multiplies each channel by a power of two computed from the data; the type is known per channel after training",
        AlphaKind.Value when Po2Exponent is null => $"alpha={SpecText.Number(Value)} is not a power of two",
        _ => null,
    };

    /// <summary>As QKeras prints it: a number, 'auto' or 'auto_po2' (None for no alpha).</summary>
    public override string ToString() => Kind switch
    {
        AlphaKind.None => "None",
        AlphaKind.Value => SpecText.Number(Value),
        AlphaKind.Auto => "'auto'",
        _ => "'auto_po2'",
    };
}

/// <summary>A QKeras stochastic quantizer: random in training (<see cref="ForwardTraining"/>), and at inference exactly
/// its deterministic twin (binary or ternary), to which everything but training is delegated.</summary>
public abstract class StochasticScaledQuantizer<TInference> : Quantizer, IScaledQuantizer, IStochasticQuantizer
    where TInference : Quantizer, IScaledQuantizer
{
    private protected StochasticScaledQuantizer(TInference inference) => Inference = inference;

    /// <summary>The deterministic quantizer used at inference.</summary>
    public TInference Inference { get; }
    public bool IsAutoScaled => Inference.IsAutoScaled;
    public override bool IsStochastic => true;
    public override FixedType? HardwareType => Inference.HardwareType;
    public override string? NoHardwareTypeReason => Inference.NoHardwareTypeReason;
    public override float Quantize(float x) => Inference.Quantize(x);
    public override void Forward(ReadOnlySpan<float> x, Span<float> y, int channels) => Inference.Forward(x, y, channels);
    public void Forward(ReadOnlySpan<float> x, Span<float> y, int channels, Span<float> scale) => Inference.Forward(x, y, channels, scale);
    public void ComputeScale(ReadOnlySpan<float> x, int channels, Span<float> scale) => Inference.ComputeScale(x, channels, scale);
    protected override IEnumerable<double>? EnumerateValues() => Inference.Values;
    public abstract void ForwardTraining(ReadOnlySpan<float> x, Span<float> y, int channels, Random random);
}

/// <summary>Formatting of spec arguments as QKeras writes them.</summary>
internal static class SpecText
{
    /// <summary>Shortest round-trip form: 4, 0.25, 1e-05.</summary>
    public static string Number(double value) =>
        value.ToString("R", CultureInfo.InvariantCulture).Replace("E", "e", StringComparison.Ordinal);

    public static string Flag(bool value) => value ? "1" : "0";

    public static string Call(string name, IEnumerable<string> arguments) => $"{name}({string.Join(",", arguments)})";
}
