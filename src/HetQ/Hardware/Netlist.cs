using System.CodeDom.Compiler;
using System.Diagnostics;
using System.Globalization;
using System.Numerics;

namespace HetQ.Hardware;

/// <summary>A value in the generated logic: the wire <see cref="Name"/> holds an integer in [<see cref="Lo"/>,
/// <see cref="Hi"/>] (its declared width follows from those bounds), and the value it stands for is that integer
/// times 2^<see cref="Shift"/> (low zero bits are never wired). <see cref="Stage"/> is the clock cycle, counted from
/// the input, at which the wire holds the value of a given input vector. A constant has no wire
/// (<see cref="Name"/> null, Lo = Hi).</summary>
internal readonly record struct Sig(string? Name, BigInteger Lo, BigInteger Hi, int Shift, int Stage, string? Origin)
{
    public bool IsConstant => Name is null;
    public bool Signed => Lo < 0;
    public int Width => Netlist.WidthOf(Lo, Hi);

    /// <summary>Bounds of the value this signal stands for (the wire's bounds times 2^Shift).</summary>
    public BigInteger ValueLo => Lo << Shift;
    public BigInteger ValueHi => Hi << Shift;

    public static Sig Constant(BigInteger value) => new(null, value, value, 0, 0, null);
}

/// <summary>Writes the wires and registers of one flat module and keeps the pipeline consistent. Logic is placed
/// on numbered levels (roughly one adder, comparator or requantization deep each); a register follows every
/// level in the cut set, and every operand is delayed to the stage of the level that reads it, so any cut set
/// gives a correct pipeline with a new input every clock.</summary>
internal sealed class Netlist
{
    private readonly IndentedTextWriter _w;
    private readonly int[] _cuts;
    private readonly List<string> _registerAssignments = new();
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Origin, int Stage), Sig> _delayed = new();
    private readonly Dictionary<string, int> _counters = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Expr, BigInteger Lo, BigInteger Hi), Sig> _logic = new();
    private readonly Dictionary<string, int> _widths = new(StringComparer.Ordinal);

    public Netlist(IndentedTextWriter writer, IEnumerable<int> cuts)
    {
        _w = writer;
        _cuts = cuts.Distinct().Order().ToArray();
    }

    /// <summary>One past the deepest level that holds logic.</summary>
    public int Depth { get; private set; }

    /// <summary>Registers written (bits), for the manifest.</summary>
    public long RegisterBits { get; private set; }

    public IndentedTextWriter Writer => _w;

    /// <summary>The logic and registers written so far, primitive by primitive (for <see cref="ResourceModel"/>).</summary>
    public LogicTally Tally { get; } = new();

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

    /// <summary>A fresh wire name: the prefix, an underscore, a kind letter and a counter (never a keyword).</summary>
    public string Fresh(string prefix, char kind)
    {
        string key = prefix + "_" + kind;
        _counters.TryGetValue(key, out int n);
        _counters[key] = n + 1;
        return key + n.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>An input port slice: bits [offset + width - 1 : offset] of <paramref name="port"/>.</summary>
    public Sig PortSlice(string name, string port, int offset, int width, bool signed)
    {
        BigInteger lo = signed ? -(BigInteger.One << (width - 1)) : 0;
        BigInteger hi = signed ? (BigInteger.One << (width - 1)) - 1 : (BigInteger.One << width) - 1;
        Claim(name);
        string range = width == 1 ? $"{port}[{offset}]" : $"{port}[{offset + width - 1}:{offset}]";
        _w.WriteLine($"wire {Decl(lo, width)}{name} = {range};");
        _widths[name] = width;
        return new Sig(name, lo, hi, 0, 0, name);
    }

    /// <summary>Declares <paramref name="name"/> = <paramref name="expr"/> (already exactly as wide as [lo, hi]) as logic
    /// on <paramref name="level"/>; readers on later levels get it through registers (<see cref="At"/>).
    /// Bounds with lo = hi give a constant instead; logic identical to earlier logic (the same expression of the same
    /// wires) is shared instead of written again.</summary>
    public Sig Wire(string name, BigInteger lo, BigInteger hi, int shift, string expr, int level)
    {
        if (lo == hi) return Sig.Constant(lo << shift);
        if (_logic.TryGetValue((expr, lo, hi), out var same)) return same with { Shift = shift };
        Claim(name);
        Depth = Math.Max(Depth, level + 1);
        _w.WriteLine($"wire {Decl(lo, WidthOf(lo, hi))}{name} = {expr};");
        Tally.Logic(name, WidthOf(lo, hi), expr, _widths);
        _widths[name] = WidthOf(lo, hi);
        var s = new Sig(name, lo, hi, shift, StageOf(level), name);
        _logic[(expr, lo, hi)] = s;
        return s;
    }

    /// <summary>A new name for wiring only (a slice, an extension) of <paramref name="source"/>: no logic, no level,
    /// the source's stage.</summary>
    public Sig Alias(string name, BigInteger lo, BigInteger hi, string expr, Sig source)
    {
        if (lo == hi) return Sig.Constant(lo);
        Claim(name);
        _w.WriteLine($"wire {Decl(lo, WidthOf(lo, hi))}{name} = {expr};");
        Tally.Alias(name, expr, _widths);
        _widths[name] = WidthOf(lo, hi);
        return new Sig(name, lo, hi, 0, source.Stage, name);
    }

    /// <summary>The signal as seen by logic on <paramref name="level"/>: delayed through registers to that level's stage.</summary>
    public Sig At(Sig s, int level) => Delay(s, StageOf(level));

    /// <summary>The signal delayed to <paramref name="stage"/> (a shift register, shared by every reader).</summary>
    public Sig Delay(Sig s, int stage)
    {
        if (s.IsConstant || s.Stage == stage) return s;
        if (s.Stage > stage) throw new UnreachableException($"signal {s.Name} at stage {s.Stage} is read at stage {stage}");
        int shift = s.Shift; // registers are shared by readers that see the wire with different shifts
        while (s.Stage < stage)
        {
            int next = s.Stage + 1;
            if (!_delayed.TryGetValue((s.Origin!, next), out var r))
            {
                string name = $"{s.Origin}_r{next.ToString(CultureInfo.InvariantCulture)}";
                Claim(name);
                int width = s.Width;
                _w.WriteLine($"reg {Decl(s.Lo, width)}{name};");
                _registerAssignments.Add($"{name} <= {s.Name};");
                RegisterBits += width;
                Tally.Register(name, width, s.Name!);
                _widths[name] = width;
                r = s with { Name = name, Stage = next };
                _delayed[(s.Origin!, next)] = r;
            }
            s = r;
        }
        return s with { Shift = shift };
    }

    /// <summary>The registers' single clocked block; call once, after every wire.</summary>
    public void WriteRegisters(string clock)
    {
        if (_registerAssignments.Count == 0) return;
        BlankLine();
        _w.WriteLine($"always @(posedge {clock}) begin");
        _w.Indent++;
        foreach (var a in _registerAssignments) _w.WriteLine(a);
        _w.Indent--;
        _w.WriteLine("end");
    }

    public void Comment(string text) => _w.WriteLine("// " + text);

    /// <summary>An empty line (without the indentation's trailing spaces).</summary>
    public void BlankLine() => _w.WriteLineNoTabs("");

    /// <summary>A Verilog expression exactly <paramref name="width"/> bits wide whose bits are those of
    /// (s's wire value · 2^shift) modulo 2^width: sign or zero extension, truncation, appended zeros. Sums and
    /// differences of such expressions are exact whenever the result fits the width.</summary>
    public static string Ext(Sig s, int shift, int width)
    {
        Debug.Assert(width >= 1 && shift >= 0);
        if (s.IsConstant) return Literal(s.Lo << shift, width);
        if (shift >= width) return Literal(0, width);
        string body = Resize(s, width - shift);
        return shift == 0 ? body : $"{{{body}, {Literal(0, shift)}}}";
    }

    private static string Resize(Sig s, int width)
    {
        int w = s.Width;
        if (width == w) return s.Name!;
        if (width < w) return Slice(s.Name!, width - 1, 0);
        return $"{{{Replicate(s.Signed ? $"{s.Name}[{w - 1}]" : "1'b0", width - w)}, {s.Name}}}";
    }

    /// <summary>Bit <paramref name="i"/> of the wire (beyond its width: the sign, or 0).</summary>
    public static string Bit(Sig s, int i)
    {
        if (s.IsConstant) return ((s.Lo >> i) & 1) == 1 ? "1'b1" : "1'b0";
        if (i < s.Width) return $"{s.Name}[{i}]";
        return s.Signed ? $"{s.Name}[{s.Width - 1}]" : "1'b0";
    }

    /// <summary>The OR of wire bits [hi:0] (bits beyond the width repeat the sign); "1'b0" when hi &lt; 0.</summary>
    public static string AnyBit(Sig s, int hi)
    {
        if (hi < 0) return "1'b0";
        int top = Math.Min(hi, s.Width - 1);
        return top == 0 ? Bit(s, 0) : $"(|{s.Name}[{top}:0])";
    }

    /// <summary>Bits [width - 1 + from : from] of the wire as an expression of exactly <paramref name="width"/> bits
    /// (an arithmetic right shift by <paramref name="from"/>, then a resize).</summary>
    public static string ShiftRight(Sig s, int from, int width)
    {
        if (s.IsConstant) return Literal(s.Lo >> from, width);
        if (from == 0) return Resize(s, width);
        int w = s.Width, present = w - from; // bits of the shifted value the wire holds
        string sign = $"{s.Name}[{w - 1}]";
        if (present <= 0) return s.Signed ? Replicate(sign, width) : Literal(0, width);
        if (width <= present) return Slice(s.Name!, from + width - 1, from);
        return $"{{{Replicate(s.Signed ? sign : "1'b0", width - present)}, {Slice(s.Name!, w - 1, from)}}}";
    }

    private static string Slice(string name, int hi, int lo) => hi == lo ? $"{name}[{hi}]" : $"{name}[{hi}:{lo}]";

    private static string Replicate(string bit, int n) => n == 1 ? bit : $"{{{n}{{{bit}}}}}";

    /// <summary>A sized hexadecimal literal of value modulo 2^width.</summary>
    public static string Literal(BigInteger value, int width)
    {
        var m = value & ((BigInteger.One << width) - 1);
        return width.ToString(CultureInfo.InvariantCulture) + "'h" + m.ToString("x", CultureInfo.InvariantCulture).TrimStart('0').PadLeft(1, '0');
    }

    /// <summary>The bits as a signed operand (when <paramref name="signed"/>) of a comparison, else as they are.</summary>
    public static string Operand(string bits, bool signed) => signed ? $"$signed({bits})" : bits;

    private static string Decl(BigInteger lo, int width) =>
        (lo < 0 ? "signed " : "") + $"[{width - 1}:0] ";

    private void Claim(string name)
    {
        if (!_names.Add(name)) throw new UnreachableException($"wire name '{name}' generated twice");
    }
}
