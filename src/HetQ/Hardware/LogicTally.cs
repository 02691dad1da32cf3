namespace HetQ.Hardware;

/// <summary>What a <see cref="Netlist"/> is made of, primitive by primitive, counted from its cells by their type:
/// every logic cell (its primitive, its width and the width of its widest operand wire; for adders the bits where
/// both operands vary and where one does), every register. Shared logic and constants have no cell, so they are not
/// counted; only what reaches an output counts, as synthesis removes the rest (a pooling window that leaves conv
/// outputs unread, a maximum nobody reads). <see cref="ResourceModel"/> maps it to LUT, FF and carry cells.</summary>
internal sealed class LogicTally
{
    private readonly record struct Entry(Primitive Primitive, int Width, int OperandWidth, int Both, int One);

    private readonly List<Entry> _logic = new();

    public LogicTally(Netlist n)
    {
        var cells = n.Cells;
        var live = Live(cells);
        for (int i = 0; i < cells.Count; i++)
        {
            if (!live[i]) continue;
            var c = cells[i];
            if (c.IsSequential)
            {
                RegisterBits += c.Op is ShiftRegisterCell s ? (long)s.Length * c.Width : c.Width;
                if (c.Op is ShiftRegisterCell sr)
                {
                    ShiftRegisterBits += (long)sr.Length * c.Width;
                    ShiftRegisterCells += (long)((sr.Length + 31) / 32) * c.Width;
                }
                if (c.Op is CounterCell) CounterBits += c.Width;
                continue;
            }
            if (Classify(c.Op) is not { } p) continue;
            if (p == Primitive.Mux && IsPhaseSelect(c, cells)) p = Primitive.Select;
            int operand = 0;
            foreach (int r in Reads(c, cells)) operand = Math.Max(operand, cells[r].Width);
            var (both, one) = p is Primitive.Adder or Primitive.Rounding ? AdderBits(c, cells)
                : c.Op is MultiplyCell m ? (cells[m.A].Width, cells[m.B].Width)
                : c.Op is RomCell rom ? (rom.Contents.Count, 0) : (0, 0);
            _logic.Add(new Entry(p, c.Width, operand, both, one));
        }
    }

    /// <summary>The primitive a logic cell is priced as; null for wiring, ports and outputs (no logic).</summary>
    public static Primitive? Classify(CellOp op) => op switch
    {
        AddCell or ConstantAddCell or AbsCell => Primitive.Adder,
        RoundCell => Primitive.Rounding,
        ReluCell or MuxCell or GatedCell => Primitive.Mux,
        SaturateCell => Primitive.Saturation,
        CompareCell => Primitive.Comparator,
        RomCell => Primitive.Memory,
        MultiplyCell => Primitive.Multiplier,
        EqualsCell or LogicCell => Primitive.Control,
        InputCell or ResizeCell or OutputCell or RegisterCell or CounterCell or ShiftRegisterCell => null,
        _ => throw new System.Diagnostics.UnreachableException($"no primitive for cell {op.GetType().Name}"),
    };

    /// <summary>A multiplexer whose select is a bit of a counter: a level of a folded layer's input tree, which
    /// synthesis packs with its neighbours (a LUT6 selects one of four, MUXF7/MUXF8 combine them), unlike a ReLU's or
    /// a maximum's multiplexer whose select is computed.</summary>
    private static bool IsPhaseSelect(Cell c, IReadOnlyList<Cell> cells) =>
        c.Op is MuxCell m && cells[m.Select].Op is ResizeCell r && cells[r.X].Op is CounterCell;

    /// <summary>Register bits that reach an output (flip-flops synthesis keeps): registers, counters and shift registers.</summary>
    public long RegisterBits { get; }

    /// <summary>The part of <see cref="RegisterBits"/> in shift registers (line buffers), which synthesis may put into LUTs
    /// used as shift registers (SRL32: 32 words of one bit each, <see cref="ShiftRegisterCells"/>).</summary>
    public long ShiftRegisterBits { get; }

    /// <summary>Σ width · ceil(length / 32) over the shift registers.</summary>
    public long ShiftRegisterCells { get; }

    /// <summary>The part of <see cref="RegisterBits"/> in counters (each bit with its incrementer).</summary>
    public long CounterBits { get; }

    /// <summary>The multipliers that reach an output: the widths of their two operands.</summary>
    public IEnumerable<(int A, int B)> Products() => _logic.Where(e => e.Primitive == Primitive.Multiplier).Select(e => (e.Both, e.One));

    /// <summary>The ROMs that reach an output: their word width and words.</summary>
    public IEnumerable<(int Width, int Words)> Memories() => _logic.Where(e => e.Primitive == Primitive.Memory).Select(e => (e.Width, e.Both));

    /// <summary>Every counted logic cell of the primitive that reaches an output: its width and its widest operand's width.</summary>
    public IEnumerable<(int Width, int OperandWidth)> Of(Primitive p) =>
        _logic.Where(e => e.Primitive == p).Select(e => (e.Width, e.OperandWidth));

    /// <summary>The adders (and rounding adders) that reach an output: width, bits where both operands vary, and bits
    /// where one operand varies and the other is a constant (shifted-in zeros, zero extension, a literal).</summary>
    public IEnumerable<(int Width, int Both, int One)> Sums(Primitive p) =>
        _logic.Where(e => e.Primitive == p).Select(e => (e.Width, e.Both, e.One));

    /// <summary>The cells an output reads, directly or through others (every cell when no output reads a wire).</summary>
    private static bool[] Live(IReadOnlyList<Cell> cells)
    {
        var live = new bool[cells.Count];
        var stack = new Stack<int>();
        foreach (var c in cells)
            if (c.Op is OutputCell o && !o.Source.IsConstant) stack.Push(o.Source.Cell);
        if (stack.Count == 0)
        {
            Array.Fill(live, true);
            return live;
        }
        while (stack.Count > 0)
        {
            int i = stack.Pop();
            if (live[i]) continue;
            live[i] = true;
            foreach (int r in Reads(cells[i], cells)) stack.Push(r);
        }
        return live;
    }

    /// <summary>The wires a cell's logic reads (an operand that reduces to a literal reads nothing).</summary>
    internal static IEnumerable<int> Reads(Cell c, IReadOnlyList<Cell> cells)
    {
        IEnumerable<int> Of(Operand o, int width)
        {
            if (o.IsConstant) yield break;
            if (o.Shift >= 0 ? o.Shift < width : !ShiftsOut(cells[o.Cell], -o.Shift)) yield return o.Cell;
        }
        int w = c.Width;
        switch (c.Op)
        {
            case AddCell a:
                foreach (int r in Of(a.A, w)) yield return r;
                foreach (int r in Of(a.B, w).Where(r => a.A.Cell != r)) yield return r;
                break;
            case ConstantAddCell a:
                foreach (int r in Of(a.X, w)) yield return r;
                break;
            case AbsCell a: yield return a.X; break;
            case RoundCell r: yield return r.X; break;
            case ResizeCell r:
                foreach (int x in Of(Operand.Wire(r.X, r.Shift), w)) yield return x;
                break;
            case ReluCell r: yield return r.X; break;
            case GatedCell g: yield return g.X; break;
            case SaturateCell s: yield return s.X; break;
            case MuxCell m:
            {
                var seen = new List<int>(3) { m.Select };
                seen.AddRange(Of(m.WhenTrue, w).Concat(Of(m.WhenFalse, w)));
                foreach (int r in seen.Distinct()) yield return r;
                break;
            }
            case CompareCell k:
                foreach (int r in Of(k.A, k.Width).Concat(Of(k.B, k.Width)).Distinct()) yield return r;
                break;
            case EqualsCell e:
                foreach (int r in Of(e.X, cells[e.X.Cell].Width)) yield return r;
                break;
            case LogicCell l:
                yield return l.A;
                if (l.B >= 0 && l.B != l.A) yield return l.B;
                break;
            case RomCell r: yield return r.Address; break;
            case MultiplyCell m:
                yield return m.A;
                if (m.B != m.A) yield return m.B;
                break;
            case RegisterCell r:
                yield return r.Source;
                if (r.Enable >= 0) yield return r.Enable;
                if (r.Reset >= 0) yield return r.Reset;
                break;
            case CounterCell k:
                if (k.Enable >= 0) yield return k.Enable;
                if (k.Reset >= 0) yield return k.Reset;
                break;
            case ShiftRegisterCell s:
                yield return s.Source;
                if (s.Enable >= 0) yield return s.Enable;
                break;
            case OutputCell o:
                foreach (int r in Of(o.Source, o.Width)) yield return r;
                break;
        }
    }

    /// <summary>Whether an unsigned wire shifted right by <paramref name="from"/> is all zeros (a literal).</summary>
    private static bool ShiftsOut(Cell x, int from) => x.Width - from <= 0 && !x.Signed;

    /// <summary>For an adder, the bits where both operands vary and where exactly one does: an operand varies over the
    /// bits its wire covers once shifted (shifted-in zeros and zero extension are constant, sign extension varies; a
    /// constant operand varies nowhere). A conditional negation counts every bit as both varying.</summary>
    private static (int Both, int One) AdderBits(Cell c, IReadOnlyList<Cell> cells)
    {
        int width = c.Width;
        (int Lo, int Hi) a, b;
        switch (c.Op)
        {
            case AddCell add:
                a = Varying(add.A, width, cells);
                b = Varying(add.B, width, cells);
                break;
            case ConstantAddCell k:
                a = Varying(k.X, width, cells);
                b = (0, 0);
                break;
            case RoundCell r:
                a = Varying(Operand.Wire(r.X, -r.Shift), width, cells);
                b = (0, 1);
                break;
            default:
                return (width, 0);
        }
        int Len((int Lo, int Hi) r) => Math.Max(0, Math.Min(r.Hi, width) - r.Lo);
        int both = Len((Math.Max(a.Lo, b.Lo), Math.Min(a.Hi, b.Hi)));
        return (both, Len(a) + Len(b) - 2 * both);
    }

    /// <summary>The bit range [Lo, Hi) of an operand, at <paramref name="width"/> bits, that is not constant.</summary>
    private static (int Lo, int Hi) Varying(Operand o, int width, IReadOnlyList<Cell> cells)
    {
        if (o.IsConstant) return (0, 0);
        var x = cells[o.Cell];
        int w = x.Width;
        if (o.Shift >= 0)
        {
            if (o.Shift >= width) return (0, 0);
            int body = width - o.Shift;
            return x.Signed || body <= w ? (o.Shift, width) : (o.Shift, o.Shift + w);
        }
        int present = w + o.Shift;
        if (present <= 0) return x.Signed ? (0, width) : (0, 0);
        return x.Signed || width <= present ? (0, width) : (0, present);
    }
}

/// <summary>The primitives the resource model prices.</summary>
internal enum Primitive
{
    /// <summary>A two-input adder or subtractor (a carry chain as wide as its output).</summary>
    Adder,
    /// <summary>The shifted value plus one rounding bit.</summary>
    Rounding,
    /// <summary>A two-input multiplexer (ReLU, maximum, argmax index).</summary>
    Mux,
    /// <summary>A two-input multiplexer selected by a bit of a phase counter (a level of a folded layer's input tree).</summary>
    Select,
    /// <summary>Comparisons with the bounds and a multiplexer (SAT, SAT_SYM, SAT_ZERO).</summary>
    Saturation,
    /// <summary>A two-operand comparison (maximum, argmax).</summary>
    Comparator,
    /// <summary>A read-only memory (a folded layer's weights, indexed by its phase counter).</summary>
    Memory,
    /// <summary>A multiplier of two wires (a folded dense layer's products).</summary>
    Multiplier,
    /// <summary>One-bit control logic and counter compares of the streaming designs (not priced yet).</summary>
    Control,
}
