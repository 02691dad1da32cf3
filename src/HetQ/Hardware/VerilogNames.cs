using System.Text;

namespace HetQ.Hardware;

/// <summary>What may become Verilog text: module and port names are identifiers that are not Verilog or SystemVerilog
/// keywords (Verilator parses both) and do not collide with the names HetQ generates (the testbench, the place-and-route
/// wrapper); comment text has no line breaks. Names are checked where a graph or manifest is loaded or a top name is
/// given, so the writer, testbench and Yosys or nextpnr scripts can use them as they are.</summary>
public static class VerilogNames
{
    /// <summary>Verilog-2005 and SystemVerilog-2017 reserved words.</summary>
    public static readonly IReadOnlySet<string> Keywords = new HashSet<string>(StringComparer.Ordinal)
    {
        "accept_on", "alias", "always", "always_comb", "always_ff", "always_latch", "and", "assert", "assign", "assume", "automatic",
        "before", "begin", "bind", "bins", "binsof", "bit", "break", "buf", "bufif0", "bufif1", "byte", "case", "casex", "casez",
        "cell", "chandle", "checker", "class", "clocking", "cmos", "config", "const", "constraint", "context", "continue", "cover",
        "covergroup", "coverpoint", "cross", "deassign", "default", "defparam", "design", "disable", "dist", "do", "edge", "else",
        "end", "endcase", "endchecker", "endclass", "endclocking", "endconfig", "endfunction", "endgenerate", "endgroup",
        "endinterface", "endmodule", "endpackage", "endprimitive", "endprogram", "endproperty", "endspecify", "endsequence",
        "endtable", "endtask", "enum", "event", "eventually", "expect", "export", "extends", "extern", "final", "first_match",
        "for", "force", "foreach", "forever", "fork", "forkjoin", "function", "generate", "genvar", "global", "highz0", "highz1",
        "if", "iff", "ifnone", "ignore_bins", "illegal_bins", "implements", "implies", "import", "incdir", "include", "initial",
        "inout", "input", "inside", "instance", "int", "integer", "interconnect", "interface", "intersect", "join", "join_any",
        "join_none", "large", "let", "liblist", "library", "local", "localparam", "logic", "longint", "macromodule", "matches",
        "medium", "modport", "module", "nand", "negedge", "nettype", "new", "nexttime", "nmos", "nor", "noshowcancelled", "not",
        "notif0", "notif1", "null", "or", "output", "package", "packed", "parameter", "pmos", "posedge", "primitive", "priority",
        "program", "property", "protected", "pull0", "pull1", "pulldown", "pullup", "pulsestyle_ondetect", "pulsestyle_onevent",
        "pure", "rand", "randc", "randcase", "randsequence", "rcmos", "real", "realtime", "ref", "reg", "reject_on", "release",
        "repeat", "restrict", "return", "rnmos", "rpmos", "rtran", "rtranif0", "rtranif1", "s_always", "s_eventually", "s_nexttime",
        "s_until", "s_until_with", "scalared", "sequence", "shortint", "shortreal", "showcancelled", "signed", "small", "soft",
        "solve", "specify", "specparam", "static", "string", "strong", "strong0", "strong1", "struct", "super", "supply0",
        "supply1", "sync_accept_on", "sync_reject_on", "table", "tagged", "task", "this", "throughout", "time", "timeprecision",
        "timeunit", "tran", "tranif0", "tranif1", "tri", "tri0", "tri1", "triand", "trior", "trireg", "type", "typedef", "union",
        "unique", "unique0", "unsigned", "until", "until_with", "untyped", "use", "uwire", "var", "vectored", "virtual", "void",
        "wait", "wait_order", "wand", "weak", "weak0", "weak1", "while", "wildcard", "wire", "with", "within", "wor", "xnor", "xor",
    };

    /// <summary>Module names HetQ generates besides the design's top.</summary>
    public static readonly IReadOnlySet<string> Reserved = new HashSet<string>(StringComparer.Ordinal)
    {
        Testbench.Module, PlaceRoute.WrapperTop, "dut",
    };

    /// <summary>An identifier ([A-Za-z_][A-Za-z0-9_]*, at most 64 characters) that is not a keyword.</summary>
    public static bool IsIdentifier(string? name) => Nn.Names.IsIdentifier(name) && !Keywords.Contains(name!);

    /// <summary>Checks a module name (a top given by --top, or read from a manifest): an identifier, not a keyword, and not
    /// a module name HetQ generates.</summary>
    public static string CheckModule(string? name, string what)
    {
        if (!IsIdentifier(name))
            throw new HetQException($"{what} '{Files.SafeOutput.Printable(name ?? "")}' is not a Verilog identifier (an ASCII letter or '_', then letters, digits or '_', at most 64 characters, not a keyword)");
        if (Reserved.Contains(name!)) throw new HetQException($"{what} '{name}' is a module name HetQ generates ({string.Join(", ", Reserved.Order())}); choose another");
        return name!;
    }

    /// <summary>Checks a port or clock name.</summary>
    public static string CheckPort(string? name, string what) =>
        IsIdentifier(name) ? name! : throw new HetQException($"{what} '{Files.SafeOutput.Printable(name ?? "")}' is not a Verilog identifier");

    /// <summary>The top module name for a graph: <paramref name="top"/> when given, else hetq_ and the graph's name made
    /// an identifier; checked either way.</summary>
    public static string Top(string graphName, string? top)
    {
        if (top is not null) return CheckModule(top, "--top");
        var sb = new StringBuilder("hetq_");
        foreach (char c in graphName) sb.Append(char.IsAsciiLetterOrDigit(c) || c == '_' ? c : '_');
        string name = sb.Length > Nn.Names.MaxIdentifier ? sb.ToString(0, Nn.Names.MaxIdentifier) : sb.ToString();
        if (Reserved.Contains(name)) name += "_top";
        return CheckModule(name, "top module name");
    }

    /// <summary>Text safe inside a // comment: line breaks and other control characters become spaces.</summary>
    public static string Comment(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (char c in text) sb.Append(char.IsControl(c) || c is '\u2028' or '\u2029' ? ' ' : c);
        return sb.ToString();
    }

    /// <summary>A design file name from a manifest: an identifier-like name ending in .v, inside the design directory.</summary>
    public static bool IsSourceFile(string? name) =>
        name is not null && name.EndsWith(".v", StringComparison.Ordinal) && Nn.Names.IsIdentifier(name[..^2]);
}
