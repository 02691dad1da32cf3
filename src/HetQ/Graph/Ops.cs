using System.Text.Json.Serialization;
using HetQ.Quantization;

namespace HetQ.Graph;

/// <summary>An operation of the frozen integer graph. Every op is defined by its integer emulation
/// (<see cref="Emulation.Emulator"/>); cost models and the Verilog writer read the same records.</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "op")]
[JsonDerivedType(typeof(InputOp), "input")]
[JsonDerivedType(typeof(DenseOp), "dense")]
[JsonDerivedType(typeof(ConvOp), "conv")]
[JsonDerivedType(typeof(DepthwiseConvOp), "depthwise_conv")]
[JsonDerivedType(typeof(MaxPoolOp), "max_pool")]
[JsonDerivedType(typeof(AvgPoolOp), "avg_pool")]
[JsonDerivedType(typeof(FlattenOp), "flatten")]
[JsonDerivedType(typeof(AddOp), "add")]
[JsonDerivedType(typeof(RequantOp), "requant")]
public abstract record Op
{
    /// <summary>Dispatches to the visitor's method for this op: every consumer of the graph (emulation, cost,
    /// hardware) implements <see cref="IOpVisitor{T}"/>, so an op it does not handle does not compile.</summary>
    public abstract T Accept<T>(IOpVisitor<T> visitor);
}

/// <summary>The graph input: a float value x becomes the raw code ToRaw(x, format).</summary>
public sealed record InputOp(FixedFormat Format) : Op
{
    /// <inheritdoc/>
    public override T Accept<T>(IOpVisitor<T> visitor) => visitor.Visit(this);
}

/// <summary>How an accumulator becomes the op's output: optional ReLU (max with 0), then requantization to
/// <see cref="Format"/> with its rounding and overflow; without a format the accumulator is the output.</summary>
public sealed record Requantization(bool Relu, FixedFormat? Format);

/// <summary>y[j] = requant(Σ_i x[i]·W[i,j] + b[j]); weights [in, out] as raw codes of <see cref="WeightType"/>;
/// the accumulator has <see cref="AccType"/> (inferred so that nothing overflows).</summary>
public sealed record DenseOp(int In, int Out, long[] Weights, FixedType WeightType, long[]? Bias, FixedType? BiasType,
    FixedType AccType, Requantization Output) : Op
{
    /// <inheritdoc/>
    public override T Accept<T>(IOpVisitor<T> visitor) => visitor.Visit(this);
}

/// <summary>Window geometry over a channels-last input (1D ops use InH = KH = SH = 1).</summary>
public sealed record Window(int InH, int InW, int Channels, int KH, int KW, int SH, int SW, int PadTop, int PadLeft, int OutH, int OutW)
{
    /// <summary>The input positions (y, x) and kernel taps (ky, kx) of output (oy, ox) that lie inside the input
    /// (taps in the padding are left out).</summary>
    public IEnumerable<(int Y, int X, int KY, int KX)> Taps(int oy, int ox)
    {
        for (int ky = 0; ky < KH; ky++)
        {
            int iy = oy * SH + ky - PadTop;
            if (iy < 0 || iy >= InH) continue;
            for (int kx = 0; kx < KW; kx++)
            {
                int ix = ox * SW + kx - PadLeft;
                if (ix < 0 || ix >= InW) continue;
                yield return (iy, ix, ky, kx);
            }
        }
    }
}

/// <summary>Convolution: kernel [KH, KW, C, F] raw codes; same accumulation and requantization as dense.</summary>
public sealed record ConvOp(Window Window, int Filters, long[] Weights, FixedType WeightType, long[]? Bias, FixedType? BiasType,
    FixedType AccType, Requantization Output) : Op
{
    /// <inheritdoc/>
    public override T Accept<T>(IOpVisitor<T> visitor) => visitor.Visit(this);
}

/// <summary>Depthwise convolution: kernel [KH, KW, C, M]; output channel c·M + m sees input channel c.</summary>
public sealed record DepthwiseConvOp(Window Window, int Multiplier, long[] Weights, FixedType WeightType, long[]? Bias, FixedType? BiasType,
    FixedType AccType, Requantization Output) : Op
{
    /// <inheritdoc/>
    public override T Accept<T>(IOpVisitor<T> visitor) => visitor.Visit(this);
}

/// <summary>Maximum over each window (padding never wins); the type is unchanged.</summary>
public sealed record MaxPoolOp(Window Window) : Op
{
    /// <inheritdoc/>
    public override T Accept<T>(IOpVisitor<T> visitor) => visitor.Visit(this);
}

/// <summary>Average over windows of 2^k elements without padding: the sum read with k more fractional bits, then requantized.</summary>
public sealed record AvgPoolOp(Window Window, FixedType SumType, Requantization Output) : Op
{
    /// <inheritdoc/>
    public override T Accept<T>(IOpVisitor<T> visitor) => visitor.Visit(this);
}

/// <summary>Row-major reshape to one axis; codes unchanged.</summary>
public sealed record FlattenOp : Op
{
    /// <inheritdoc/>
    public override T Accept<T>(IOpVisitor<T> visitor) => visitor.Visit(this);
}

/// <summary>Sum of the inputs aligned to the finest fractional step (<see cref="SumType"/>), then requantized.</summary>
public sealed record AddOp(FixedType SumType, Requantization Output) : Op
{
    /// <inheritdoc/>
    public override T Accept<T>(IOpVisitor<T> visitor) => visitor.Visit(this);
}

/// <summary>ReLU and/or requantization of one input (an activation layer, a QActivation).</summary>
public sealed record RequantOp(Requantization Output) : Op
{
    /// <inheritdoc/>
    public override T Accept<T>(IOpVisitor<T> visitor) => visitor.Visit(this);
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
}
