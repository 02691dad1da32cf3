using System.Text.Json.Serialization;
using HetQ.Numerics;
using HetQ.Quantization;

namespace HetQ.Graph;

/// <summary>An operation of the frozen integer graph. Every op is defined by its integer emulation
/// (<see cref="Emulation.Emulator"/>); cost models and the Verilog writer read the same records. Each op's
/// <see cref="Name"/> is its JSON discriminator, the one name every command prints.</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "op")]
[JsonDerivedType(typeof(InputOp), InputOp.Tag)]
[JsonDerivedType(typeof(DenseOp), DenseOp.Tag)]
[JsonDerivedType(typeof(ConvOp), ConvOp.Tag)]
[JsonDerivedType(typeof(DepthwiseConvOp), DepthwiseConvOp.Tag)]
[JsonDerivedType(typeof(MaxPoolOp), MaxPoolOp.Tag)]
[JsonDerivedType(typeof(AvgPoolOp), AvgPoolOp.Tag)]
[JsonDerivedType(typeof(FlattenOp), FlattenOp.Tag)]
[JsonDerivedType(typeof(AddOp), AddOp.Tag)]
[JsonDerivedType(typeof(RequantOp), RequantOp.Tag)]
[JsonDerivedType(typeof(ReconstructionErrorOp), ReconstructionErrorOp.Tag)]
[JsonDerivedType(typeof(ClipOp), ClipOp.Tag)]
public abstract record Op
{
    /// <summary>The op's name: its JSON discriminator, printed by freeze, estimate and the Verilog comments.</summary>
    [JsonIgnore] public abstract string Name { get; }

    /// <summary>Dispatches to the visitor's method for this op: every consumer of the graph (emulation, cost,
    /// hardware) implements <see cref="IOpVisitor{T}"/>, so an op it does not handle does not compile.</summary>
    public abstract T Accept<T>(IOpVisitor<T> visitor);

    /// <summary>The requantization the op's output goes through (null for ops that pass codes through or compute them
    /// exactly: input, max pooling, flatten, reconstruction error).</summary>
    [JsonIgnore] public abstract Requantization? Requantized { get; }

    /// <summary>Whether the op's emulation (and Verilog) requantize each output element to its own format when
    /// <see cref="Requantized"/> has per-element formats (learned bit widths); an op that does not refuses such a graph.</summary>
    [JsonIgnore] public abstract bool ElementFormats { get; }
}

/// <summary>The graph input: a float value x becomes the raw code ToRaw(x, format).
/// With <see cref="Elements"/> element e is quantized to its own format (null: always 0) and stored as a code of <see cref="Format"/>.</summary>
public sealed record InputOp(FixedFormat Format, IReadOnlyList<FixedFormat?>? Elements = null) : Op
{
    internal const string Tag = "input";
    /// <inheritdoc/>
    [JsonIgnore] public override string Name => Tag;
    /// <inheritdoc/>
    public override T Accept<T>(IOpVisitor<T> visitor) => visitor.Visit(this);
    /// <inheritdoc/>
    [JsonIgnore] public override Requantization? Requantized => null;
    /// <inheritdoc/>
    [JsonIgnore] public override bool ElementFormats => false;
}

/// <summary>How an accumulator becomes the op's output: optional ReLU (max with 0), then requantization to
/// <see cref="Format"/> with its rounding and overflow; without a format the accumulator is the output.
/// With <see cref="Elements"/> (learned bit widths) output element e is requantized to its own format (null: always 0)
/// and the code is then re-expressed, exactly, on <see cref="Format"/> (the finest step and widest range of them).</summary>
public sealed record Requantization(bool Relu, FixedFormat? Format, IReadOnlyList<FixedFormat?>? Elements = null)
{
    /// <summary>True when the accumulator is the output unchanged (no ReLU, no format, no per-element formats).</summary>
    [JsonIgnore] public bool IsIdentity => !Relu && Format is null && Elements is null;
}

/// <summary>The three weighted ops (dense, convolution, depthwise convolution) as one shape: at every output position
/// of <see cref="Geometry"/>, output channel o sums requant(Σ x·w + b[o]) over the kernel taps inside the input, with
/// weights as raw codes of <see cref="WeightType"/> and an accumulator of <see cref="AccType"/>.</summary>
public abstract record WeightedOp : Op
{
    /// <summary>Raw weight codes, in the layout of the op.</summary>
    public abstract long[] Weights { get; init; }
    /// <summary>The type of the weight codes.</summary>
    public abstract FixedType WeightType { get; init; }
    /// <summary>Raw bias codes, one per output channel, or none.</summary>
    public abstract long[]? Bias { get; init; }
    /// <summary>The type of the bias codes.</summary>
    public abstract FixedType? BiasType { get; init; }
    /// <summary>The accumulator's type (inferred so that nothing overflows).</summary>
    public abstract FixedType AccType { get; init; }
    /// <summary>How the accumulator becomes the output.</summary>
    public abstract Requantization Output { get; init; }
    /// <inheritdoc/>
    [JsonIgnore] public sealed override Requantization? Requantized => Output;
    /// <inheritdoc/>
    [JsonIgnore] public sealed override bool ElementFormats => true;
    /// <summary>The window the op slides (a dense layer: one position, one tap).</summary>
    [JsonIgnore] public abstract Window Geometry { get; }
    /// <summary>Output channels at each position.</summary>
    [JsonIgnore] public abstract int OutChannels { get; }

    /// <summary>The weight codes that output channel <paramref name="output"/> multiplies at kernel tap
    /// <paramref name="tap"/> (ky·KW + kx), with the input channel each one reads.</summary>
    public abstract IEnumerable<(int InChannel, long Code)> Codes(int tap, int output);
}

/// <summary>y[j] = requant(Σ_i x[i]·W[i,j] + b[j]); weights [in, out] as raw codes of <see cref="WeightType"/>;
/// the accumulator has <see cref="AccType"/> (inferred so that nothing overflows).</summary>
public sealed record DenseOp(int In, int Out, long[] Weights, FixedType WeightType, long[]? Bias, FixedType? BiasType,
    FixedType AccType, Requantization Output) : WeightedOp
{
    internal const string Tag = "dense";
    /// <inheritdoc/>
    [JsonIgnore] public override string Name => Tag;
    /// <inheritdoc/>
    [JsonIgnore] public override Window Geometry => Window.Dense(In);
    /// <inheritdoc/>
    [JsonIgnore] public override int OutChannels => Out;
    /// <inheritdoc/>
    public override IEnumerable<(int InChannel, long Code)> Codes(int tap, int output)
    {
        for (int i = 0; i < In; i++) yield return (i, Weights[i * Out + output]);
    }
    /// <inheritdoc/>
    public override T Accept<T>(IOpVisitor<T> visitor) => visitor.Visit(this);
}

/// <summary>Convolution: kernel [KH, KW, C, F] raw codes; same accumulation and requantization as dense.</summary>
public sealed record ConvOp(Window Window, int Filters, long[] Weights, FixedType WeightType, long[]? Bias, FixedType? BiasType,
    FixedType AccType, Requantization Output) : WeightedOp
{
    internal const string Tag = "conv";
    /// <inheritdoc/>
    [JsonIgnore] public override string Name => Tag;
    /// <inheritdoc/>
    [JsonIgnore] public override Window Geometry => Window;
    /// <inheritdoc/>
    [JsonIgnore] public override int OutChannels => Filters;
    /// <inheritdoc/>
    public override IEnumerable<(int InChannel, long Code)> Codes(int tap, int output)
    {
        int c = Window.Channels;
        for (int i = 0; i < c; i++) yield return (i, Weights[(tap * c + i) * Filters + output]);
    }
    /// <inheritdoc/>
    public override T Accept<T>(IOpVisitor<T> visitor) => visitor.Visit(this);
}

/// <summary>Depthwise convolution: kernel [KH, KW, C, M]; output channel c·M + m sees input channel c.</summary>
public sealed record DepthwiseConvOp(Window Window, int Multiplier, long[] Weights, FixedType WeightType, long[]? Bias, FixedType? BiasType,
    FixedType AccType, Requantization Output) : WeightedOp
{
    internal const string Tag = "depthwise_conv";
    /// <inheritdoc/>
    [JsonIgnore] public override string Name => Tag;
    /// <inheritdoc/>
    [JsonIgnore] public override Window Geometry => Window;
    /// <inheritdoc/>
    [JsonIgnore] public override int OutChannels => Window.Channels * Multiplier;
    /// <inheritdoc/>
    public override IEnumerable<(int InChannel, long Code)> Codes(int tap, int output)
    {
        yield return (output / Multiplier, Weights[tap * OutChannels + output]);
    }
    /// <inheritdoc/>
    public override T Accept<T>(IOpVisitor<T> visitor) => visitor.Visit(this);
}

/// <summary>Maximum over each window (padding never wins); the type is unchanged.</summary>
public sealed record MaxPoolOp(Window Window) : Op
{
    internal const string Tag = "max_pool";
    /// <inheritdoc/>
    [JsonIgnore] public override string Name => Tag;
    /// <inheritdoc/>
    public override T Accept<T>(IOpVisitor<T> visitor) => visitor.Visit(this);
    /// <inheritdoc/>
    [JsonIgnore] public override Requantization? Requantized => null;
    /// <inheritdoc/>
    [JsonIgnore] public override bool ElementFormats => false;
}

/// <summary>Average over windows of 2^k elements without padding: the sum read with k more fractional bits, then requantized.</summary>
public sealed record AvgPoolOp(Window Window, FixedType SumType, Requantization Output) : Op
{
    internal const string Tag = "avg_pool";
    /// <inheritdoc/>
    [JsonIgnore] public override string Name => Tag;
    /// <inheritdoc/>
    public override T Accept<T>(IOpVisitor<T> visitor) => visitor.Visit(this);
    /// <inheritdoc/>
    [JsonIgnore] public override Requantization? Requantized => Output;
    /// <inheritdoc/>
    [JsonIgnore] public override bool ElementFormats => false;
}

/// <summary>Row-major reshape to one axis; codes unchanged.</summary>
public sealed record FlattenOp : Op
{
    internal const string Tag = "flatten";
    /// <inheritdoc/>
    [JsonIgnore] public override string Name => Tag;
    /// <inheritdoc/>
    public override T Accept<T>(IOpVisitor<T> visitor) => visitor.Visit(this);
    /// <inheritdoc/>
    [JsonIgnore] public override Requantization? Requantized => null;
    /// <inheritdoc/>
    [JsonIgnore] public override bool ElementFormats => false;
}

/// <summary>Sum of the inputs aligned to the finest fractional step (<see cref="SumType"/>), then requantized.</summary>
public sealed record AddOp(FixedType SumType, Requantization Output) : Op
{
    internal const string Tag = "add";
    /// <inheritdoc/>
    [JsonIgnore] public override string Name => Tag;
    /// <inheritdoc/>
    public override T Accept<T>(IOpVisitor<T> visitor) => visitor.Visit(this);
    /// <inheritdoc/>
    [JsonIgnore] public override Requantization? Requantized => Output;
    /// <inheritdoc/>
    [JsonIgnore] public override bool ElementFormats => false;
}

/// <summary>ReLU and/or requantization of one input (an activation layer, a QActivation).</summary>
public sealed record RequantOp(Requantization Output) : Op
{
    internal const string Tag = "requant";
    /// <inheritdoc/>
    [JsonIgnore] public override string Name => Tag;
    /// <inheritdoc/>
    public override T Accept<T>(IOpVisitor<T> visitor) => visitor.Visit(this);
    /// <inheritdoc/>
    [JsonIgnore] public override Requantization? Requantized => Output;
    /// <inheritdoc/>
    [JsonIgnore] public override bool ElementFormats => true;
}

/// <summary>y = requant(min(max(x, Lo), Hi)) with Lo and Hi raw codes of the input's type (a hard_tanh or clip
/// activation; the bounds lie on the input's grid, so the clamp is exact).</summary>
public sealed record ClipOp(long Lo, long Hi, Requantization Output) : Op
{
    internal const string Tag = "clip";
    /// <inheritdoc/>
    [JsonIgnore] public override string Name => Tag;
    /// <inheritdoc/>
    public override T Accept<T>(IOpVisitor<T> visitor) => visitor.Visit(this);
    /// <inheritdoc/>
    [JsonIgnore] public override Requantization? Requantized => Output;
    /// <inheritdoc/>
    [JsonIgnore] public override bool ElementFormats => false;
}

/// <summary>An autoencoder's anomaly score, one value per sample: Σ_i d_i² (<see cref="Squared"/>) or Σ_i |d_i| with
/// d_i = x_i − y_i over its two inputs of equal size (the quantized graph input x and the reconstruction y), both
/// aligned to <see cref="Frac"/> fractional bits; <see cref="ScoreType"/> (2·Frac or Frac fractional bits) holds every
/// possible sum, so nothing overflows. Built by <see cref="ReconstructionError.Append"/>.</summary>
public sealed record ReconstructionErrorOp(bool Squared, int Frac, FixedType ScoreType) : Op
{
    internal const string Tag = "reconstruction_error";
    /// <inheritdoc/>
    [JsonIgnore] public override string Name => Tag;
    /// <inheritdoc/>
    public override T Accept<T>(IOpVisitor<T> visitor) => visitor.Visit(this);
    /// <inheritdoc/>
    [JsonIgnore] public override Requantization? Requantized => null;
    /// <inheritdoc/>
    [JsonIgnore] public override bool ElementFormats => false;
}

/// <summary>One method per op. Implemented by every consumer of the integer graph; adding an op adds a method
/// here, and the compiler then names every consumer that lacks it.</summary>
public interface IOpVisitor<out T>
{
    /// <summary>Handles <see cref="InputOp"/>.</summary>
    T Visit(InputOp op);
    /// <summary>Handles <see cref="DenseOp"/>.</summary>
    T Visit(DenseOp op);
    /// <summary>Handles <see cref="ConvOp"/>.</summary>
    T Visit(ConvOp op);
    /// <summary>Handles <see cref="DepthwiseConvOp"/>.</summary>
    T Visit(DepthwiseConvOp op);
    /// <summary>Handles <see cref="MaxPoolOp"/>.</summary>
    T Visit(MaxPoolOp op);
    /// <summary>Handles <see cref="AvgPoolOp"/>.</summary>
    T Visit(AvgPoolOp op);
    /// <summary>Handles <see cref="FlattenOp"/>.</summary>
    T Visit(FlattenOp op);
    /// <summary>Handles <see cref="AddOp"/>.</summary>
    T Visit(AddOp op);
    /// <summary>Handles <see cref="RequantOp"/>.</summary>
    T Visit(RequantOp op);
    /// <summary>Handles <see cref="ReconstructionErrorOp"/>.</summary>
    T Visit(ReconstructionErrorOp op);
    /// <summary>Handles <see cref="ClipOp"/>.</summary>
    T Visit(ClipOp op);
}
