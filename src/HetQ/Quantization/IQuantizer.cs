namespace HetQ.Quantization;

/// <summary>A fake quantizer with QKeras's semantics: the forward pass returns quantized values in
/// float32, the backward pass is a straight-through estimator.</summary>
public interface IQuantizer
{
    /// <summary>The canonical QKeras string; <c>QuantizerParser.Parse</c> of it gives an equal quantizer.</summary>
    string Spec { get; }

    /// <summary>QKeras's bit count (`bits`; 1 for binary, 2 for ternary, the width for fixed).</summary>
    int Bits { get; }

    /// <summary>True when training draws random numbers (stochastic_binary, stochastic_ternary).</summary>
    bool IsStochastic { get; }

    /// <summary>The narrowest fixed-point type whose grid holds every output value (the set may be a
    /// strict subset, see <see cref="Values"/>); null when the outputs are not on one fixed grid, e.g.
    /// data-dependent ("auto") or non-power-of-two scales.</summary>
    FixedType? HardwareType { get; }

    /// <summary>Why <see cref="HardwareType"/> is null; null when it is not.</summary>
    string? NoHardwareTypeReason { get; }

    /// <summary>Every value the quantizer can output, sorted ascending, when it is a fixed, small set
    /// (at most 65536 values); null otherwise.</summary>
    IReadOnlyList<double>? Values { get; }

    /// <summary>The inference value of one input; the same as <see cref="Forward(ReadOnlySpan{float}, Span{float})"/>
    /// on a one-element tensor (which matters only for data-dependent scales).</summary>
    float Quantize(float x);

    /// <summary>Quantizes a tensor that is one channel (for "auto" scales: one scale for all of it).</summary>
    void Forward(ReadOnlySpan<float> x, Span<float> y);

    /// <summary>Quantizes a channels-last tensor: element i belongs to channel i % channels, and
    /// data-dependent scales are computed per channel over all other axes, as QKeras does for kernels.</summary>
    void Forward(ReadOnlySpan<float> x, Span<float> y, int channels);

    /// <summary>The straight-through estimator: gradIn = gradOut · d(surrogate)/dx at x, where the
    /// surrogate is the function QKeras differentiates (identity for most quantizers).</summary>
    void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> gradOut, Span<float> gradIn);
}

/// <summary>A quantizer with a per-channel scale (QKeras `alpha`): a constant, or computed from the
/// tensor for alpha="auto" / "auto_po2".</summary>
public interface IScaledQuantizer : IQuantizer
{
    /// <summary>True for alpha="auto" or "auto_po2".</summary>
    bool IsAutoScaled { get; }

    /// <summary>Quantizes and reports the scale used for each channel (QKeras's `quantizer.scale`).</summary>
    void Forward(ReadOnlySpan<float> x, Span<float> y, int channels, Span<float> scale);

    /// <summary>The scale per channel that <see cref="Forward(ReadOnlySpan{float}, Span{float}, int, Span{float})"/> uses.</summary>
    void ComputeScale(ReadOnlySpan<float> x, int channels, Span<float> scale);
}

/// <summary>A quantizer that is random in training and deterministic at inference.</summary>
public interface IStochasticQuantizer : IQuantizer
{
    /// <summary>The training forward pass, drawing from <paramref name="random"/> (seed it for
    /// reproducible runs); <see cref="IQuantizer.Forward(ReadOnlySpan{float}, Span{float}, int)"/> is inference.</summary>
    void ForwardTraining(ReadOnlySpan<float> x, Span<float> y, int channels, Random random);
}
