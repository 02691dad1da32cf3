using System.Text.Json;

namespace HetQ.Hardware;

/// <summary>The logic depth of one pipeline stage: the most LUT levels and the most carry-chain bits on any path
/// that ends in this stage (the two maxima may come from different paths).</summary>
/// <param name="Stage">1 for paths from the inputs to the first registers, k for paths ending at registers k
/// registers from the input; a last stage with no register (combinational outputs) gets the next number. In a
/// sequential design (<see cref="LogicDepthResult.Sequential"/>) the stages are numbered in the order of their names.</param>
/// <param name="LutLevels">The most LUTs on one path of the stage.</param>
/// <param name="CarryBits">The most carry-chain bits on one path of the stage.</param>
/// <param name="Endpoints">Register or output bits whose paths end in this stage.</param>
/// <param name="Name">In a sequential design, the register (the Verilog name of its output net) or the output port
/// ("y (output)") the stage's paths end at; null in a feed-forward pipeline, whose stages are numbered.</param>
public sealed record StageDepth(int Stage, int LutLevels, int CarryBits, int Endpoints, string? Name = null)
{
    /// <summary>The stage as text: its name, or "stage N".</summary>
    public string Label => Name ?? $"stage {Stage}";
}

/// <summary>Logic depth of a mapped design: per pipeline stage, the LUT levels and carry-chain bits on its worst
/// register-to-register path (inputs count as registers of stage 0, outputs as registers).</summary>
/// <param name="Stages">Feed-forward pipelines: one stage per register distance from the input. Sequential designs
/// (a register feeds itself back through logic: counters, accumulators, FIFO pointers, enabled registers): one stage
/// per register or output port, its paths cut at every flip-flop.</param>
/// <param name="Sequential">Whether the design has a register feedback loop, so that its stages are named, not numbered.</param>
public sealed record LogicDepthResult(IReadOnlyList<StageDepth> Stages, bool Sequential = false)
{
    /// <summary>The most LUT levels of any stage.</summary>
    public int MaxLutLevels => Stages.Count == 0 ? 0 : Stages.Max(s => s.LutLevels);

    /// <summary>The most carry-chain bits of any stage.</summary>
    public int MaxCarryBits => Stages.Count == 0 ? 0 : Stages.Max(s => s.CarryBits);

    /// <summary>The stage with the most LUT levels, of those the one with the most carry bits (the first of equals);
    /// null for a design without logic.</summary>
    public StageDepth? Worst => Stages.Count == 0 ? null : Stages.MaxBy(s => (s.LutLevels, s.CarryBits));

    /// <summary>The <paramref name="n"/> deepest stages (LUT levels, then carry bits), the deepest first.</summary>
    public IEnumerable<StageDepth> Deepest(int n) => Stages.OrderByDescending(s => s.LutLevels).ThenByDescending(s => s.CarryBits).Take(n);
}

/// <summary>Counts logic levels in a Yosys JSON netlist (`write_json` after `synth_xilinx`, `synth_ecp5` or
/// `synth_ice40`). A path starts at an input port or a sequential cell's output (flip-flops, LUT shift registers,
/// distributed and block RAM) and ends at a sequential cell's input or an output port: every path is cut at the
/// flip-flops. Along it, every LUT (LUT1-6, LUT4, SB_LUT4) is one level; every carry cell adds its bits to a separate
/// count (CARRY4 4, CARRY8 8, CCU2C 2, SB_CARRY 1): a ripple through k carry cells is k·bits, wherever the path entered
/// the first one. Wide-function multiplexers (MUXF7/8, PFUMX, L6MUX21), inverters and buffers add nothing. In a
/// feed-forward pipeline the stage of a flip-flop is one more than the largest stage among the flip-flops and inputs
/// that reach it through logic; in a sequential design (a register feedback loop) that is not defined, and each
/// register (all the bits of one Verilog name) and each output port is its own stage. A combinational loop is refused.</summary>
public static class LogicDepth
{
    private readonly record struct Arrival(int Luts, int Carry, int Stage);

    /// <summary>Reads <paramref name="jsonFile"/> and counts the depth of module <paramref name="top"/>.</summary>
    public static LogicDepthResult FromFile(string jsonFile, string top)
    {
        if (!File.Exists(jsonFile)) throw new HetQException($"{jsonFile}: Yosys JSON netlist not found");
        using var stream = File.OpenRead(jsonFile);
        using var doc = JsonDocument.Parse(stream, new JsonDocumentOptions { MaxDepth = 256 });
        return Count(doc.RootElement, top, jsonFile);
    }

    /// <summary>Counts the depth of module <paramref name="top"/> in a parsed Yosys JSON netlist.</summary>
    public static LogicDepthResult Count(JsonElement netlist, string top, string what = "netlist")
    {
        if (!netlist.TryGetProperty("modules", out var modules) || !modules.TryGetProperty(top, out var module))
            throw new HetQException($"{what}: no module {top}");
        var cells = new List<Cell>();
        if (module.TryGetProperty("cells", out var cellsJson))
            foreach (var c in cellsJson.EnumerateObject()) cells.Add(Cell.Parse(c.Name, c.Value, what));

        // which cell drives each net bit; input port bits are sources of stage 0
        var driver = new Dictionary<int, int>();
        for (int i = 0; i < cells.Count; i++)
            foreach (int b in cells[i].Outputs) driver[b] = i;
        var inputs = new HashSet<int>();
        var outputs = new List<(string Port, int Bit)>();
        if (module.TryGetProperty("ports", out var ports))
            foreach (var p in ports.EnumerateObject())
            {
                string dir = p.Value.GetProperty("direction").GetString() ?? "";
                foreach (var b in p.Value.GetProperty("bits").EnumerateArray())
                {
                    if (b.ValueKind != JsonValueKind.Number) continue;
                    if (dir == "input") inputs.Add(b.GetInt32());
                    else if (dir == "output") outputs.Add((p.Name, b.GetInt32()));
                }
            }
        bool anyRegister = cells.Any(c => c.Kind == CellKind.Register);

        // Kahn's order over cells; a flip-flop waits for its inputs too, so its stage is known when its outputs are used.
        // With registers cut (registered = false) only logic waits for logic: the order exists unless logic loops.
        (Arrival[] Arrival, int Done) Order(bool registered)
        {
            var readers = new Dictionary<int, List<int>>();
            var pending = new int[cells.Count];
            for (int i = 0; i < cells.Count; i++)
                foreach (int b in cells[i].Inputs.Distinct())
                    if (driver.TryGetValue(b, out int d) && (registered || cells[d].Kind != CellKind.Register))
                    {
                        pending[i]++;
                        if (!readers.TryGetValue(d, out var list)) readers[d] = list = new List<int>();
                        list.Add(i);
                    }
            var arrival = new Arrival[cells.Count];
            var ready = new Queue<int>();
            for (int i = 0; i < cells.Count; i++)
                if (pending[i] == 0) ready.Enqueue(i);
            int done = 0;
            while (ready.Count > 0)
            {
                int i = ready.Dequeue();
                done++;
                var cell = cells[i];
                if (cell.Kind == CellKind.Register) arrival[i] = new Arrival(0, 0, registered ? In(cell, arrival).Stage + 1 : 0);
                else
                {
                    var a = In(cell, arrival);
                    arrival[i] = new Arrival(a.Luts + (cell.Kind == CellKind.Lut ? 1 : 0), a.Carry + cell.CarryBits, a.Stage);
                }
                if (readers.TryGetValue(i, out var rs))
                    foreach (int r in rs)
                        if (--pending[r] == 0) ready.Enqueue(r);
            }
            return (arrival, done);
        }
        // the latest arrival at a cell's inputs (LUT levels, carry bits and stage each the largest)
        Arrival In(Cell cell, Arrival[] arrival)
        {
            int luts = 0, carry = 0, stage = 0;
            foreach (int b in cell.Inputs)
            {
                var a = At(b, arrival);
                luts = Math.Max(luts, a.Luts);
                carry = Math.Max(carry, a.Carry);
                stage = Math.Max(stage, a.Stage);
            }
            return new Arrival(luts, carry, stage);
        }
        Arrival At(int bit, Arrival[] arrival) => driver.TryGetValue(bit, out int d) ? arrival[d] : new Arrival(0, 0, 0);

        var (pipeline, done) = Order(registered: true);
        if (done == cells.Count)
        {
            var stages = new Dictionary<int, (int Luts, int Carry, int Endpoints)>();
            void End(Arrival a)
            {
                int s = a.Stage + 1;
                var cur = stages.TryGetValue(s, out var v) ? v : (0, 0, 0);
                stages[s] = (Math.Max(cur.Item1, a.Luts), Math.Max(cur.Item2, a.Carry), cur.Item3 + 1);
            }
            foreach (var cell in cells)
                if (cell.Kind == CellKind.Register && cell.Inputs.Count > 0) End(In(cell, pipeline));
            // output ports end the last stage only where logic follows the last register (or where there is no register)
            foreach (var (_, b) in outputs)
            {
                var a = At(b, pipeline);
                if (a.Luts > 0 || a.Carry > 0 || !anyRegister) End(a);
            }
            return new LogicDepthResult(stages.OrderBy(s => s.Key)
                .Select(s => new StageDepth(s.Key, s.Value.Luts, s.Value.Carry, s.Value.Endpoints)).ToList());
        }

        // a register feedback loop: cut every path at the registers, and name each stage by the register it ends at
        var (cut, logic) = Order(registered: false);
        if (logic < cells.Count)
            throw new HetQException($"{what}: module {top} has a combinational loop (logic that feeds itself without a register); its logic depth is not defined");
        var names = NetNames(module);
        var named = new Dictionary<string, (int Luts, int Carry, int Endpoints)>(StringComparer.Ordinal);
        void EndAt(string name, Arrival a)
        {
            var cur = named.TryGetValue(name, out var v) ? v : (0, 0, 0);
            named[name] = (Math.Max(cur.Item1, a.Luts), Math.Max(cur.Item2, a.Carry), cur.Item3 + 1);
        }
        foreach (var cell in cells)
            if (cell.Kind == CellKind.Register && cell.Inputs.Count > 0)
                EndAt(cell.Outputs.Select(b => names.GetValueOrDefault(b)).FirstOrDefault(n => n is not null) ?? $"(unnamed {cell.Type})", In(cell, cut));
        foreach (var (port, b) in outputs)
        {
            var a = At(b, cut);
            if (a.Luts > 0 || a.Carry > 0) EndAt($"{port} (output)", a);
        }
        return new LogicDepthResult(named.OrderBy(s => s.Key, StringComparer.Ordinal)
            .Select((s, k) => new StageDepth(k + 1, s.Value.Luts, s.Value.Carry, s.Value.Endpoints, s.Key)).ToList(), Sequential: true);
    }

    /// <summary>The Verilog name of each net bit (Yosys's visible netnames; of several, the shortest, then the first in
    /// ordinal order), without the bit index.</summary>
    private static Dictionary<int, string> NetNames(JsonElement module)
    {
        var names = new Dictionary<int, string>();
        if (!module.TryGetProperty("netnames", out var nets)) return names;
        foreach (var n in nets.EnumerateObject())
        {
            if (n.Value.TryGetProperty("hide_name", out var h) && h.ValueKind == JsonValueKind.Number && h.GetInt32() != 0) continue;
            if (!n.Value.TryGetProperty("bits", out var bits)) continue;
            foreach (var b in bits.EnumerateArray())
            {
                if (b.ValueKind != JsonValueKind.Number) continue;
                int bit = b.GetInt32();
                if (!names.TryGetValue(bit, out var old) || n.Name.Length < old.Length || (n.Name.Length == old.Length && string.CompareOrdinal(n.Name, old) < 0))
                    names[bit] = n.Name;
            }
        }
        return names;
    }

    private enum CellKind { Lut, Carry, Register, Other }

    private sealed record Cell(string Type, CellKind Kind, int CarryBits, List<int> Inputs, List<int> Outputs)
    {
        private static readonly HashSet<string> ClockPorts = new(StringComparer.Ordinal) { "C", "CLK", "CK" };

        public static Cell Parse(string name, JsonElement c, string what)
        {
            string type = c.GetProperty("type").GetString() ?? "";
            var (kind, bits) = Classify(type);
            if (!c.TryGetProperty("port_directions", out var dirs))
                throw new HetQException($"{what}: cell {name} ({type}) has no port directions; write the netlist with Yosys's write_json after synth");
            var inputs = new List<int>();
            var outputs = new List<int>();
            foreach (var conn in c.GetProperty("connections").EnumerateObject())
            {
                string dir = dirs.TryGetProperty(conn.Name, out var d) ? d.GetString() ?? "" : "";
                if (kind == CellKind.Register && dir == "input" && (ClockPorts.Contains(conn.Name) || conn.Name.Contains("CLK", StringComparison.Ordinal))) continue;
                var list = dir == "output" ? outputs : dir == "input" ? inputs : null;
                if (list is null) continue;
                foreach (var b in conn.Value.EnumerateArray())
                    if (b.ValueKind == JsonValueKind.Number) list.Add(b.GetInt32());
            }
            return new Cell(type, kind, bits, inputs, outputs);
        }

        private static (CellKind, int) Classify(string type) => type switch
        {
            "LUT1" or "LUT2" or "LUT3" or "LUT4" or "LUT5" or "LUT6" or "SB_LUT4" => (CellKind.Lut, 0),
            "CARRY4" => (CellKind.Carry, 4),
            "CARRY8" => (CellKind.Carry, 8),
            "CCU2C" => (CellKind.Carry, 2),
            "SB_CARRY" => (CellKind.Carry, 1),
            "TRELLIS_FF" => (CellKind.Register, 0),
            _ when type.StartsWith("SB_DFF", StringComparison.Ordinal) => (CellKind.Register, 0),
            "FDRE" or "FDSE" or "FDCE" or "FDPE" => (CellKind.Register, 0),
            // LUTs as shift registers and distributed RAM, block RAM: their outputs come from storage written on a clock
            _ when type.StartsWith("SRL", StringComparison.Ordinal) || type.StartsWith("RAM", StringComparison.Ordinal) => (CellKind.Register, 0),
            "TRELLIS_DPR16X4" or "DP16KD" or "PDPW16KD" => (CellKind.Register, 0),
            _ when type.StartsWith("SB_RAM", StringComparison.Ordinal) => (CellKind.Register, 0),
            _ => (CellKind.Other, 0),
        };
    }
}
