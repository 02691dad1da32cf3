using HetQ.Graph;
using HetQ.Quantization;

namespace HetQ.Emulation;

/// <summary>Per-element requantization (learned bit widths): element e goes through its own format, then its code is
/// shifted, exactly, onto the tensor's common type (finest step); a null format (width 0) gives 0.</summary>
public sealed class ElementRequantizer
{
    private readonly Requantizer[] _rq;
    private readonly int[] _shift;
    private readonly bool[] _zero;

    public ElementRequantizer(Requantization r, int fromFrac)
    {
        var common = r.Format ?? throw new HetQException("per-element requantization needs a common format");
        var elements = r.Elements ?? throw new HetQException("per-element requantization needs element formats");
        int n = elements.Count;
        _rq = new Requantizer[n];
        _shift = new int[n];
        _zero = new bool[n];
        for (int e = 0; e < n; e++)
        {
            if (elements[e] is not FixedFormat f)
            {
                _zero[e] = true;
                continue;
            }
            _rq[e] = new Requantizer(new Requantization(r.Relu, f), fromFrac);
            _shift[e] = common.Type.FractionalBits - f.Type.FractionalBits;
        }
    }

    /// <summary>The code, on the common type, of element <paramref name="e"/> for accumulator <paramref name="acc"/>.</summary>
    public long Apply(int e, long acc) => _zero[e] ? 0 : _rq[e].Apply(acc) << _shift[e];

    /// <summary>The per-element requantizer of <paramref name="r"/>, or null when it has one format for all elements.</summary>
    public static ElementRequantizer? For(Requantization r, int fromFrac) => r.Elements is null ? null : new ElementRequantizer(r, fromFrac);
}

/// <summary>Per-element input quantization: element e to its own format, its code shifted onto the common format.</summary>
public sealed class ElementInputQuantizer
{
    private readonly InputQuantizer[] _q;
    private readonly int[] _shift;
    private readonly bool[] _zero;

    public ElementInputQuantizer(InputOp op)
    {
        var elements = op.Elements ?? throw new HetQException("per-element input quantization needs element formats");
        int n = elements.Count;
        _q = new InputQuantizer[n];
        _shift = new int[n];
        _zero = new bool[n];
        for (int e = 0; e < n; e++)
        {
            if (elements[e] is not FixedFormat f)
            {
                _zero[e] = true;
                continue;
            }
            _q[e] = new InputQuantizer(f);
            _shift[e] = op.Format.Type.FractionalBits - f.Type.FractionalBits;
        }
    }

    public int Size => _q.Length;

    public long Apply(int e, float x) => _zero[e] ? 0 : _q[e].Apply(x) << _shift[e];
}
