using HetQ.Graph;
using HetQ.Quantization;

namespace HetQ.Emulation;

/// <summary>Per-element requantization (learned bit widths): element e goes through its own format, then its code is
/// shifted, exactly, onto the tensor's common type (finest step); a null format (width 0) gives 0.</summary>
internal sealed class ElementRequantizer
{
    private readonly Requantizer?[] _rq;
    private readonly int[] _shift;

    public ElementRequantizer(Requantization r, int fromFrac)
    {
        var common = r.Format ?? throw new HetQException("per-element requantization needs a common format");
        var elements = r.Elements ?? throw new HetQException("per-element requantization needs element formats");
        _rq = elements.Select(f => f is { } x ? new Requantizer(new Requantization(r.Relu, x), fromFrac) : (Requantizer?)null).ToArray();
        _shift = Shifts(elements, common.Type.FractionalBits);
    }

    /// <summary>For each element, how far its code moves left onto the common type's step (0 for a pruned element).</summary>
    internal static int[] Shifts(IReadOnlyList<FixedFormat?> elements, int commonFrac) =>
        elements.Select(f => f is { } x ? commonFrac - x.Type.FractionalBits : 0).ToArray();

    /// <summary>The code, on the common type, of element <paramref name="e"/> for accumulator <paramref name="acc"/>.</summary>
    public long Apply(int e, long acc) => _rq[e] is { } q ? q.Apply(acc) << _shift[e] : 0;

    /// <summary>The per-element requantizer of <paramref name="r"/>, or null when it has one format for all elements.</summary>
    public static ElementRequantizer? For(Requantization r, int fromFrac) => r.Elements is null ? null : new ElementRequantizer(r, fromFrac);
}

/// <summary>Per-element input quantization: element e to its own format, its code shifted onto the common format.</summary>
internal sealed class ElementInputQuantizer
{
    private readonly InputQuantizer?[] _q;
    private readonly int[] _shift;

    public ElementInputQuantizer(InputOp op)
    {
        var elements = op.Elements ?? throw new HetQException("per-element input quantization needs element formats");
        _q = elements.Select(f => f is { } x ? new InputQuantizer(x) : (InputQuantizer?)null).ToArray();
        _shift = ElementRequantizer.Shifts(elements, op.Format.Type.FractionalBits);
    }

    public int Size => _q.Length;

    public long Apply(int e, float x) => _q[e] is { } q ? q.Apply(x) << _shift[e] : 0;
}
