using System.Globalization;
using System.Numerics;
using HetQ.Graph;

namespace HetQ.Hardware;

public static partial class VerilogWriter
{
    private sealed partial class Emitter
    {
        /// <summary><see cref="ReconstructionErrorOp"/>: per element the aligned difference d = x − y (one subtractor,
        /// kind 'd'), its magnitude (a conditional negation, kind 'b'); for the squared error |d|² as the sum of the
        /// partial products bit_k(|d|) ? |d|·2^k : 0 (multiplexers, kind 'm'); then one balanced adder tree over every
        /// element (and every partial product), sized from exact bounds. Exactly the emulator's integer sum.</summary>
        private (Sig[], int) ReconstructionError(int k, ReconstructionErrorOp r, int level)
        {
            var node = _g.Nodes[k];
            var x = _values[node.Inputs[0]];
            var y = _values[node.Inputs[1]];
            int sx = r.Frac - _g.Nodes[node.Inputs[0]].Output.Type.FractionalBits;
            int sy = r.Frac - _g.Nodes[node.Inputs[1]].Output.Type.FractionalBits;
            if (sx < 0 || sy < 0) throw new HetQException($"node '{node.Name}': the score has fewer fractional bits than an input");
            string p = _prefixes[k];
            var terms = new List<Term>();
            int end = level;
            for (int i = 0; i < x.Length; i++)
            {
                var (d, dl) = Arithmetic.Sum(_net, p + "_d" + i.ToString(CultureInfo.InvariantCulture), [new Term(x[i], 1, sx), new Term(y[i], -1, sy)], 0, level);
                var a = Magnitude(p, d, dl);
                int al = dl + (d.IsConstant || d.ValueLo >= 0 ? 0 : 1);
                end = Math.Max(end, al);
                if (!r.Squared)
                {
                    terms.Add(new Term(a, 1, 0));
                    continue;
                }
                if (a.IsConstant)
                {
                    terms.Add(new Term(Sig.Constant(a.Lo * a.Lo), 1, 0));
                    continue;
                }
                // |d| = a·2^s: |d|² = Σ_k bit_k(a) · a · 2^(k + 2s).
                var w = _net.At(a, al);
                for (int b = 0; b < w.Width; b++)
                {
                    var pp = _net.Wire(p, 'm', 0, w.Hi, b + 2 * w.Shift, new GatedCell(w.Id, b), al);
                    terms.Add(new Term(pp, 1, 0));
                }
                end = Math.Max(end, al + 1);
            }
            var (sum, outLevel) = Arithmetic.Sum(_net, p, terms, 0, end);
            return ([sum], outLevel);
        }

        /// <summary>|d| on <paramref name="level"/>: d itself when it cannot be negative, else d's sign selecting −d or d.</summary>
        private Sig Magnitude(string prefix, Sig d, int level)
        {
            if (d.IsConstant) return Sig.Constant(BigInteger.Abs(d.Lo));
            if (d.Lo >= 0) return d;
            var v = _net.At(d, level);
            BigInteger hi = BigInteger.Max(-v.Lo, v.Hi);
            if (v.Hi <= 0 && v.Lo == -hi && hi.IsZero) return Sig.Constant(0);
            return _net.Wire(prefix, 'b', 0, hi, v.Shift, new AbsCell(v.Id), level);
        }
    }
}
