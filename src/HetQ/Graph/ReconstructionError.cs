using HetQ.Nn;
using HetQ.Quantization;

namespace HetQ.Graph;

/// <summary>Appends an autoencoder's anomaly score to its frozen graph (<see cref="ReconstructionErrorOp"/>): the
/// graph then outputs one score per event instead of the reconstruction.</summary>
internal static class ReconstructionError
{
    /// <summary>The graph a chip of <paramref name="task"/> runs: an autoencoder's with its score appended, any other unchanged.</summary>
    public static IntegerGraph ForTask(IntegerGraph g, ModelTask? task) =>
        task is { Kind: TaskKind.Autoencoder } t ? Append(g, t.Score) : g;

    /// <summary>The graph of <paramref name="g"/> followed by the reconstruction error between its input (node 0) and
    /// its output; the score type is inferred from the two types so that no sum overflows.</summary>
    public static IntegerGraph Append(IntegerGraph g, ScoreNorm norm)
    {
        var x = g.Input.Output;
        var y = g.Output.Output;
        if (g.Output.Op is ReconstructionErrorOp) throw new HetQException($"graph '{g.Name}' already ends with a reconstruction error");
        if (x.Size != y.Size)
            throw new HetQException($"graph '{g.Name}': the reconstruction error needs as many outputs as inputs; '{g.Output.Name}' has {y.Size}, the input {x.Size}");
        bool squared = norm == ScoreNorm.L2;
        var (frac, type) = Type(x.Type, y.Type, x.Size, squared, g.Name);
        var node = new GraphNode("score", new ReconstructionErrorOp(squared, frac, type), [0, g.Nodes.Count - 1], new TensorType([1], type));
        string what = squared ? "squared" : "absolute";
        var notes = g.Notes.Append($"'score': the sum of {what} differences between the input and '{g.Output.Name}' ({type}), one per sample").ToList();
        return g with { Nodes = [.. g.Nodes, node], Notes = notes };
    }

    /// <summary>The common fractional bits of the differences and the type of their sum.</summary>
    internal static (int Frac, FixedType Type) Type(FixedType x, FixedType y, int size, bool squared, string name)
    {
        int frac = Math.Max(x.FractionalBits, y.FractionalBits);
        Int128 Align(long raw, FixedType t) => (Int128)raw << (frac - t.FractionalBits);
        Int128 lo = Align(x.MinRaw, x) - Align(y.MaxRaw, y), hi = Align(x.MaxRaw, x) - Align(y.MinRaw, y);
        Int128 most = Int128.Max(Int128.Abs(lo), Int128.Abs(hi));
        Int128 each = squared ? most * most : most;
        if (each > Int128.MaxValue / size) throw new HetQException($"graph '{name}': the reconstruction error of {x} and {y} would need more than {FixedType.MaxWidth} bits");
        try
        {
            return (frac, TypeInference.Holding(0, each * size, squared ? 2 * frac : frac));
        }
        catch (HetQException)
        {
            throw new HetQException($"graph '{name}': the reconstruction error of {size} values of {x} and {y} needs more than {FixedType.MaxWidth} bits; quantize the output layer (an activation quantizer) to fewer bits");
        }
    }
}
