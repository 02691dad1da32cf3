using System.Text.RegularExpressions;

namespace HetQ.Hardware;

/// <summary>What the writer built, primitive by primitive: every logic wire it wrote (its kind, its width and the
/// width of its widest operand), every register and what each reads. Filled by <see cref="Netlist"/> as it writes
/// (shared logic and constants are not counted, since nothing is built for them). Only what reaches an output
/// counts, as synthesis removes the rest (a pooling window that leaves conv outputs unread, a maximum nobody reads).
/// <see cref="ResourceModel"/> maps it to LUT, FF and carry cells.</summary>
internal sealed partial class LogicTally
{
    private sealed record Entry(char Kind, int Width, int OperandWidth, string[] Reads, bool IsLogic, bool IsRegister, int Both = 0, int One = 0);

    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly List<string> _outputs = new();
    private List<Entry>? _live;

    /// <summary>The primitive each wire kind letter of the writer stands for (see <see cref="Netlist.Fresh"/>'s callers in
    /// <see cref="Arithmetic"/> and the writer): s adder-tree node, a the root's constant adder, r rounding adder,
    /// q ReLU multiplexer, o saturation (comparisons and a multiplexer), g comparator, m and i multiplexers.
    /// A letter not listed counts as an adder (what new arithmetic mostly is): add it here when it is something else.</summary>
    public static Primitive Classify(char kind) => kind switch
    {
        's' or 'a' => Primitive.Adder,
        'r' => Primitive.Rounding,
        'q' or 'm' or 'i' => Primitive.Mux,
        'o' => Primitive.Saturation,
        'g' => Primitive.Comparator,
        _ => Primitive.Adder,
    };

    /// <summary>Register bits that reach an output (flip-flops synthesis keeps).</summary>
    public long RegisterBits => Live().Where(e => e.IsRegister).Sum(e => (long)e.Width);

    /// <summary>Every counted logic wire of the primitive that reaches an output: its width and its widest operand's width.</summary>
    public IEnumerable<(int Width, int OperandWidth)> Of(Primitive p) =>
        Live().Where(e => e.IsLogic && Classify(e.Kind) == p).Select(e => (e.Width, e.OperandWidth));

    /// <summary>The adders (and rounding adders) that reach an output: width, bits where both operands vary, and bits
    /// where one operand varies and the other is a constant (shifted-in zeros, zero extension, a literal).</summary>
    public IEnumerable<(int Width, int Both, int One)> Sums(Primitive p) =>
        Live().Where(e => e.IsLogic && Classify(e.Kind) == p).Select(e => (e.Width, e.Both, e.One));

    /// <summary>A logic wire: name = expr, <paramref name="width"/> bits; <paramref name="widths"/> holds the wires so far.</summary>
    public void Logic(string name, int width, string expr, IReadOnlyDictionary<string, int> widths)
    {
        var reads = Reads(expr, widths);
        int operand = reads.Length == 0 ? 0 : reads.Max(r => widths[r]);
        char kind = KindOf(name);
        int both = 0, one = 0;
        if (Classify(kind) is Primitive.Adder or Primitive.Rounding) (both, one) = AdderBits(expr, width, widths);
        Add(name, new Entry(kind, width, operand, reads, true, false, both, one));
    }

    /// <summary>For "A + B" or "A - B" with operands written by <see cref="Netlist.Ext"/> (concatenations of wires, slices,
    /// replicated bits and literals), the bits where both operands vary and where exactly one does. An expression of
    /// another shape counts every bit as both varying.</summary>
    internal static (int Both, int One) AdderBits(string expr, int width, IReadOnlyDictionary<string, int> widths)
    {
        int op = TopLevel(expr, " + ");
        if (op < 0) op = TopLevel(expr, " - ");
        if (op < 0) return (width, 0);
        var a = Varying(expr[..op], widths);
        var b = Varying(expr[(op + 3)..], widths);
        if (a is null || b is null) return (width, 0);
        int Len((int Lo, int Hi) r) => Math.Max(0, Math.Min(r.Hi, width) - r.Lo);
        int both = Len((Math.Max(a.Value.Lo, b.Value.Lo), Math.Min(a.Value.Hi, b.Value.Hi)));
        return (both, Len(a.Value) + Len(b.Value) - 2 * both);
    }

    /// <summary>The bit range [Lo, Hi) of an operand that is not constant (from its low and high constant parts), or
    /// null when the operand's shape is not understood.</summary>
    private static (int Lo, int Hi)? Varying(string e, IReadOnlyDictionary<string, int> widths)
    {
        var parts = Parts(e.Trim(), widths);
        if (parts is null) return null;
        int total = parts.Sum(p => p.Width);
        int low = 0, high = 0;
        for (int i = parts.Count - 1; i >= 0 && parts[i].Constant; i--) low += parts[i].Width;
        for (int i = 0; i < parts.Count && parts[i].Constant; i++) high += parts[i].Width;
        return low >= total ? (0, 0) : (low, total - high);
    }

    /// <summary>An operand as parts from the most significant: (width, constant).</summary>
    private static List<(int Width, bool Constant)>? Parts(string e, IReadOnlyDictionary<string, int> widths)
    {
        var lit = LiteralPattern().Match(e);
        if (lit.Success) return [(int.Parse(lit.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), true)];
        if (e.StartsWith('(') && e.EndsWith(')')) return [(1, false)];
        if (widths.TryGetValue(e, out int w)) return [(w, false)];
        var slice = SlicePattern().Match(e);
        if (slice.Success)
        {
            int hi = int.Parse(slice.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
            int lo = slice.Groups[3].Success ? int.Parse(slice.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture) : hi;
            return [(hi - lo + 1, false)];
        }
        var rep = ReplicationPattern().Match(e);
        if (rep.Success)
        {
            int n = int.Parse(rep.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            var inner = Parts(rep.Groups[2].Value, widths);
            return inner is null ? null : [(n * inner.Sum(p => p.Width), inner.All(p => p.Constant))];
        }
        if (!(e.StartsWith('{') && e.EndsWith('}'))) return null;
        var result = new List<(int, bool)>();
        foreach (var part in SplitTopLevel(e[1..^1]))
        {
            var p = Parts(part.Trim(), widths);
            if (p is null) return null;
            result.AddRange(p);
        }
        return result;
    }

    private static int TopLevel(string e, string token)
    {
        int depth = 0;
        for (int i = 0; i + token.Length <= e.Length; i++)
        {
            char c = e[i];
            if (c is '{' or '(') depth++;
            else if (c is '}' or ')') depth--;
            else if (depth == 0 && string.CompareOrdinal(e, i, token, 0, token.Length) == 0) return i;
        }
        return -1;
    }

    private static IEnumerable<string> SplitTopLevel(string e)
    {
        int depth = 0, start = 0;
        for (int i = 0; i < e.Length; i++)
        {
            char c = e[i];
            if (c is '{' or '(') depth++;
            else if (c is '}' or ')') depth--;
            else if (c == ',' && depth == 0)
            {
                yield return e[start..i];
                start = i + 1;
            }
        }
        yield return e[start..];
    }

    /// <summary>Wiring only (a slice, an extension): no logic, but it passes liveness on.</summary>
    public void Alias(string name, string expr, IReadOnlyDictionary<string, int> widths) =>
        Add(name, new Entry('?', 0, 0, Reads(expr, widths), false, false));

    public void Register(string name, int width, string source) => Add(name, new Entry('?', width, width, [source], false, true));

    /// <summary>A wire or register the module's output port reads.</summary>
    public void Output(string name)
    {
        _outputs.Add(name);
        _live = null;
    }

    private void Add(string name, Entry e)
    {
        _entries[name] = e;
        _live = null;
    }

    /// <summary>The entries an output reads, directly or through others (all of them when no output was declared).</summary>
    private List<Entry> Live()
    {
        if (_live is not null) return _live;
        if (_outputs.Count == 0) return _live = _entries.Values.ToList();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var stack = new Stack<string>(_outputs);
        _live = new List<Entry>();
        while (stack.Count > 0)
        {
            string n = stack.Pop();
            if (!seen.Add(n) || !_entries.TryGetValue(n, out var e)) continue;
            _live.Add(e);
            foreach (var r in e.Reads) stack.Push(r);
        }
        return _live;
    }

    /// <summary>The wires an expression reads: its identifiers that name a wire (not the letters of a literal such as
    /// 4'hf, which follow a quote, nor system functions such as $signed).</summary>
    private static string[] Reads(string expr, IReadOnlyDictionary<string, int> widths)
    {
        var reads = new List<string>(2);
        var lookup = widths as Dictionary<string, int>;
        for (int i = 0; i < expr.Length;)
        {
            char c = expr[i];
            if (!(char.IsAsciiLetter(c) || c == '_'))
            {
                i++;
                continue;
            }
            int start = i;
            while (i < expr.Length && (char.IsAsciiLetterOrDigit(expr[i]) || expr[i] == '_')) i++;
            if (start > 0 && expr[start - 1] is '\'' or '$') continue;
            var span = expr.AsSpan(start, i - start);
            string? name = null;
            if (lookup is not null)
            {
                if (lookup.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(span, out string? key, out _)) name = key;
            }
            else if (widths.ContainsKey(span.ToString())) name = span.ToString();
            if (name is not null && !reads.Contains(name)) reads.Add(name);
        }
        return reads.ToArray();
    }

    /// <summary>The kind letter of a name from <see cref="Netlist.Fresh"/> (prefix _ letter counter): the character
    /// before the trailing digits; '?' for other names.</summary>
    internal static char KindOf(string name)
    {
        int i = name.Length;
        while (i > 0 && char.IsAsciiDigit(name[i - 1])) i--;
        return i > 1 && i < name.Length && name[i - 2] == '_' ? name[i - 1] : '?';
    }

    [GeneratedRegex(@"^(\d+)'[hb][0-9a-fA-F]+$")]
    private static partial Regex LiteralPattern();

    [GeneratedRegex(@"^([A-Za-z_][A-Za-z0-9_]*)\[(\d+)(?::(\d+))?\]$")]
    private static partial Regex SlicePattern();

    [GeneratedRegex(@"^\{(\d+)\{(.*)\}\}$")]
    private static partial Regex ReplicationPattern();
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
    /// <summary>Comparisons with the bounds and a multiplexer (SAT, SAT_SYM, SAT_ZERO).</summary>
    Saturation,
    /// <summary>A two-operand comparison (maximum, argmax).</summary>
    Comparator,
}
