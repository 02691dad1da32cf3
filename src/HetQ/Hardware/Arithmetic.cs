using System.Diagnostics;
using System.Numerics;
using HetQ.Graph;
using HetQ.Quantization;

namespace HetQ.Hardware;

/// <summary>One product of a sum: <see cref="X"/> times the constant <see cref="Weight"/> times 2^<see cref="Shift"/>.</summary>
internal readonly record struct Term(Sig X, long Weight, int Shift);

/// <summary>The arithmetic the writer builds from: constant multiplication as shift-and-add on canonical signed
/// digits, balanced trees of two-input adders each sized from the exact bounds of what it sums, requantization
/// (ReLU, rounding, overflow) as <see cref="FixedPoint.Requantize"/> defines it, and two-input maximum trees.</summary>
internal static class Arithmetic
{
    /// <summary>Canonical signed digits of <paramref name="w"/>: w = Σ digit·2^position, digits ±1, no two adjacent
    /// (the fewest nonzero digits, hence the fewest adders; zero has none).</summary>
    public static List<(int Digit, int Position)> Csd(long w)
    {
        var digits = new List<(int, int)>();
        var n = (BigInteger)w;
        for (int k = 0; !n.IsZero; k++, n >>= 1)
        {
            if (n.IsEven) continue;
            int d = (int)(n & 3) == 1 ? 1 : -1;
            digits.Add((d, k));
            n -= d;
        }
        return digits;
    }

    /// <summary>A node of an adder tree: its value is ±wire·2^Shift and equals Σ coefficient·wire over the leaf
    /// wires it covers (by origin), which gives exact bounds for independent inputs.</summary>
    internal sealed record TreeNode(Sig Wire, bool Negated, LeafSet Leaves)
    {
        public (BigInteger Lo, BigInteger Hi) Bounds() => (Leaves.Lo, Leaves.Hi);
    }

    /// <summary>The leaves of a tree node: per origin wire (in increasing order) its bounds and its coefficient, and the
    /// node's exact bounds Σ min/max(coefficient · bound), kept with the set so that merging two sets costs one pass.</summary>
    internal sealed class LeafSet
    {
        private readonly int[] _origin;
        private readonly BigInteger[] _lo, _hi, _coef;

        private LeafSet(int[] origin, BigInteger[] lo, BigInteger[] hi, BigInteger[] coef, BigInteger sumLo, BigInteger sumHi)
        {
            (_origin, _lo, _hi, _coef, Lo, Hi) = (origin, lo, hi, coef, sumLo, sumHi);
        }

        public BigInteger Lo { get; }
        public BigInteger Hi { get; }

        public static LeafSet One(int origin, BigInteger lo, BigInteger hi, BigInteger coef)
        {
            var (a, b) = Contribution(lo, hi, coef);
            return new LeafSet([origin], [lo], [hi], [coef], a, b);
        }

        private static (BigInteger Lo, BigInteger Hi) Contribution(BigInteger lo, BigInteger hi, BigInteger coef)
        {
            BigInteger a = coef * lo, b = coef * hi;
            return a <= b ? (a, b) : (b, a);
        }

        /// <summary>Every coefficient times <paramref name="factor"/> (nonzero).</summary>
        public LeafSet Scaled(BigInteger factor)
        {
            var coef = new BigInteger[_coef.Length];
            for (int i = 0; i < coef.Length; i++) coef[i] = _coef[i] * factor;
            var (lo, hi) = factor.Sign > 0 ? (Lo * factor, Hi * factor) : (Hi * factor, Lo * factor);
            return new LeafSet(_origin, _lo, _hi, coef, lo, hi);
        }

        /// <summary>The leaves of a + b: coefficients of a shared origin added (dropped when they cancel).</summary>
        public static LeafSet Sum(LeafSet a, LeafSet b)
        {
            int n = a._origin.Length + b._origin.Length;
            var origin = new int[n];
            var lo = new BigInteger[n];
            var hi = new BigInteger[n];
            var coef = new BigInteger[n];
            BigInteger sumLo = a.Lo + b.Lo, sumHi = a.Hi + b.Hi;
            int i = 0, j = 0, k = 0;
            while (i < a._origin.Length || j < b._origin.Length)
            {
                if (j == b._origin.Length || (i < a._origin.Length && a._origin[i] < b._origin[j]))
                {
                    (origin[k], lo[k], hi[k], coef[k]) = (a._origin[i], a._lo[i], a._hi[i], a._coef[i]);
                    i++;
                    k++;
                }
                else if (i == a._origin.Length || b._origin[j] < a._origin[i])
                {
                    (origin[k], lo[k], hi[k], coef[k]) = (b._origin[j], b._lo[j], b._hi[j], b._coef[j]);
                    j++;
                    k++;
                }
                else
                {
                    // the same wire in both: its contributions are replaced by that of the summed coefficient
                    var (al, ah) = Contribution(a._lo[i], a._hi[i], a._coef[i]);
                    var (bl, bh) = Contribution(b._lo[j], b._hi[j], b._coef[j]);
                    BigInteger c = a._coef[i] + b._coef[j];
                    sumLo -= al + bl;
                    sumHi -= ah + bh;
                    if (!c.IsZero)
                    {
                        var (cl, ch) = Contribution(b._lo[j], b._hi[j], c);
                        sumLo += cl;
                        sumHi += ch;
                        (origin[k], lo[k], hi[k], coef[k]) = (b._origin[j], b._lo[j], b._hi[j], c);
                        k++;
                    }
                    i++;
                    j++;
                }
            }
            if (k < n)
            {
                Array.Resize(ref origin, k);
                Array.Resize(ref lo, k);
                Array.Resize(ref hi, k);
                Array.Resize(ref coef, k);
            }
            return new LeafSet(origin, lo, hi, coef, sumLo, sumHi);
        }
    }

    /// <summary>Σ terms + <paramref name="constant"/> (in the terms' units). The tree's rounds take levels
    /// <paramref name="level"/>, level + 1, ...; the constant is added on the returned output level, where the
    /// caller requantizes. Constant inputs fold into the constant; zero weights cost nothing.</summary>
    public static (Sig Sum, int OutputLevel) Sum(Netlist net, string prefix, IEnumerable<Term> terms, BigInteger constant, int level)
    {
        var nodes = new List<TreeNode>();
        foreach (var t in terms)
        {
            if (t.Weight == 0) continue;
            if (t.X.IsConstant)
            {
                constant += t.X.Lo * t.Weight << t.Shift;
                continue;
            }
            foreach (var (d, k) in Csd(t.Weight))
            {
                int shift = t.X.Shift + t.Shift + k;
                var coef = (BigInteger)d << shift;
                nodes.Add(new TreeNode(t.X with { Shift = shift }, d < 0, LeafSet.One(t.X.Origin, t.X.Lo, t.X.Hi, coef)));
            }
        }
        if (nodes.Count == 0) return (Sig.Constant(constant), level);
        // Neighbours with equal shifts share their zero low bits, so pair them first.
        nodes = nodes.Select((n, i) => (n, i)).OrderBy(p => p.n.Wire.Shift).ThenBy(p => p.i).Select(p => p.n).ToList();
        var (root, outLevel) = Tree(nodes, level, (a, b, l) => Combine(net, prefix, a, b, l));
        return (AddConstant(net, prefix, root, constant, outLevel), outLevel);
    }

    /// <summary>Reduces <paramref name="items"/> (at least one) with a balanced tree of two-input <paramref name="combine"/>s,
    /// one round per level from <paramref name="level"/> (an odd item out goes on to the next round); returns the root
    /// and the level after the last round.</summary>
    internal static (T Root, int Level) Tree<T>(IReadOnlyList<T> items, int level, Func<T, T, int, T> combine)
    {
        var round = items;
        while (round.Count > 1)
        {
            var next = new List<T>((round.Count + 1) / 2);
            for (int i = 0; i + 1 < round.Count; i += 2) next.Add(combine(round[i], round[i + 1], level));
            if (round.Count % 2 == 1) next.Add(round[^1]);
            round = next;
            level++;
        }
        return (round[0], level);
    }

    /// <summary>The adder a + b (either may be negated) on <paramref name="level"/>, sized from the exact bounds of the sum.</summary>
    internal static TreeNode Combine(Netlist net, string prefix, TreeNode a, TreeNode b, int level, char kind = 's')
    {
        var leaves = LeafSet.Sum(a.Leaves, b.Leaves);
        // Both negative: sum the magnitudes and stay negative; one negative: subtract it from the other.
        bool negated = a.Negated && b.Negated;
        var (first, second, subtract) = (a.Negated, b.Negated) switch
        {
            (false, true) => (a, b, true),
            (true, false) => (b, a, true),
            _ => (a, b, false),
        };
        var node = new TreeNode(default, negated, leaves);
        var (lo, hi) = node.Bounds();
        if (negated) (lo, hi) = (-hi, -lo);
        int s = Math.Min(a.Wire.Shift, b.Wire.Shift);
        lo >>= s;
        hi >>= s;
        if (lo == hi) throw new UnreachableException("an adder tree node turned out constant");
        var x = net.At(first.Wire, level);
        var y = net.At(second.Wire, level);
        var op = new AddCell(Operand.Of(x, x.Shift - s), Operand.Of(y, y.Shift - s), subtract);
        return node with { Wire = net.Wire(prefix, kind, lo, hi, s, op, level) };
    }

    /// <summary>root + constant on <paramref name="level"/>, keeping the low zero bits they share as a shift.</summary>
    internal static Sig AddConstant(Netlist net, string prefix, TreeNode root, BigInteger constant, int level)
    {
        var r = root.Wire;
        if (constant.IsZero && !root.Negated) return r;
        var (lo, hi) = root.Bounds();
        lo += constant;
        hi += constant;
        int t = constant.IsZero ? r.Shift : Math.Min(r.Shift, TrailingZeros(constant));
        lo >>= t;
        hi >>= t;
        var x = net.At(r, level);
        return net.Wire(prefix, 'a', lo, hi, t, new ConstantAddCell(Operand.Of(x, x.Shift - t), constant >> t, root.Negated), level);
    }

    private static int TrailingZeros(BigInteger v)
    {
        int n = 0;
        while ((v & 1).IsZero) { v >>= 1; n++; }
        return n;
    }

    /// <summary>The requantization of v, whose value has <paramref name="frac"/> fractional bits: optional ReLU, then
    /// the shift with the format's rounding and overflow, exactly as <see cref="FixedPoint.Requantize"/> (ReLU and
    /// every rounding mode commute: they are monotone and keep 0). The rounding sits on <paramref name="level"/> and
    /// the overflow (comparisons and multiplexer) on level + 1, so that a pipeline register can fall between the
    /// two carry chains (the root's constant and the rounding) and the saturation: a requantization takes
    /// <see cref="RequantizationLevels"/> levels.</summary>
    public static Sig Requantize(Netlist net, string prefix, Sig v, int frac, Requantization r, int level)
    {
        if (r.Format is not FixedFormat f)
        {
            if (!r.Relu || v.ValueLo >= 0) return v;
            if (v.ValueHi <= 0) return Sig.Constant(0);
            var x = net.At(v, level);
            return net.Wire(prefix, 'q', 0, x.Hi, x.Shift, new ReluCell(x.Id), level);
        }
        var q = Round(net, prefix, v, frac - v.Shift - f.Type.FractionalBits, f.Rounding, level);
        return ApplyOverflow(net, prefix, q, r.Relu, f, level + 1);
    }

    /// <summary>The levels one <see cref="Requantize"/> spans.</summary>
    public const int RequantizationLevels = 2;

    /// <summary>The wire's value shifted right by s with rounding (s &gt; 0), or left (s &lt;= 0, free: a shift).</summary>
    private static Sig Round(Netlist net, string prefix, Sig v, int s, Rounding rounding, int level)
    {
        if (v.IsConstant) return Sig.Constant(s <= 0 ? v.Lo << -s : Rounded(v.Lo, s, rounding));
        if (s <= 0) return v with { Shift = -s };
        BigInteger lo = Rounded(v.Lo, s, rounding), hi = Rounded(v.Hi, s, rounding);
        var x = net.At(v, level);
        if (rounding == Rounding.TRN) return net.Alias(prefix, 't', lo, hi, new ResizeCell(x.Id, -s), x);
        return net.Wire(prefix, 'r', lo, hi, 0, new RoundCell(x.Id, s, rounding), level);
    }

    /// <summary>v rounded after an arithmetic right shift by s &gt; 0: the integer rule of <see cref="FixedPoint.Requantize"/>.</summary>
    internal static BigInteger Rounded(BigInteger v, int s, Rounding rounding)
    {
        BigInteger floor = v >> s, dropped = v - (floor << s), half = BigInteger.One << (s - 1);
        bool negative = v < 0;
        bool up = rounding switch
        {
            Rounding.TRN => false,
            Rounding.TRN_ZERO => negative && !dropped.IsZero,
            _ when dropped != half => dropped > half,
            Rounding.RND => true,
            Rounding.RND_ZERO => negative,
            Rounding.RND_INF => !negative,
            Rounding.RND_MIN_INF => false,
            Rounding.RND_CONV => !floor.IsEven,
            _ => throw new UnreachableException(),
        };
        return up ? floor + 1 : floor;
    }

    /// <summary>ReLU and the overflow rule on a rounded value q (in output codes).</summary>
    private static Sig ApplyOverflow(Netlist net, string prefix, Sig q, bool relu, FixedFormat f, int level)
    {
        var t = f.Type;
        if (q.IsConstant) return Sig.Constant(Overflowed(relu && q.Lo < 0 ? 0 : q.Lo, f));
        BigInteger qlo = q.ValueLo, qhi = q.ValueHi;
        BigInteger tmin = FixedPoint.MinRaw(t, f.Overflow), tmax = t.MaxRaw;
        switch (f.Overflow)
        {
            case Overflow.SAT or Overflow.SAT_SYM:
            {
                BigInteger low = relu ? BigInteger.Max(tmin, 0) : tmin;
                if (qlo >= low && qhi <= tmax) return q;
                if (qlo >= tmax) return Sig.Constant(tmax);
                if (qhi <= low) return Sig.Constant(low);
                return Select(net, prefix, q, low, tmax, clampTo: true, level);
            }
            case Overflow.SAT_ZERO:
            {
                BigInteger low = relu ? 0 : tmin;
                if (qlo >= low && qhi <= tmax) return q;
                if (qlo > tmax || qhi < low) return Sig.Constant(0);
                return Select(net, prefix, q, low, tmax, clampTo: false, level);
            }
            case Overflow.WRAP:
            {
                if (relu && qlo < 0)
                {
                    if (qhi <= 0) return Sig.Constant(0);
                    var x = net.At(q, level);
                    q = net.Wire(prefix, 'q', 0, x.Hi, x.Shift, new ReluCell(x.Id), level);
                    qlo = 0;
                    qhi = q.ValueHi;
                }
                if (qlo >= t.MinRaw && qhi <= t.MaxRaw) return q;
                return net.Alias(prefix, 'w', t.MinRaw, t.MaxRaw, new ResizeCell(q.Id, q.Shift), q);
            }
            default:
                throw new UnreachableException();
        }
    }

    /// <summary>The overflow rule of <see cref="FixedPoint.Requantize"/> on an integer code.</summary>
    internal static BigInteger Overflowed(BigInteger q, FixedFormat f)
    {
        var t = f.Type;
        if (q >= t.MinRaw && q <= t.MaxRaw) return f.Overflow == Overflow.SAT_SYM ? BigInteger.Max(q, FixedPoint.MinRaw(t, f.Overflow)) : q;
        return f.Overflow switch
        {
            Overflow.SAT or Overflow.SAT_SYM => q > 0 ? t.MaxRaw : FixedPoint.MinRaw(t, f.Overflow),
            Overflow.SAT_ZERO => 0,
            _ => Wrapped(q, t),
        };
    }

    private static BigInteger Wrapped(BigInteger q, FixedType t)
    {
        var low = q & ((BigInteger.One << t.Width) - 1);
        return t.Signed && low > t.MaxRaw ? low - (BigInteger.One << t.Width) : low;
    }

    /// <summary>Values of q outside [low, high] become the nearest bound (<paramref name="clampTo"/>) or zero.</summary>
    internal static Sig Select(Netlist net, string prefix, Sig q, BigInteger low, BigInteger high, bool clampTo, int level)
    {
        if (q.IsConstant) return Sig.Constant(q.Lo < low ? (clampTo ? low : 0) : q.Lo > high ? (clampTo ? high : 0) : q.Lo);
        var x = net.At(q, level);
        BigInteger qlo = x.ValueLo, qhi = x.ValueHi;
        BigInteger lo = BigInteger.Max(qlo, low), hi = BigInteger.Min(qhi, high);
        if (!clampTo)
        {
            lo = BigInteger.Min(lo, 0);
            hi = BigInteger.Max(hi, 0);
        }
        var op = new SaturateCell(x.Id, x.Shift, qhi > high ? high : null, qlo < low ? low : null, !clampTo);
        return net.Wire(prefix, 'o', lo, hi, 0, op, level);
    }

    /// <summary>The larger of a and b (a when equal) and whether b was chosen, on <paramref name="level"/>.</summary>
    public static (Sig Max, Sig TookB) Max(Netlist net, string prefix, Sig a, Sig b, int level)
    {
        if (a.ValueLo >= b.ValueHi) return (a, Sig.Constant(0));
        if (b.ValueLo > a.ValueHi) return (b, Sig.Constant(1));
        int s = Math.Min(a.IsConstant ? int.MaxValue : a.Shift, b.IsConstant ? int.MaxValue : b.Shift);
        Debug.Assert(s != int.MaxValue);
        var x = net.At(a, level);
        var y = net.At(b, level);
        BigInteger clo = BigInteger.Min(x.ValueLo, y.ValueLo) >> s, chi = BigInteger.Max(x.ValueHi, y.ValueHi) >> s;
        int wc = Netlist.WidthOf(clo, chi);
        var took = net.Wire(prefix, 'g', 0, 1, 0, new CompareCell(ValueOperand(y, s), ValueOperand(x, s), wc, clo < 0), level);
        BigInteger lo = BigInteger.Max(x.ValueLo, y.ValueLo) >> s, hi = chi;
        var max = net.Wire(prefix, 'm', lo, hi, s, new MuxCell(took.Id, ValueOperand(y, s), ValueOperand(x, s)), level);
        return (max, took);
    }

    /// <summary>value(v)/2^s as an operand (s at most v's shift, or v constant).</summary>
    internal static Operand ValueOperand(Sig v, int s) =>
        v.IsConstant ? Operand.Constant(v.Lo >> s) : Operand.Wire(v.Id, v.Shift - s);
}
