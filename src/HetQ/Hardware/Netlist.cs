using System.Diagnostics;
using System.Globalization;
using System.Numerics;

namespace HetQ.Hardware;

/// <summary>A value in the generated logic: the wire of cell <see cref="Id"/> holds an integer in [<see cref="Lo"/>,
/// <see cref="Hi"/>] (its declared width follows from those bounds), and the value it stands for is that integer
/// times 2^<see cref="Shift"/> (low zero bits are never wired). <see cref="Stage"/> is the clock cycle, counted from
/// the input, at which the wire holds the value of a given input vector; <see cref="Origin"/> is the cell it was
/// computed in (before any delay registers). A constant has no cell (<see cref="Id"/> -1, Lo = Hi); so has default(Sig),
/// the constant 0.</summary>
internal readonly record struct Sig
{
    private readonly int _id, _origin; // cell index + 1: 0 is a constant, so default(Sig) is the constant 0

    public Sig(int id, BigInteger lo, BigInteger hi, int shift, int stage, int origin)
    {
        _id = id + 1;
        Lo = lo;
        Hi = hi;
        Shift = shift;
        Stage = stage;
        _origin = origin + 1;
    }

    public int Id { get => _id - 1; init => _id = value + 1; }
    public BigInteger Lo { get; init; }
    public BigInteger Hi { get; init; }
    public int Shift { get; init; }
    public int Stage { get; init; }
    public int Origin => _origin - 1;

    public bool IsConstant => _id == 0;
    public bool Signed => Lo < 0;
    public int Width => Netlist.WidthOf(Lo, Hi);

    /// <summary>Bounds of the value this signal stands for (the wire's bounds times 2^Shift).</summary>
    public BigInteger ValueLo => Lo << Shift;
    public BigInteger ValueHi => Hi << Shift;

    public static Sig Constant(BigInteger value) => new(-1, value, value, 0, 0, -1);
}

/// <summary>The typed netlist of one flat module: cells (<see cref="Cell"/>) in the order they were built, each
/// reading only cells before it (a register may take a later cell: <see cref="Connect"/>), and the comment lines between them. Logic is placed on numbered
/// levels (roughly one adder, comparator or requantization deep each); a register follows every level in the cut set,
/// and every operand is delayed to the stage of the level that reads it, so any cut set gives a correct pipeline with
/// a new input every clock. <see cref="NetlistPrinter"/> writes it as Verilog, <see cref="LogicTally"/> counts it and
/// <see cref="NetlistInterpreter"/> runs it.</summary>
internal sealed class Netlist
{
    private readonly int[] _cuts;
    private readonly List<Cell> _cells = new();
    private readonly List<(int Before, string? Text)> _notes = new();
    private readonly Dictionary<(int Origin, int Stage), Sig> _delayed = new();
    private readonly Dictionary<(string Prefix, char Kind), int> _counters = new();
    private readonly Dictionary<(CellOp Op, BigInteger Lo, BigInteger Hi), Sig> _logic = new();

    public Netlist(IEnumerable<int> cuts)
    {
        _cuts = cuts.Distinct().Order().ToArray();
    }

    /// <summary>One past the deepest level that holds logic.</summary>
    public int Depth { get; private set; }

    /// <summary>Registers built (bits), for the manifest.</summary>
    public long RegisterBits { get; private set; }

    /// <summary>The register stages of the pipeline (the latency in clock cycles of a design whose outputs are at the last).</summary>
    public int Stages => _cuts.Length;

    public IReadOnlyList<Cell> Cells => _cells;

    /// <summary>Comment lines (a null text is an empty line), each printed before the cell of index Before.</summary>
    public IReadOnlyList<(int Before, string? Text)> Notes => _notes;

    /// <summary>The stage of signals computed on <paramref name="level"/>: the number of cuts below it.</summary>
    public int StageOf(int level)
    {
        // the number of cuts below level: the index of the first cut >= level
        int i = Array.BinarySearch(_cuts, level);
        if (i < 0) return ~i;
        while (i > 0 && _cuts[i - 1] == level) i--;
        return i;
    }

    /// <summary>Bits of the narrowest two's complement (when lo &lt; 0) or unsigned vector holding [lo, hi].</summary>
    public static int WidthOf(BigInteger lo, BigInteger hi)
    {
        Debug.Assert(lo <= hi);
        if (lo >= 0) return (int)Math.Max(1, hi.GetBitLength());
        return (int)Math.Max(lo.GetBitLength(), hi < 0 ? 0 : hi.GetBitLength()) + 1;
    }

    /// <summary>The next number of a fresh name prefix_kind&lt;number&gt; (taken whether or not a cell is then built, so
    /// names do not depend on what is shared).</summary>
    private int Fresh(string prefix, char kind)
    {
        ref int n = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_counters, (prefix, kind), out _);
        return n++;
    }

    private Cell Add(CellOp op, BigInteger lo, BigInteger hi, int level, int stage, string prefix, char kind, int number, string? name = null)
    {
        var c = new Cell(_cells.Count, op, lo, hi, level, stage, prefix, kind, number, name);
        _cells.Add(c);
        return c;
    }

    /// <summary>An input port slice: bits [offset + width - 1 : offset] of <paramref name="port"/>, named <paramref name="name"/>.</summary>
    public Sig PortSlice(string name, string port, int offset, int width, bool signed)
    {
        BigInteger lo = signed ? -(BigInteger.One << (width - 1)) : 0;
        BigInteger hi = signed ? (BigInteger.One << (width - 1)) - 1 : (BigInteger.One << width) - 1;
        var c = Add(new InputCell(port, offset, width, signed), lo, hi, -1, 0, "", '?', 0, name);
        return new Sig(c.Id, lo, hi, 0, 0, c.Id);
    }

    /// <summary>A cell computing <paramref name="op"/> (whose result is exactly as wide as [lo, hi]) as logic on
    /// <paramref name="level"/>, named prefix_kind&lt;n&gt;; readers on later levels get it through registers (<see cref="At"/>).
    /// Bounds with lo = hi give a constant instead; a cell equal to an earlier one (the same op of the same cells, the
    /// same bounds) is shared instead of built again.</summary>
    public Sig Wire(string prefix, char kind, BigInteger lo, BigInteger hi, int shift, CellOp op, int level)
    {
        int number = Fresh(prefix, kind);
        if (lo == hi) return Sig.Constant(lo << shift);
        if (_logic.TryGetValue((op, lo, hi), out var same)) return same with { Shift = shift };
        Depth = Math.Max(Depth, level + 1);
        int stage = StageOf(level);
        var c = Add(op, lo, hi, level, stage, prefix, kind, number);
        var s = new Sig(c.Id, lo, hi, shift, stage, c.Id);
        _logic[(op, lo, hi)] = s;
        return s;
    }

    /// <summary>A new name for wiring only (a slice, an extension) of <paramref name="source"/>: no logic, no level,
    /// the source's stage.</summary>
    public Sig Alias(string prefix, char kind, BigInteger lo, BigInteger hi, ResizeCell op, Sig source)
    {
        int number = Fresh(prefix, kind);
        if (lo == hi) return Sig.Constant(lo);
        var c = Add(op, lo, hi, -1, source.Stage, prefix, kind, number);
        return new Sig(c.Id, lo, hi, 0, source.Stage, c.Id);
    }

    /// <summary>The signal as seen by logic on <paramref name="level"/>: delayed through registers to that level's stage.</summary>
    public Sig At(Sig s, int level) => Delay(s, StageOf(level));

    /// <summary>The signal delayed to <paramref name="stage"/> (a shift register, shared by every reader).</summary>
    public Sig Delay(Sig s, int stage)
    {
        if (s.IsConstant || s.Stage == stage) return s;
        if (s.Stage > stage) throw new UnreachableException($"signal {_cells[s.Id].Name} at stage {s.Stage} is read at stage {stage}");
        int shift = s.Shift; // registers are shared by readers that see the wire with different shifts
        while (s.Stage < stage)
        {
            int next = s.Stage + 1;
            if (!_delayed.TryGetValue((s.Origin, next), out var r))
            {
                string name = $"{_cells[s.Origin].Name}_r{next.ToString(CultureInfo.InvariantCulture)}";
                var c = Add(new RegisterCell(s.Id), s.Lo, s.Hi, -1, next, "", '?', 0, name);
                RegisterBits += c.Width;
                r = s with { Id = c.Id, Stage = next };
                _delayed[(s.Origin, next)] = r;
            }
            s = r;
        }
        return s with { Shift = shift };
    }

    /// <summary>Bits [offset + width - 1 : offset] of output port <paramref name="port"/> driven by the operand.</summary>
    public void Output(string port, int offset, int width, Operand source) =>
        Add(new OutputCell(port, offset, width, source), 0, 0, -1, -1, "", '?', 0, "");

    /// <summary>A cell of the streaming primitives (state, memories, control) named <paramref name="name"/>; it is not
    /// shared with others.</summary>
    public Sig State(string name, CellOp op, BigInteger lo, BigInteger hi, int stage)
    {
        var c = Add(op, lo, hi, -1, stage, "", '?', 0, name);
        if (c.IsSequential) RegisterBits += op is ShiftRegisterCell sr ? (long)sr.Length * c.Width : c.Width;
        return new Sig(c.Id, lo, hi, 0, stage, c.Id);
    }

    /// <summary>Sets the source of the register <paramref name="register"/> (built with source -1) to a later cell: a loop
    /// through a register, as an accumulator's (its sum reads it, and it takes the sum).</summary>
    public void Connect(Sig register, Sig source)
    {
        var c = _cells[register.Id];
        if (c.Op is not RegisterCell { Source: -1 } r) throw new UnreachableException($"{c.Name} is not an unconnected register");
        _cells[register.Id] = c with { Op = r with { Source = source.Id } };
    }

    /// <summary>Sets the enable of the counter <paramref name="counter"/> (built without one) to a later cell: a FIFO's
    /// read pointer, advanced by a pop that reads the pointer.</summary>
    public void ConnectEnable(Sig counter, Sig enable)
    {
        var c = _cells[counter.Id];
        if (c.Op is not CounterCell { Enable: -1 } k) throw new UnreachableException($"{c.Name} is not a counter without an enable");
        _cells[counter.Id] = c with { Op = k with { Enable = enable.Id } };
    }

    /// <summary>The cell a signal is the wire of.</summary>
    public Cell this[Sig s] => _cells[s.Id];

    public void Comment(string text) => _notes.Add((_cells.Count, text));

    /// <summary>An empty line.</summary>
    public void BlankLine() => _notes.Add((_cells.Count, null));
}
