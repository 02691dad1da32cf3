using System.CodeDom.Compiler;
using System.Diagnostics;
using System.Globalization;
using System.Numerics;

namespace HetQ.Hardware;

/// <summary>Writes a <see cref="Netlist"/> as Verilog-2001, one declaration per cell in the netlist's order (a wire
/// and its expression, a register, an output assignment, a memory), the comment lines between them, and one clocked
/// block with every register, counter and shift register. The only place where the design's Verilog text is made.</summary>
internal static class NetlistPrinter
{
    /// <summary>The module body: every cell, then the clocked block. Products are shift-and-add (<see cref="Product"/>)
    /// unless <paramref name="dsp"/>, where they stay <c>a * b</c> for synthesis to put into DSP slices.</summary>
    public static void WriteBody(IndentedTextWriter w, Netlist n, string clock, bool dsp = false)
    {
        var cells = n.Cells;
        var names = new string[cells.Count];
        var used = new HashSet<string>(StringComparer.Ordinal);
        var clocked = new List<string>();
        var notes = n.Notes;
        int note = 0;
        // every name first: a register may take a later cell (an accumulator's loop)
        for (int i = 0; i < cells.Count; i++)
        {
            if (cells[i].Op is OutputCell) continue;
            names[i] = cells[i].Name;
            if (!used.Add(names[i])) throw new UnreachableException($"wire name '{names[i]}' generated twice");
        }
        for (int i = 0; i < cells.Count; i++)
        {
            for (; note < notes.Count && notes[note].Before <= i; note++) Note(w, notes[note].Text);
            Write(w, cells[i], cells, names, clocked, dsp);
        }
        for (; note < notes.Count; note++) Note(w, notes[note].Text);
        if (clocked.Count == 0) return;
        w.WriteLineNoTabs("");
        w.WriteLine($"always @(posedge {clock}) begin");
        w.Indent++;
        foreach (var line in clocked) w.WriteLine(line);
        w.Indent--;
        w.WriteLine("end");
    }

    /// <summary>A whole module whose ports are those the cells name: each input port as wide as its highest slice, each
    /// output port as wide as its highest assignment (for netlists built outside <see cref="VerilogWriter"/>).</summary>
    public static string Module(Netlist n, string top, string clock)
    {
        var text = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
        var w = new IndentedTextWriter(text, "  ") { NewLine = "\n" };
        var inputs = n.Cells.Select(c => c.Op).OfType<InputCell>().GroupBy(p => p.Port).Select(g => (g.Key, g.Max(p => p.Offset + p.Width)));
        var outputs = n.Cells.Select(c => c.Op).OfType<OutputCell>().GroupBy(p => p.Port).Select(g => (g.Key, g.Max(p => p.Offset + p.Width)));
        var ports = new List<string> { $"input wire {clock}" };
        ports.AddRange(inputs.Select(p => $"input wire [{p.Item2 - 1}:0] {p.Key}"));
        ports.AddRange(outputs.Select(p => $"output wire [{p.Item2 - 1}:0] {p.Key}"));
        w.WriteLine("`default_nettype none");
        w.WriteLine($"module {top} (");
        w.Indent++;
        for (int i = 0; i < ports.Count; i++) w.WriteLine(ports[i] + (i + 1 < ports.Count ? "," : ""));
        w.Indent--;
        w.WriteLine(");");
        w.Indent++;
        WriteBody(w, n, clock);
        w.Indent--;
        w.WriteLine("endmodule");
        w.WriteLine("`default_nettype wire");
        w.Flush();
        return text.ToString();
    }

    private static void Note(IndentedTextWriter w, string? text)
    {
        if (text is null) w.WriteLineNoTabs("");
        else w.WriteLine("// " + text);
    }

    private static void Write(IndentedTextWriter w, Cell c, IReadOnlyList<Cell> cells, string[] names, List<string> clocked, bool dsp)
    {
        string name = names[c.Id];
        int width = c.Width;
        string Wire(string expr) => $"wire {Decl(c.Lo, width)}{name} = {expr};";
        string Ext(Operand o, int wd) => NetlistPrinter.Ext(o, wd, cells, names);
        switch (c.Op)
        {
            case InputCell p:
                w.WriteLine(Wire(p.Width == 1 ? $"{p.Port}[{p.Offset}]" : $"{p.Port}[{p.Offset + p.Width - 1}:{p.Offset}]"));
                break;
            case AddCell a:
                w.WriteLine(Wire($"{Ext(a.A, width)} {(a.Subtract ? "-" : "+")} {Ext(a.B, width)}"));
                break;
            case ConstantAddCell a:
            {
                string term = Ext(a.X, width), k = Literal(a.Constant, width);
                w.WriteLine(Wire(a.Negate ? $"{k} - {term}" : $"{term} + {k}"));
                break;
            }
            case AbsCell a:
            {
                var x = cells[a.X];
                string e = ExtWire(x, names[x.Id], 0, width);
                w.WriteLine(Wire($"{Bit(x, names[x.Id], x.Width - 1)} ? -{e} : {e}"));
                break;
            }
            case RoundCell r:
                w.WriteLine(Wire(Round(cells[r.X], names[r.X], r.Shift, r.Rounding, width)));
                break;
            case ResizeCell r:
                w.WriteLine(Wire(Ext(Operand.Wire(r.X, r.Shift), width)));
                break;
            case ReluCell r:
            {
                var x = cells[r.X];
                w.WriteLine(Wire($"{Bit(x, names[x.Id], x.Width - 1)} ? {Literal(0, width)} : {ExtWire(x, names[x.Id], 0, width)}"));
                break;
            }
            case MuxCell m:
                w.WriteLine(Wire($"{names[m.Select]} ? {Ext(m.WhenTrue, width)} : {Ext(m.WhenFalse, width)}"));
                break;
            case GatedCell g:
            {
                var x = cells[g.X];
                w.WriteLine(Wire($"{Bit(x, names[x.Id], g.Bit)} ? {ExtWire(x, names[x.Id], 0, x.Width)} : {Literal(0, x.Width)}"));
                break;
            }
            case SaturateCell s:
                w.WriteLine(Wire(Saturate(cells[s.X], names[s.X], s, width)));
                break;
            case CompareCell k:
                w.WriteLine(Wire($"{Signed(Ext(k.A, k.Width), k.Signed)} > {Signed(Ext(k.B, k.Width), k.Signed)}"));
                break;
            case MultiplyCell m when dsp:
                w.WriteLine(Wire($"{AsSigned(cells[m.A], names[m.A])} * {AsSigned(cells[m.B], names[m.B])}"));
                break;
            case MultiplyCell m:
                Product(w, c, cells[m.A], names[m.A], cells[m.B], names[m.B], name);
                break;
            case EqualsCell e:
            {
                var x = cells[e.X.Cell];
                w.WriteLine(Wire($"{Ext(e.X, x.Width)} == {Literal(e.Value, x.Width)}"));
                break;
            }
            case LogicCell l:
                w.WriteLine(Wire(l.Kind switch
                {
                    LogicKind.And => $"{names[l.A]} & {names[l.B]}",
                    LogicKind.Or => $"{names[l.A]} | {names[l.B]}",
                    LogicKind.Not => $"~{names[l.A]}",
                    _ => throw new UnreachableException(),
                }));
                break;
            case RomCell r:
            {
                w.WriteLine($"reg {Decl(c.Lo, width)}{name}_rom [0:{r.Contents.Count - 1}];");
                w.WriteLine("initial begin");
                w.Indent++;
                for (int i = 0; i < r.Contents.Count; i++) w.WriteLine($"{name}_rom[{i}] = {Literal(r.Contents[i], width)};");
                w.Indent--;
                w.WriteLine("end");
                w.WriteLine(Wire($"{name}_rom[{names[r.Address]}]"));
                break;
            }
            case RegisterCell r:
                w.WriteLine($"reg {Decl(c.Lo, width)}{name};");
                clocked.Add(Clocked(names, r.Reset, r.Enable, $"{name} <= {Literal(0, width)};", $"{name} <= {names[r.Source]};"));
                break;
            case CounterCell k:
                w.WriteLine($"reg {Decl(c.Lo, width)}{name};");
                clocked.Add(Clocked(names, k.Reset, k.Enable, $"{name} <= {Literal(0, width)};",
                    $"{name} <= {name} == {Literal(k.Modulus - 1, width)} ? {Literal(0, width)} : {name} + {Literal(1, width)};"));
                break;
            case ShiftRegisterCell s:
            {
                w.WriteLine($"reg {Decl(c.Lo, width)}{name}_m [0:{s.Length - 1}];");
                w.WriteLine(Wire($"{name}_m[{s.Length - 1}]"));
                var moves = new List<string> { $"{name}_m[0] <= {names[s.Source]};" };
                for (int i = 1; i < s.Length; i++) moves.Add($"{name}_m[{i}] <= {name}_m[{i - 1}];");
                clocked.Add(Clocked(names, -1, s.Enable, "", moves.Count == 1 ? moves[0] : "begin " + string.Join(" ", moves) + " end"));
                break;
            }
            case OutputCell o:
                w.WriteLine($"assign {o.Port}[{(o.Width == 1 ? $"{o.Offset}" : $"{o.Offset + o.Width - 1}:{o.Offset}")}] = {Ext(o.Source, o.Width)};");
                break;
            default:
                throw new UnreachableException($"no Verilog for cell {c.Op.GetType().Name}");
        }
    }

    /// <summary>a · b as shift-and-add: one partial product per bit of one operand (the other gated by that bit and
    /// shifted to it; a signed operand's top bit subtracts), summed by a balanced tree of two-input adders
    /// on the product's width, where every sum is exact modulo 2^width and so is the product, which fits. Written so
    /// rather than as <c>a * b</c>, which Yosys turns into one gate-level multiply-accumulate that ABC maps without carry
    /// chains (the held-out MLP 64-32-10 at reuse 8: 43,454 LUTs with a * b, 24,712 so; each adder here is its own carry
    /// chain).</summary>
    private static void Product(IndentedTextWriter w, Cell c, Cell a, string an, Cell b, string bn, string name)
    {
        // The gated operand a is unsigned where one is: its zero extension is constant, so each partial product varies
        // only over a's own bits (a signed a's sign extension varies over the whole width). Otherwise the bits of the
        // narrower one. (Measured against the narrower-operand rule alone: 5 of 8 folded calibration designs a little
        // smaller, the held-out MLP 64-32-10 at reuse 8 9 % larger; both far below a * b.)
        if (a.Signed != b.Signed ? a.Signed : b.Width > a.Width) (a, an, b, bn) = (b, bn, a, an);
        int width = c.Width;
        string decl = $"signed [{width - 1}:0] ";
        w.WriteLine($"wire {decl}{name}_x = {ExtWire(a, an, 0, width)};");
        var terms = new List<(string Name, bool Negative)>();
        for (int j = 0; j < b.Width; j++)
        {
            if (j >= width) break;
            string t = $"{name}_pp{j}";
            string gate = width == 1 ? Bit(b, bn, j) : $"{{{width}{{{Bit(b, bn, j)}}}}}";
            w.WriteLine($"wire {decl}{t} = ({name}_x & {gate}){(j == 0 ? "" : $" <<< {j}")};");
            terms.Add((t, b.Signed && j == b.Width - 1));
        }
        int k = 0;
        while (terms.Count > 1)
        {
            var next = new List<(string, bool)>((terms.Count + 1) / 2);
            for (int i = 0; i + 1 < terms.Count; i += 2)
            {
                var (x, xn) = terms[i];
                var (y, yn) = terms[i + 1];
                string t = $"{name}_s{k++}";
                // at most the last term is negative, so a pair has at most one
                w.WriteLine($"wire {decl}{t} = {(yn ? $"{x} - {y}" : xn ? $"{y} - {x}" : $"{x} + {y}")};");
                next.Add((t, false));
            }
            if (terms.Count % 2 == 1) next.Add(terms[^1]);
            terms = next;
        }
        var (root, negative) = terms[0];
        w.WriteLine($"wire {Decl(c.Lo, width)}{name} = {(negative ? "-" : "")}{root};");
    }

    private static string Clocked(string[] names, int reset, int enable, string onReset, string update)
    {
        string body = enable < 0 ? update : $"if ({names[enable]}) {update}";
        return reset < 0 ? body : $"if ({names[reset]}) {onReset} else {body}";
    }

    private static string Round(Cell x, string n, int s, Quantization.Rounding rounding, int w)
    {
        string sign = x.Signed ? Bit(x, n, x.Width - 1) : "1'b0";
        string half = Bit(x, n, s - 1), rest = AnyBit(x, n, s - 2), odd = Bit(x, n, s);
        string up = rounding switch
        {
            Quantization.Rounding.TRN_ZERO => $"{sign} & ({half} | {rest})",
            Quantization.Rounding.RND => half,
            Quantization.Rounding.RND_ZERO => $"{half} & ({rest} | {sign})",
            Quantization.Rounding.RND_INF => $"{half} & ({rest} | ~{sign})",
            Quantization.Rounding.RND_MIN_INF => $"{half} & {rest}",
            Quantization.Rounding.RND_CONV => $"{half} & ({rest} | {odd})",
            _ => throw new UnreachableException(),
        };
        string upBits = w == 1 ? $"({up})" : $"{{{Literal(0, w - 1)}, ({up})}}";
        return $"{ShiftRight(x, n, s, w)} + {upBits}";
    }

    private static string Saturate(Cell x, string n, SaturateCell s, int w)
    {
        BigInteger qlo = x.Lo << s.Shift, qhi = x.Hi << s.Shift;
        int wq = Netlist.WidthOf(qlo, qhi);
        bool signed = qlo < 0;
        string value = Signed(ExtWire(x, n, s.Shift, wq), signed);
        string inner = ExtWire(x, n, s.Shift, w);
        var conditions = new List<(string Condition, BigInteger Value)>();
        if (s.High is { } high) conditions.Add(($"{value} > {Signed(Literal(high, wq), signed)}", high));
        if (s.Low is { } low) conditions.Add(($"{value} < {Signed(Literal(low, wq), signed)}", low));
        if (s.ToZero) return $"({string.Join(" || ", conditions.Select(c => $"({c.Condition})"))}) ? {Literal(0, w)} : {inner}";
        string expr = inner;
        for (int i = conditions.Count - 1; i >= 0; i--) expr = $"({conditions[i].Condition}) ? {Literal(conditions[i].Value, w)} : {expr}";
        return expr;
    }

    /// <summary>An operand as an expression exactly <paramref name="width"/> bits wide.</summary>
    private static string Ext(Operand o, int width, IReadOnlyList<Cell> cells, string[] names)
    {
        if (o.IsConstant) return Literal(o.Value, width);
        var x = cells[o.Cell];
        return o.Shift >= 0 ? ExtWire(x, names[o.Cell], o.Shift, width) : ShiftRight(x, names[o.Cell], -o.Shift, width);
    }

    /// <summary>A Verilog expression exactly <paramref name="width"/> bits wide whose bits are those of (x's wire value ·
    /// 2^shift) modulo 2^width: sign or zero extension, truncation, appended zeros. Sums and differences of such
    /// expressions are exact whenever the result fits the width.</summary>
    private static string ExtWire(Cell x, string n, int shift, int width)
    {
        Debug.Assert(width >= 1 && shift >= 0);
        if (shift >= width) return Literal(0, width);
        string body = Resize(x, n, width - shift);
        return shift == 0 ? body : $"{{{body}, {Literal(0, shift)}}}";
    }

    private static string Resize(Cell x, string n, int width)
    {
        int w = x.Width;
        if (width == w) return n;
        if (width < w) return Slice(n, width - 1, 0);
        return $"{{{Replicate(x.Signed ? $"{n}[{w - 1}]" : "1'b0", width - w)}, {n}}}";
    }

    /// <summary>Bit <paramref name="i"/> of the wire (beyond its width: the sign, or 0).</summary>
    private static string Bit(Cell x, string n, int i)
    {
        if (i < x.Width) return $"{n}[{i}]";
        return x.Signed ? $"{n}[{x.Width - 1}]" : "1'b0";
    }

    /// <summary>The OR of wire bits [hi:0] (bits beyond the width repeat the sign); "1'b0" when hi &lt; 0.</summary>
    private static string AnyBit(Cell x, string n, int hi)
    {
        if (hi < 0) return "1'b0";
        int top = Math.Min(hi, x.Width - 1);
        return top == 0 ? Bit(x, n, 0) : $"(|{n}[{top}:0])";
    }

    /// <summary>Bits [width - 1 + from : from] of the wire as an expression of exactly <paramref name="width"/> bits (an
    /// arithmetic right shift by <paramref name="from"/>, then a resize).</summary>
    private static string ShiftRight(Cell x, string n, int from, int width)
    {
        if (from == 0) return Resize(x, n, width);
        int w = x.Width, present = w - from; // bits of the shifted value the wire holds
        string sign = $"{n}[{w - 1}]";
        if (present <= 0) return x.Signed ? Replicate(sign, width) : Literal(0, width);
        if (width <= present) return Slice(n, from + width - 1, from);
        return $"{{{Replicate(x.Signed ? sign : "1'b0", width - present)}, {Slice(n, w - 1, from)}}}";
    }

    private static string Slice(string name, int hi, int lo) => hi == lo ? $"{name}[{hi}]" : $"{name}[{hi}:{lo}]";

    private static string Replicate(string bit, int n) => n == 1 ? bit : $"{{{n}{{{bit}}}}}";

    /// <summary>A sized hexadecimal literal of value modulo 2^width.</summary>
    public static string Literal(BigInteger value, int width)
    {
        var m = value & ((BigInteger.One << width) - 1);
        return width.ToString(CultureInfo.InvariantCulture) + "'h" + m.ToString("x", CultureInfo.InvariantCulture).TrimStart('0').PadLeft(1, '0');
    }

    /// <summary>The wire as a signed operand ({1'b0, x} for an unsigned one), so that a product is signed and exact
    /// modulo 2^(the result's width).</summary>
    private static string AsSigned(Cell x, string n) => x.Signed ? n : $"$signed({{1'b0, {n}}})";

    private static string Signed(string bits, bool signed) => signed ? $"$signed({bits})" : bits;

    private static string Decl(BigInteger lo, int width) => (lo < 0 ? "signed " : "") + $"[{width - 1}:0] ";
}
