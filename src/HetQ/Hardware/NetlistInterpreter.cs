using System.Diagnostics;
using System.Numerics;
using HetQ.Quantization;

namespace HetQ.Hardware;

/// <summary>Runs a <see cref="Netlist"/> clock cycle by clock cycle, with the Verilog's semantics: every cell's result is
/// its operands' bits modulo 2^(its width), comparisons signed or not as printed, registers, counters and shift
/// registers advancing on <see cref="Clock"/>. An independent check of the cells (their bounds and widths) against the
/// emulator, in process, without a simulator. Integers are 64-bit while every wire fits (the usual case), else 128-bit
/// or big integers.</summary>
internal abstract class NetlistInterpreter
{
    /// <summary>An interpreter over the narrowest integer type that holds every wire of <paramref name="n"/>.</summary>
    public static NetlistInterpreter For(Netlist n)
    {
        int widest = n.Cells.Count == 0 ? 1 : n.Cells.Max(c => c.Op is OutputCell o ? o.Width : c.Width);
        if (widest <= 62) return new Engine<long>(n);
        if (widest <= 126) return new Engine<Int128>(n);
        return new Engine<BigInteger>(n);
    }

    /// <summary>Sets input port <paramref name="port"/> from element codes, element i at bits [(i+1)·W-1 : i·W]
    /// (W = <paramref name="elementWidth"/>); a slice of the port reads the bits of the elements it covers.</summary>
    public abstract void SetInput(string port, ReadOnlySpan<long> codes, int elementWidth);

    /// <summary>Computes every wire from the inputs and the state (call before reading outputs).</summary>
    public abstract void Evaluate();

    /// <summary>Reads output port <paramref name="port"/> as element codes of <paramref name="elementWidth"/> bits each
    /// (sign-extended when <paramref name="signed"/>); bits no cell drives read as 0.</summary>
    public abstract void ReadOutput(string port, Span<long> codes, int elementWidth, bool signed);

    /// <summary>One rising clock edge: every register, counter and shift register takes its next value (from the
    /// wires of the last <see cref="Evaluate"/>).</summary>
    public abstract void Clock();

    private enum Kind : byte { Input, Add, Sub, ConstAdd, ConstSub, Abs, Round, Resize, Relu, Mux, Gated, Saturate, Compare, Equals, And, Or, Not, Rom, Multiply, Register, Counter, ShiftRegister, Output }

    private struct Step<T> where T : IBinaryInteger<T>
    {
        public Kind Kind;
        public int A, B, C;         // operand cells (-1: a constant operand, in KA/KB)
        public int SA, SB;          // operand shifts (negative: right)
        public int Width, Aux;      // the cell's width; a second width (comparison, saturation) or a shift
        public bool Signed, AuxSigned, ToZero;
        public T KA, KB, High, Low;
        public bool HasHigh, HasLow;
        public Rounding Rounding;
    }

    private sealed class Engine<T> : NetlistInterpreter where T : IBinaryInteger<T>
    {
        private readonly Step<T>[] _steps;
        private readonly T[] _v;
        private readonly T[]?[] _memory;
        private readonly T[] _next;
        private readonly bool[] _enabled;
        private readonly Cell[] _cells;

        public Engine(Netlist n)
        {
            _cells = n.Cells.ToArray();
            _steps = new Step<T>[_cells.Length];
            _v = new T[_cells.Length];
            _next = new T[_cells.Length];
            _enabled = new bool[_cells.Length];
            _memory = new T[]?[_cells.Length];
            for (int i = 0; i < _cells.Length; i++) _steps[i] = Compile(_cells[i]);
        }

        private static T Big(BigInteger v) => T.CreateTruncating(v);

        /// <summary>An operand into (cell, shift, constant) at <paramref name="width"/> bits.</summary>
        private (int Cell, int Shift, T Constant) Op(Operand o, int width)
        {
            if (o.IsConstant) return (-1, 0, Big(o.Value & ((BigInteger.One << width) - 1)));
            if (o.Shift >= width) return (-1, 0, T.Zero); // every bit shifted out: the printer writes a literal 0
            return (o.Cell, Math.Max(o.Shift, -_cells[o.Cell].Width), T.Zero); // past the width a right shift leaves the sign
        }

        private Step<T> Compile(Cell c)
        {
            var s = new Step<T> { Width = c.Width, Signed = c.Signed, A = -1, B = -1, C = -1 };
            switch (c.Op)
            {
                case InputCell p: s.Kind = Kind.Input; s.Aux = p.Offset; break;
                case AddCell a:
                    s.Kind = a.Subtract ? Kind.Sub : Kind.Add;
                    (s.A, s.SA, s.KA) = Op(a.A, s.Width);
                    (s.B, s.SB, s.KB) = Op(a.B, s.Width);
                    break;
                case ConstantAddCell a:
                    s.Kind = a.Negate ? Kind.ConstSub : Kind.ConstAdd;
                    (s.A, s.SA, s.KA) = Op(a.X, s.Width);
                    s.KB = Big(a.Constant & ((BigInteger.One << s.Width) - 1));
                    break;
                case AbsCell a: s.Kind = Kind.Abs; s.A = a.X; break;
                case RoundCell r: s.Kind = Kind.Round; s.A = r.X; s.SA = r.Shift; s.Rounding = r.Rounding; break;
                case ResizeCell r: s.Kind = Kind.Resize; s.A = r.X; s.SA = r.Shift; break;
                case ReluCell r: s.Kind = Kind.Relu; s.A = r.X; break;
                case MuxCell m:
                    s.Kind = Kind.Mux; s.C = m.Select;
                    (s.A, s.SA, s.KA) = Op(m.WhenTrue, s.Width);
                    (s.B, s.SB, s.KB) = Op(m.WhenFalse, s.Width);
                    break;
                case GatedCell g: s.Kind = Kind.Gated; s.A = g.X; s.Aux = g.Bit; break;
                case SaturateCell q:
                {
                    s.Kind = Kind.Saturate; s.A = q.X; s.SA = q.Shift; s.ToZero = q.ToZero;
                    var x = _cells[q.X];
                    BigInteger qlo = x.Lo << q.Shift, qhi = x.Hi << q.Shift;
                    s.Aux = Netlist.WidthOf(qlo, qhi);
                    s.AuxSigned = qlo < 0;
                    if (q.High is { } h) { s.HasHigh = true; s.High = Wrap(Big(h & ((BigInteger.One << s.Aux) - 1)), s.Aux, s.AuxSigned); s.KA = Big(h & ((BigInteger.One << s.Width) - 1)); }
                    if (q.Low is { } l) { s.HasLow = true; s.Low = Wrap(Big(l & ((BigInteger.One << s.Aux) - 1)), s.Aux, s.AuxSigned); s.KB = Big(l & ((BigInteger.One << s.Width) - 1)); }
                    break;
                }
                case CompareCell k:
                    s.Kind = Kind.Compare; s.Aux = k.Width; s.AuxSigned = k.Signed;
                    (s.A, s.SA, s.KA) = Op(k.A, k.Width);
                    (s.B, s.SB, s.KB) = Op(k.B, k.Width);
                    break;
                case EqualsCell e:
                {
                    var x = _cells[e.X.Cell];
                    s.Kind = Kind.Equals; s.Aux = x.Width; s.AuxSigned = x.Signed;
                    (s.A, s.SA, s.KA) = Op(e.X, x.Width);
                    s.KB = Wrap(Big(e.Value & ((BigInteger.One << x.Width) - 1)), x.Width, x.Signed);
                    break;
                }
                case LogicCell l: s.Kind = l.Kind switch { LogicKind.And => Kind.And, LogicKind.Or => Kind.Or, _ => Kind.Not }; s.A = l.A; s.B = l.B; break;
                case MultiplyCell m: s.Kind = Kind.Multiply; s.A = m.A; s.B = m.B; break;
                case RomCell r:
                    s.Kind = Kind.Rom; s.A = r.Address;
                    _memory[c.Id] = r.Contents.Select(v => Wrap(Big(v & ((BigInteger.One << s.Width) - 1)), s.Width, s.Signed)).ToArray();
                    break;
                case RegisterCell r: s.Kind = Kind.Register; s.A = r.Source; s.B = r.Enable; s.C = r.Reset; break;
                case CounterCell k: s.Kind = Kind.Counter; s.B = k.Enable; s.C = k.Reset; s.KA = Big(k.Modulus - 1); break;
                case ShiftRegisterCell sr: s.Kind = Kind.ShiftRegister; s.A = sr.Source; s.B = sr.Enable; _memory[c.Id] = new T[sr.Length]; break;
                case OutputCell o:
                    s.Kind = Kind.Output; s.Width = o.Width; s.Aux = o.Offset;
                    (s.A, s.SA, s.KA) = Op(o.Source, o.Width);
                    break;
                default:
                    throw new UnreachableException($"the interpreter has no rule for cell {c.Op.GetType().Name}");
            }
            return s;
        }

        private static T Wrap(T v, int width, bool signed)
        {
            T mask = (T.One << width) - T.One;
            T m = v & mask;
            return signed && m > (mask >> 1) ? m - mask - T.One : m;
        }

        private T Operand(int cell, int shift, T constant) =>
            cell < 0 ? constant : shift >= 0 ? _v[cell] << shift : _v[cell] >> -shift;

        private static bool TopBit(T v, int width) => ((v >> (width - 1)) & T.One) != T.Zero;

        public override void SetInput(string port, ReadOnlySpan<long> codes, int elementWidth)
        {
            for (int i = 0; i < _cells.Length; i++)
            {
                if (_cells[i].Op is not InputCell p || p.Port != port) continue;
                int e = p.Offset / elementWidth, bit = p.Offset % elementWidth;
                if (bit + p.Width > elementWidth) throw new ArgumentException($"input slice {_cells[i].Name} spans two elements of {elementWidth} bits");
                if (e >= codes.Length) throw new ArgumentException($"input slice {_cells[i].Name} reads element {e} of {codes.Length}");
                _v[i] = Wrap(T.CreateTruncating(codes[e]) >> bit, p.Width, p.Signed);
            }
        }

        public override void Evaluate()
        {
            var steps = _steps;
            var v = _v;
            for (int i = 0; i < steps.Length; i++)
            {
                ref var s = ref steps[i];
                switch (s.Kind)
                {
                    case Kind.Add: v[i] = Wrap(Operand(s.A, s.SA, s.KA) + Operand(s.B, s.SB, s.KB), s.Width, s.Signed); break;
                    case Kind.Sub: v[i] = Wrap(Operand(s.A, s.SA, s.KA) - Operand(s.B, s.SB, s.KB), s.Width, s.Signed); break;
                    case Kind.ConstAdd: v[i] = Wrap(Operand(s.A, s.SA, s.KA) + s.KB, s.Width, s.Signed); break;
                    case Kind.ConstSub: v[i] = Wrap(s.KB - Operand(s.A, s.SA, s.KA), s.Width, s.Signed); break;
                    case Kind.Abs:
                    {
                        T x = v[s.A];
                        v[i] = Wrap(TopBit(x, _steps[s.A].Width) ? -x : x, s.Width, s.Signed);
                        break;
                    }
                    case Kind.Round: v[i] = Round(ref s, v[s.A]); break;
                    case Kind.Resize: v[i] = Wrap(Operand(s.A, s.SA, T.Zero), s.Width, s.Signed); break;
                    case Kind.Relu:
                    {
                        T x = v[s.A];
                        v[i] = TopBit(x, _steps[s.A].Width) ? T.Zero : Wrap(x, s.Width, s.Signed);
                        break;
                    }
                    case Kind.Mux:
                        v[i] = Wrap(v[s.C] != T.Zero ? Operand(s.A, s.SA, s.KA) : Operand(s.B, s.SB, s.KB), s.Width, s.Signed);
                        break;
                    case Kind.Gated:
                    {
                        T x = v[s.A];
                        int wx = _steps[s.A].Width;
                        v[i] = ((x >> s.Aux) & T.One) != T.Zero ? Wrap(Wrap(x, wx, false), s.Width, s.Signed) : T.Zero;
                        break;
                    }
                    case Kind.Saturate:
                    {
                        T raw = v[s.A] << s.SA, value = Wrap(raw, s.Aux, s.AuxSigned);
                        bool above = s.HasHigh && value > s.High, below = s.HasLow && value < s.Low;
                        T r = s.ToZero ? (above || below ? T.Zero : raw) : above ? s.KA : below ? s.KB : raw;
                        v[i] = Wrap(r, s.Width, s.Signed);
                        break;
                    }
                    case Kind.Compare:
                        v[i] = Wrap(Operand(s.A, s.SA, s.KA), s.Aux, s.AuxSigned) > Wrap(Operand(s.B, s.SB, s.KB), s.Aux, s.AuxSigned) ? T.One : T.Zero;
                        break;
                    case Kind.Equals: v[i] = Wrap(Operand(s.A, s.SA, s.KA), s.Aux, s.AuxSigned) == s.KB ? T.One : T.Zero; break;
                    case Kind.And: v[i] = v[s.A] & v[s.B] & T.One; break;
                    case Kind.Or: v[i] = (v[s.A] | v[s.B]) & T.One; break;
                    case Kind.Not: v[i] = (v[s.A] & T.One) ^ T.One; break;
                    case Kind.Rom:
                    {
                        var rom = _memory[i]!;
                        int address = int.CreateChecked(Wrap(v[s.A], _steps[s.A].Width, false));
                        if (address >= rom.Length) throw new UnreachableException($"ROM {_cells[i].Name} read at address {address} of {rom.Length}");
                        v[i] = rom[address];
                        break;
                    }
                    case Kind.Multiply: v[i] = Wrap(v[s.A] * v[s.B], s.Width, s.Signed); break;
                    case Kind.ShiftRegister: v[i] = _memory[i]![^1]; break;
                }
            }
        }

        private T Round(ref Step<T> s, T x)
        {
            int sh = s.SA, wx = _steps[s.A].Width;
            T floor = x >> Math.Min(sh, wx);
            bool sign = _cells[s.A].Signed && x < T.Zero;
            bool half = ((x >> Math.Min(sh - 1, wx)) & T.One) != T.Zero;
            int restBits = Math.Min(sh - 1, wx);
            bool rest = restBits > 0 && (x & ((T.One << restBits) - T.One)) != T.Zero;
            bool odd = (floor & T.One) != T.Zero;
            bool up = s.Rounding switch
            {
                Rounding.TRN_ZERO => sign & (half | rest),
                Rounding.RND => half,
                Rounding.RND_ZERO => half & (rest | sign),
                Rounding.RND_INF => half & (rest | !sign),
                Rounding.RND_MIN_INF => half & rest,
                Rounding.RND_CONV => half & (rest | odd),
                _ => throw new UnreachableException(),
            };
            return Wrap(up ? floor + T.One : floor, s.Width, s.Signed);
        }

        public override void ReadOutput(string port, Span<long> codes, int elementWidth, bool signed)
        {
            codes.Clear();
            for (int i = 0; i < _cells.Length; i++)
            {
                if (_cells[i].Op is not OutputCell o || o.Port != port) continue;
                ref var s = ref _steps[i];
                int e = o.Offset / elementWidth, bit = o.Offset % elementWidth;
                if (bit + o.Width > elementWidth) throw new ArgumentException($"an output assignment spans two elements of {elementWidth} bits");
                T bits = Wrap(Operand(s.A, s.SA, s.KA), o.Width, false) << bit;
                codes[e] |= long.CreateTruncating(bits);
            }
            if (!signed) return;
            long half = 1L << (elementWidth - 1);
            for (int e = 0; e < codes.Length; e++)
                if ((codes[e] & half) != 0) codes[e] -= half << 1;
        }

        public override void Clock()
        {
            var v = _v;
            for (int i = 0; i < _steps.Length; i++)
            {
                ref var s = ref _steps[i];
                switch (s.Kind)
                {
                    case Kind.Register:
                        _next[i] = s.C >= 0 && v[s.C] != T.Zero ? T.Zero : s.B < 0 || v[s.B] != T.Zero ? v[s.A] : v[i];
                        break;
                    case Kind.Counter:
                        _next[i] = s.C >= 0 && v[s.C] != T.Zero ? T.Zero
                            : s.B < 0 || v[s.B] != T.Zero ? (v[i] == s.KA ? T.Zero : Wrap(v[i] + T.One, s.Width, false)) : v[i];
                        break;
                    case Kind.ShiftRegister:
                        _next[i] = v[s.A];
                        _enabled[i] = s.B < 0 || v[s.B] != T.Zero;
                        break;
                }
            }
            for (int i = 0; i < _steps.Length; i++)
            {
                ref var s = ref _steps[i];
                if (s.Kind is Kind.Register or Kind.Counter) v[i] = _next[i];
                else if (s.Kind == Kind.ShiftRegister && _enabled[i])
                {
                    var m = _memory[i]!;
                    Array.Copy(m, 0, m, 1, m.Length - 1);
                    m[0] = _next[i];
                }
            }
        }
    }
}
