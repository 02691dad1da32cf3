using System.Globalization;
using System.Numerics;
using HetQ.Graph;
using HetQ.Quantization;

namespace HetQ.Hardware;

public static partial class VerilogWriter
{
    /// <summary>One pass over the graph: one method per op, each building its outputs from its inputs' signals on
    /// levels from the deepest input's end.</summary>
    private sealed partial class Emitter
    {
        private readonly IntegerGraph _g;
        private readonly HardwareOptions _o;
        private readonly Netlist _net;
        private readonly Sig[][] _values;
        private readonly string[] _prefixes;

        public int[] Starts { get; }
        public int[] Ends { get; }
        public long RegisterBits => _net.RegisterBits;
        public Netlist Netlist => _net;
        public LogicTally Tally => new(_net);
        private readonly int[] _cuts;
        private readonly Dictionary<(int Node, RowSet Rows), MatrixDecomposition> _decompositions;

        public Emitter(IntegerGraph g, HardwareOptions o, int[] cuts, Dictionary<(int Node, RowSet Rows), MatrixDecomposition> decompositions)
        {
            _decompositions = decompositions;
            _g = g;
            _o = o;
            _cuts = cuts;
            _net = new Netlist(cuts);
            int n = g.Nodes.Count + (o.Argmax ? 1 : 0);
            _values = new Sig[n][];
            Starts = new int[n];
            Ends = new int[n];
            _prefixes = new string[n];
            var used = new HashSet<string>(StringComparer.Ordinal);
            for (int i = 0; i < n; i++)
            {
                string p = Identifier(i < g.Nodes.Count ? g.Nodes[i].Name : "argmax");
                string u = p;
                for (int k = 1; !used.Add(u); k++) u = p + "_" + k.ToString(CultureInfo.InvariantCulture);
                _prefixes[i] = u;
            }
        }

        public void Emit()
        {
            for (int i = 0; i < _g.Nodes.Count; i++)
            {
                var node = _g.Nodes[i];
                int start = node.Inputs.Length == 0 ? 0 : node.Inputs.Max(k => Ends[k]);
                Starts[i] = start;
                if (i > 0)
                {
                    _net.BlankLine();
                    _net.Comment($"{node.Name}: {Describe(node)}");
                }
                (_values[i], Ends[i]) = node.Op.Accept(new OpEmitter(this, i, start));
            }
            var outputs = _values[_g.Nodes.Count - 1];
            int last = _g.Nodes.Count - 1;
            if (_o.Argmax)
            {
                int a = _g.Nodes.Count;
                Starts[a] = Ends[last];
                _net.BlankLine();
                _net.Comment($"argmax: the index of the largest of the {outputs.Length} outputs (the first one on ties)");
                (_values[a], Ends[a]) = Argmax(a, outputs, Starts[a]);
                last = a;
            }
            WriteOutputs(_values[last], _net.StageOf(Ends.Max()));
        }

        private string Describe(GraphNode node)
        {
            var t = node.Output;
            string shape = "[" + string.Join(",", t.Shape) + "]";
            string rq = node.Op.Accept(new Describer(node.Inputs.Select(k => _g.Nodes[k].Name).ToArray()));
            return $"{node.Op.Name} {rq}; output {shape} of {t.Type}".Replace("  ", " ", StringComparison.Ordinal);
        }

        /// <summary>The op's emitter for node <paramref name="Index"/>, its logic starting on level <paramref name="Start"/>.</summary>
        private sealed record OpEmitter(Emitter E, int Index, int Start) : IOpVisitor<(Sig[], int)>
        {
            public (Sig[], int) Visit(InputOp op) => Index == 0
                ? E.Input(E._g.Nodes[Index])
                : throw new HetQException($"node '{E._g.Nodes[Index].Name}': an input op can only be the graph's first node");
            public (Sig[], int) Visit(DenseOp op) => E.Dense(Index, op, Start);
            public (Sig[], int) Visit(ConvOp op) => E.Conv(Index, op, Start);
            public (Sig[], int) Visit(DepthwiseConvOp op) => E.Depthwise(Index, op, Start);
            public (Sig[], int) Visit(MaxPoolOp op) => E.MaxPool(Index, op, Start);
            public (Sig[], int) Visit(AvgPoolOp op) => E.AvgPool(Index, op, Start);
            public (Sig[], int) Visit(FlattenOp op) => (E._values[E._g.Nodes[Index].Inputs[0]], Start);
            public (Sig[], int) Visit(AddOp op) => E.Add(Index, op, Start);
            public (Sig[], int) Visit(RequantOp op) => E.Requant(Index, op, Start);
            public (Sig[], int) Visit(ReconstructionErrorOp op) => E.ReconstructionError(Index, op, Start);
            public (Sig[], int) Visit(ClipOp op) => E.Clip(Index, op, Start);
        }

        /// <summary>The op's attributes for the layer's comment line.</summary>
        private sealed record Describer(string[] Inputs) : IOpVisitor<string>
        {
            public string Visit(InputOp op) => "";
            public string Visit(DenseOp d) => $"{d.In} -> {d.Out}, weights {d.WeightType}, accumulator {d.AccType}{Requant(d.Output)}";
            public string Visit(ConvOp c) => $"{c.Window.KH}x{c.Window.KW} kernel, {c.Filters} filters, weights {c.WeightType}, accumulator {c.AccType}{Requant(c.Output)}";
            public string Visit(DepthwiseConvOp d) => $"{d.Window.KH}x{d.Window.KW} kernel, multiplier {d.Multiplier}, weights {d.WeightType}, accumulator {d.AccType}{Requant(d.Output)}";
            public string Visit(MaxPoolOp m) => $"{m.Window.KH}x{m.Window.KW} window";
            public string Visit(AvgPoolOp a) => $"{a.Window.KH}x{a.Window.KW} window, sum {a.SumType}{Requant(a.Output)}";
            public string Visit(FlattenOp op) => "";
            public string Visit(AddOp a) => $"sum {a.SumType}{Requant(a.Output)}";
            public string Visit(RequantOp r) => Requant(r.Output).TrimStart(',', ' ');
            public string Visit(ReconstructionErrorOp r) => $"sum of {(r.Squared ? "squared" : "absolute")} differences of '{Inputs[0]}' and '{Inputs[1]}'";
            public string Visit(ClipOp c) => $"codes {c.Lo}..{c.Hi}{Requant(c.Output)}";
        }

        private static string Requant(Requantization r) =>
            (r.Relu ? ", relu" : "") + (r.Format is { } f ? r.Elements is { } el
                ? $", requantized per element (learned widths, {el.Count(x => x is null)} of {el.Count} pruned) onto {f}"
                : $", requantized to {f}" : "");

        public HardwareManifest Manifest(string top, string pipelining, int depth)
        {
            var inType = _g.Input.Output.Type;
            var input = new HardwarePort(InputPort, _g.Input.Output.Size, inType.ToString(), inType.Width, inType.Signed, inType.FractionalBits);
            var outNode = _g.Output.Output;
            HardwarePort output;
            if (_o.Argmax)
            {
                int w = Netlist.WidthOf(0, outNode.Size - 1);
                output = new HardwarePort(OutputPort, 1, new FixedType(false, w, w).ToString(), w, false, 0);
            }
            else output = new HardwarePort(OutputPort, outNode.Size, outNode.Type.ToString(), outNode.Type.Width, outNode.Type.Signed, outNode.Type.FractionalBits);
            var layers = new List<HardwareLayer>();
            for (int i = 1; i < Starts.Length; i++)
            {
                string name = i < _g.Nodes.Count ? _g.Nodes[i].Name : "argmax";
                string op = i < _g.Nodes.Count ? _g.Nodes[i].Op.Name : "argmax";
                layers.Add(new HardwareLayer(name, op, _net.StageOf(Starts[i]), _net.StageOf(Math.Max(Starts[i], Ends[i] - 1))));
            }
            int latency = _cuts.Length;
            return new HardwareManifest(top, Clock, new[] { top + ".v" }, input, output, _o.Argmax, latency, latency, pipelining, 1, depth, 0, layers, _g.Name, _o.Sharing.ToString().ToLowerInvariant());
        }

        /// <summary>Takes the probe's levels (the same in every pass), so the manifest can precede the logic.</summary>
        public void CopyLevels(Emitter probe)
        {
            probe.Starts.CopyTo(Starts, 0);
            probe.Ends.CopyTo(Ends, 0);
        }

        private (Sig[], int) Input(GraphNode node)
        {
            var xs = new Sig[node.Output.Size];
            for (int i = 0; i < xs.Length; i++) xs[i] = InputSlice(i, i);
            return (xs, 0);
        }

        /// <summary>The input port's code in slot <paramref name="slot"/> (at slot · the common type's width), which is
        /// the graph input's element <paramref name="element"/>: the whole common-type code, or with learned widths only
        /// the element's own bits (its code arrives shifted onto the common type: low bits zero, high bits its sign); a
        /// pruned element is 0.</summary>
        private Sig InputSlice(int slot, int element)
        {
            var input = _g.Nodes[0];
            var t = input.Output.Type;
            string name = $"{_prefixes[0]}_x{slot.ToString(CultureInfo.InvariantCulture)}";
            if (((InputOp)input.Op).Elements is not { } elements) return _net.PortSlice(name, InputPort, slot * t.Width, t.Width, t.Signed);
            if (elements[element] is not { } f) return Sig.Constant(0);
            int shift = ElementShift(0, t.FractionalBits, f);
            return _net.PortSlice(name, InputPort, slot * t.Width + shift, f.Type.Width, f.Type.Signed) with { Shift = shift };
        }

        private (Sig[], int) Dense(int k, DenseOp d, int level)
        {
            var x = _values[_g.Nodes[k].Inputs[0]];
            int shift = Alignment(k, d.AccType, d.WeightType);
            var y = new Sig[d.Out];
            int end = level;
            if (_o.Sharing == Sharing.Cse)
            {
                var bias = Enumerable.Range(0, d.Out).Select(j => Bias(k, d.Bias, d.BiasType, d.AccType, j)).ToArray();
                var live = LiveColumns(d.Output, d.Out);
                Matrix(k, x, d.In, d.Out, (i, j) => live[j] ? d.Weights[i * d.Out + j] : 0, shift, bias, d.AccType.FractionalBits, d.Output, level, y, 0, ref end);
                return (y, end);
            }
            for (int j = 0; j < d.Out; j++)
            {
                var terms = Enumerable.Range(0, d.In).Select(i => new Term(x[i], d.Weights[i * d.Out + j], shift));
                y[j] = Neuron(k, terms, Bias(k, d.Bias, d.BiasType, d.AccType, j), d.AccType.FractionalBits, d.Output, j, level, ref end);
            }
            return (y, end);
        }

        private (Sig[], int) Conv(int k, ConvOp c, int level)
        {
            var x = _values[_g.Nodes[k].Inputs[0]];
            var g = c.Window;
            int f = c.Filters, ch = g.Channels, shift = Alignment(k, c.AccType, c.WeightType), end = level;
            var y = new Sig[g.OutH * g.OutW * f];
            if (_o.Sharing == Sharing.Cse)
            {
                // Every window position multiplies the same matrix (taps x channels by filters); taps in the padding are zero.
                var bias = Enumerable.Range(0, f).Select(j => Bias(k, c.Bias, c.BiasType, c.AccType, j)).ToArray();
                var live = LiveColumns(c.Output, f);
                for (int oy = 0; oy < g.OutH; oy++)
                    for (int ox = 0; ox < g.OutW; ox++)
                    {
                        var rows = new Sig[g.KH * g.KW * ch];
                        foreach (var (iy, ix, ky, kx) in g.Taps(oy, ox))
                            for (int ci = 0; ci < ch; ci++) rows[(ky * g.KW + kx) * ch + ci] = x[(iy * g.InW + ix) * ch + ci];
                        Matrix(k, rows, rows.Length, f, (r, j) => live[j] ? c.Weights[r * f + j] : 0,
                            shift, bias, c.AccType.FractionalBits, c.Output, level, y, (oy * g.OutW + ox) * f, ref end);
                    }
                return (y, end);
            }
            for (int oy = 0; oy < g.OutH; oy++)
                for (int ox = 0; ox < g.OutW; ox++)
                    for (int j = 0; j < f; j++)
                    {
                        var terms = new List<Term>();
                        foreach (var (iy, ix, ky, kx) in g.Taps(oy, ox))
                            for (int ci = 0; ci < ch; ci++)
                                terms.Add(new Term(x[(iy * g.InW + ix) * ch + ci], c.Weights[((ky * g.KW + kx) * ch + ci) * f + j], shift));
                        y[(oy * g.OutW + ox) * f + j] = Neuron(k, terms, Bias(k, c.Bias, c.BiasType, c.AccType, j), c.AccType.FractionalBits, c.Output, (oy * g.OutW + ox) * f + j, level, ref end);
                    }
            return (y, end);
        }

        private (Sig[], int) Depthwise(int k, DepthwiseConvOp d, int level)
        {
            var x = _values[_g.Nodes[k].Inputs[0]];
            var g = d.Window;
            int ch = g.Channels, m = d.Multiplier, oc = ch * m, shift = Alignment(k, d.AccType, d.WeightType), end = level;
            var y = new Sig[g.OutH * g.OutW * oc];
            for (int oy = 0; oy < g.OutH; oy++)
                for (int ox = 0; ox < g.OutW; ox++)
                    for (int ci = 0; ci < ch; ci++)
                        for (int mi = 0; mi < m; mi++)
                        {
                            int j = ci * m + mi;
                            var terms = g.Taps(oy, ox).Select(t => new Term(x[(t.Y * g.InW + t.X) * ch + ci], d.Weights[(t.KY * g.KW + t.KX) * oc + j], shift));
                            y[(oy * g.OutW + ox) * oc + j] = Neuron(k, terms, Bias(k, d.Bias, d.BiasType, d.AccType, j), d.AccType.FractionalBits, d.Output, (oy * g.OutW + ox) * oc + j, level, ref end);
                        }
            return (y, end);
        }

        private (Sig[], int) MaxPool(int k, MaxPoolOp p, int level)
        {
            var x = _values[_g.Nodes[k].Inputs[0]];
            var g = p.Window;
            int ch = g.Channels, end = level;
            var y = new Sig[g.OutH * g.OutW * ch];
            for (int oy = 0; oy < g.OutH; oy++)
                for (int ox = 0; ox < g.OutW; ox++)
                    for (int c = 0; c < ch; c++)
                    {
                        var window = g.Taps(oy, ox).Select(t => x[(t.Y * g.InW + t.X) * ch + c]).ToList();
                        if (window.Count == 0) throw new HetQException($"node '{_g.Nodes[k].Name}': a pooling window lies entirely in the padding");
                        var (max, l) = Arithmetic.Tree(window, level, (a, b, lv) => Arithmetic.Max(_net, _prefixes[k], a, b, lv).Max);
                        end = Math.Max(end, l);
                        y[(oy * g.OutW + ox) * ch + c] = max;
                    }
            return (y, end);
        }

        private (Sig[], int) AvgPool(int k, AvgPoolOp a, int level)
        {
            var x = _values[_g.Nodes[k].Inputs[0]];
            var g = a.Window;
            int ch = g.Channels, end = level;
            var y = new Sig[g.OutH * g.OutW * ch];
            for (int oy = 0; oy < g.OutH; oy++)
                for (int ox = 0; ox < g.OutW; ox++)
                    for (int c = 0; c < ch; c++)
                    {
                        var terms = new List<Term>();
                        for (int ky = 0; ky < g.KH; ky++)
                            for (int kx = 0; kx < g.KW; kx++)
                                terms.Add(new Term(x[((oy * g.SH + ky) * g.InW + ox * g.SW + kx) * ch + c], 1, 0));
                        y[(oy * g.OutW + ox) * ch + c] = Neuron(k, terms, 0, a.SumType.FractionalBits, a.Output, (oy * g.OutW + ox) * ch + c, level, ref end);
                    }
            return (y, end);
        }

        private (Sig[], int) Add(int k, AddOp a, int level)
        {
            var node = _g.Nodes[k];
            var shifts = node.Inputs.Select(i => a.SumType.FractionalBits - _g.Nodes[i].Output.Type.FractionalBits).ToArray();
            if (shifts.Any(s => s < 0)) throw new HetQException($"node '{node.Name}': the sum type {a.SumType} has fewer fractional bits than an input");
            var y = new Sig[node.Output.Size];
            int end = level;
            for (int e = 0; e < y.Length; e++)
            {
                var terms = node.Inputs.Select((i, n) => new Term(_values[i][e], 1, shifts[n]));
                y[e] = Neuron(k, terms, 0, a.SumType.FractionalBits, a.Output, e, level, ref end);
            }
            return (y, end);
        }

        private (Sig[], int) Requant(int k, RequantOp r, int level)
        {
            var node = _g.Nodes[k];
            var x = _values[node.Inputs[0]];
            int frac = _g.Nodes[node.Inputs[0]].Output.Type.FractionalBits;
            return (x.Select((v, e) => Requantize(k, v, frac, r.Output, e, level)).ToArray(), level + Arithmetic.RequantizationLevels);
        }

        private (Sig[], int) Clip(int k, ClipOp c, int level)
        {
            var node = _g.Nodes[k];
            var x = _values[node.Inputs[0]];
            int frac = _g.Nodes[node.Inputs[0]].Output.Type.FractionalBits;
            return (x.Select(v => Arithmetic.Requantize(_net, _prefixes[k], Arithmetic.Select(_net, _prefixes[k], v, c.Lo, c.Hi, true, level), frac, c.Output, level + 1)).ToArray(),
                level + 1 + Arithmetic.RequantizationLevels);
        }

        private (Sig[], int) Argmax(int k, Sig[] outputs, int level)
        {
            var items = outputs.Select((v, i) => (Value: v, Index: Sig.Constant(i))).ToList();
            var (root, end) = Arithmetic.Tree(items, level, (a, b, l) =>
            {
                var (max, tookB) = Arithmetic.Max(_net, _prefixes[k], a.Value, b.Value, l);
                if (tookB.IsConstant) return (max, tookB.Lo == 1 ? b.Index : a.Index);
                var ia = _net.At(a.Index, l);
                var ib = _net.At(b.Index, l);
                BigInteger lo = BigInteger.Min(ia.ValueLo, ib.ValueLo), hi = BigInteger.Max(ia.ValueHi, ib.ValueHi);
                return (max, _net.Wire(_prefixes[k], 'i', lo, hi, 0, new MuxCell(tookB.Id, Operand.Of(ib, ib.Shift), Operand.Of(ia, ia.Shift)), l));
            });
            return (new[] { root.Index }, end);
        }

        /// <summary>The outputs y[offset + j] = requantized Σ_i W(i, j) · x_i + bias_j of one constant matrix, its partial
        /// sums shared (<see cref="ConstantMatrix"/>); constant inputs fold into the bias. One decomposition serves every
        /// use of the matrix with the same non-constant inputs (every window position of a convolution).</summary>
        private void Matrix(int k, IReadOnlyList<Sig> x, int rows, int cols, Func<int, int, long> weight, int shift, BigInteger[] bias,
            int frac, Requantization rq, int level, Sig[] y, int offset, ref int end)
        {
            var constants = (BigInteger[])bias.Clone();
            var active = new List<int>(rows);
            for (int i = 0; i < rows; i++)
            {
                if (!x[i].IsConstant) active.Add(i);
                else if (!x[i].Lo.IsZero)
                    for (int j = 0; j < cols; j++) constants[j] += x[i].Lo * weight(i, j) << shift;
            }
            var mask = new RowSet(active.ToArray());
            if (!_decompositions.TryGetValue((k, mask), out var d))
            {
                d = ConstantMatrix.Decompose(active.Count, cols, (r, j) => weight(active[r], j), extraDepth: _o.SharingDepth);
                _decompositions[(k, mask)] = d;
            }
            var sums = ConstantMatrix.Sums(_net, _prefixes[k], d, active.Select(i => x[i]).ToList(), shift, constants, level);
            for (int j = 0; j < cols; j++)
            {
                end = Math.Max(end, sums[j].OutputLevel + Arithmetic.RequantizationLevels);
                y[offset + j] = Requantize(k, sums[j].Sum, frac, rq, offset + j, sums[j].OutputLevel);
            }
        }

        private Sig Neuron(int k, IEnumerable<Term> terms, BigInteger bias, int frac, Requantization rq, int element, int level, ref int end)
        {
            if (rq.Elements is { } el && el[element] is null) return Sig.Constant(0);
            var (sum, outLevel) = Arithmetic.Sum(_net, _prefixes[k], terms, bias, level);
            end = Math.Max(end, outLevel + Arithmetic.RequantizationLevels);
            return Requantize(k, sum, frac, rq, element, outLevel);
        }

        /// <summary>Output element <paramref name="element"/> of node <paramref name="k"/> requantized as the emulator's
        /// <see cref="Emulation.ElementRequantizer"/> does: with learned (per-element) types through its own format, its
        /// code then standing, exactly, for a code of the tensor's common type (a left shift, so free); a pruned
        /// element is the constant 0.</summary>
        private Sig Requantize(int k, Sig v, int frac, Requantization rq, int element, int level)
        {
            if (rq.Elements is null) return Arithmetic.Requantize(_net, _prefixes[k], v, frac, rq, level);
            if (rq.Elements[element] is not { } f) return Sig.Constant(0);
            var common = rq.Format ?? throw new HetQException($"node '{_g.Nodes[k].Name}': per-element requantization needs a common format");
            int shift = ElementShift(k, common.Type.FractionalBits, f);
            var q = Arithmetic.Requantize(_net, _prefixes[k], v, frac, rq with { Format = f, Elements = null }, level);
            return q.IsConstant ? Sig.Constant(q.Lo << shift) : q with { Shift = q.Shift + shift };
        }

        /// <summary>How far an element's code moves left onto its tensor's common type (never right: the common type has
        /// the finest step).</summary>
        private int ElementShift(int k, int commonFrac, FixedFormat element)
        {
            int shift = commonFrac - element.Type.FractionalBits;
            if (shift < 0) throw new HetQException($"node '{_g.Nodes[k].Name}': an element type {element.Type} has a finer step than the tensor's common type");
            return shift;
        }

        /// <summary>For each of the <paramref name="cols"/> output channels, whether any output element of it is kept: a
        /// channel pruned at every position (learned width 0) gets no logic.</summary>
        private static bool[] LiveColumns(Requantization rq, int cols)
        {
            var live = new bool[cols];
            if (rq.Elements is not { } el) { Array.Fill(live, true); return live; }
            for (int e = 0; e < el.Count; e++) if (el[e] is not null) live[e % cols] = true;
            return live;
        }

        /// <summary>The left shift that brings a product x·w to the accumulator's fractional bits.</summary>
        private int Alignment(int k, FixedType acc, FixedType weight)
        {
            var node = _g.Nodes[k];
            int shift = acc.FractionalBits - _g.Nodes[node.Inputs[0]].Output.Type.FractionalBits - weight.FractionalBits;
            if (shift < 0) throw new HetQException($"node '{node.Name}': the accumulator {acc} has fewer fractional bits than the products");
            return shift;
        }

        private BigInteger Bias(int k, long[]? bias, FixedType? type, FixedType acc, int j)
        {
            if (bias is null) return 0;
            int shift = acc.FractionalBits - type!.Value.FractionalBits;
            if (shift < 0) throw new HetQException($"node '{_g.Nodes[k].Name}': the accumulator {acc} has fewer fractional bits than the bias");
            return (BigInteger)bias[j] << shift;
        }

        private void WriteOutputs(Sig[] outputs, int stage)
        {
            _net.BlankLine();
            _net.Comment("outputs");
            int w = _o.Argmax ? Netlist.WidthOf(0, _g.Output.Output.Size - 1) : _g.Output.Output.Type.Width;
            for (int i = 0; i < outputs.Length; i++)
            {
                var s = _net.Delay(outputs[i], stage);
                _net.Output(OutputPort, i * w, w, Operand.Of(s, s.IsConstant ? 0 : s.Shift));
            }
        }
    }
}
