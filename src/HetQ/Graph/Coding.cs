using HetQ.Nn;
using HetQ.Nn.Layers;
using HetQ.Numerics;
using HetQ.Quantization;

namespace HetQ.Graph;

/// <summary>The numbers of a lowering (<see cref="Lowering"/>): how weights become codes, and the types of the input,
/// the accumulators and every layer's output. A method that cannot code a layer throws <see cref="LoweringException"/>.</summary>
internal abstract class Coding
{
    /// <summary>The input node's format.</summary>
    public abstract FixedFormat InputFormat { get; }

    /// <summary>The input's per-element formats (a learned input quantizer; null: one format for all elements).</summary>
    public virtual IReadOnlyList<FixedFormat?>? InputElements => null;

    /// <summary>The raw codes and type of a kernel or bias (<paramref name="role"/>).</summary>
    public abstract (long[] Raw, FixedType Type) Codes(Parameter p, string role);

    /// <summary>The accumulator type of Σ x·w + b for <paramref name="outputs"/> outputs; <paramref name="column"/>(j)
    /// is the weight codes output j sums.</summary>
    public abstract FixedType Accumulator(FixedType x, FixedType weightType, long[]? bias, FixedType? biasType, int outputs, Func<int, long[]> column);

    /// <summary>The output stage of <paramref name="layer"/>: its activation and its activation quantizer.</summary>
    public abstract Requantization Output(Layer layer, Activation activation, List<string> notes);

    /// <summary>The sum type of an add of <paramref name="inputs"/>.</summary>
    public abstract FixedType AddSum(TensorType[] inputs);

    /// <summary>The sum type of average pooling over <paramref name="window"/>.</summary>
    public abstract FixedType PoolSum(Window window, FixedType input);

    /// <summary>Checks that a dense layer on an input of rank > 1 (a 1x1 convolution over the positions) can be coded.</summary>
    public virtual void CheckPointwiseDense(Layer layer) { }

    /// <summary>Checks that max pooling <paramref name="layer"/> can be coded.</summary>
    public virtual void CheckMaxPool(Layer layer) { }

    /// <summary>A batch norm left in the model: an error, or a note that it costs nothing.</summary>
    public abstract void BatchNorm(Layer layer, List<string> notes);

    /// <summary>True when a softmax or sigmoid at the output is left out (the graph outputs the logits).</summary>
    public abstract bool DropsOutputActivation(ActivationLayer layer);

    /// <summary>True when an activation may replace the output stage <paramref name="producer"/> of the op before it.</summary>
    public abstract bool Fuses(Requantization producer);
}
