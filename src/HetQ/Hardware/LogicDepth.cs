using System.Text.Json;

namespace HetQ.Hardware;

/// <summary>The logic depth of one pipeline stage: the most LUT levels and the most carry-chain bits on any path
/// that ends in this stage (the two maxima may come from different paths).</summary>
/// <param name="Stage">1 for paths from the inputs to the first registers, k for paths ending at registers k
/// registers from the input; a last stage with no register (combinational outputs) gets the next number.</param>
/// <param name="LutLevels">The most LUTs on one path of the stage.</param>
/// <param name="CarryBits">The most carry-chain bits on one path of the stage.</param>
/// <param name="Endpoints">Register or output bits whose paths end in this stage.</param>
public sealed record StageDepth(int Stage, int LutLevels, int CarryBits, int Endpoints);

/// <summary>Logic depth of a mapped design: per pipeline stage, the LUT levels and carry-chain bits on its worst
/// register-to-register path (inputs count as registers of stage 0, outputs as registers).</summary>
public sealed record LogicDepthResult(IReadOnlyList<StageDepth> Stages)
{
    /// <summary>The most LUT levels of any stage.</summary>
    public int MaxLutLevels => Stages.Count == 0 ? 0 : Stages.Max(s => s.LutLevels);

    /// <summary>The most carry-chain bits of any stage.</summary>
    public int MaxCarryBits => Stages.Count == 0 ? 0 : Stages.Max(s => s.CarryBits);
}

/// <summary>Counts logic levels in a Yosys JSON netlist (`write_json` after `synth_xilinx`, `synth_ecp5` or
/// `synth_ice40`). A path starts at an input port or a flip-flop output and ends at a flip-flop input or an output
/// port. Along it, every LUT (LUT1-6, LUT4, SB_LUT4) is one level; every carry cell adds its bits to a separate count
/// (CARRY4 4, CARRY8 8, CCU2C 2, SB_CARRY 1): a ripple through k carry cells is k·bits, wherever the path entered the
/// first one. Wide-function multiplexers (MUXF7/8, PFUMX, L6MUX21), inverters and buffers add nothing. The stage of a
/// flip-flop is one more than the largest stage among the flip-flops and inputs that reach it through logic.</summary>
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
        var outputs = new List<int>();
        if (module.TryGetProperty("ports", out var ports))
            foreach (var p in ports.EnumerateObject())
            {
                string dir = p.Value.GetProperty("direction").GetString() ?? "";
                foreach (var b in p.Value.GetProperty("bits").EnumerateArray())
                {
                    if (b.ValueKind != JsonValueKind.Number) continue;
                    if (dir == "input") inputs.Add(b.GetInt32());
                    else if (dir == "output") outputs.Add(b.GetInt32());
                }
            }

        // Kahn's order over cells; a flip-flop waits for its inputs too, so its stage is known when its outputs are used
        var readers = new Dictionary<int, List<int>>();
        var pending = new int[cells.Count];
        for (int i = 0; i < cells.Count; i++)
            foreach (int b in cells[i].Inputs.Distinct())
                if (driver.TryGetValue(b, out int d))
                {
                    pending[i]++;
                    if (!readers.TryGetValue(d, out var list)) readers[d] = list = new List<int>();
                    list.Add(i);
                }
        var arrival = new Arrival[cells.Count];
        var stages = new Dictionary<int, (int Luts, int Carry, int Endpoints)>();
        void End(Arrival a)
        {
            int s = a.Stage + 1;
            var cur = stages.TryGetValue(s, out var v) ? v : (0, 0, 0);
            stages[s] = (Math.Max(cur.Item1, a.Luts), Math.Max(cur.Item2, a.Carry), cur.Item3 + 1);
        }
        Arrival At(int bit) => driver.TryGetValue(bit, out int d) ? arrival[d] : new Arrival(0, 0, 0);
        var ready = new Queue<int>();
        for (int i = 0; i < cells.Count; i++)
            if (pending[i] == 0) ready.Enqueue(i);
        int done = 0;
        while (ready.Count > 0)
        {
            int i = ready.Dequeue();
            done++;
            var cell = cells[i];
            int luts = 0, carry = 0, stage = 0;
            foreach (int b in cell.Inputs)
            {
                var a = At(b);
                luts = Math.Max(luts, a.Luts);
                carry = Math.Max(carry, a.Carry);
                stage = Math.Max(stage, a.Stage);
            }
            if (cell.Kind == CellKind.Register)
            {
                if (cell.Inputs.Count > 0) End(new Arrival(luts, carry, stage));
                arrival[i] = new Arrival(0, 0, stage + 1);
            }
            else
                arrival[i] = new Arrival(luts + (cell.Kind == CellKind.Lut ? 1 : 0), carry + cell.CarryBits, stage);
            if (readers.TryGetValue(i, out var rs))
                foreach (int r in rs)
                    if (--pending[r] == 0) ready.Enqueue(r);
        }
        if (done < cells.Count)
            throw new HetQException($"{what}: module {top} has a combinational loop or a register feedback loop; logic depth needs a feed-forward pipeline");

        // output ports end the last stage only where logic follows the last register (or where there is no register)
        bool anyRegister = cells.Any(c => c.Kind == CellKind.Register);
        foreach (int b in outputs)
        {
            var a = At(b);
            if (a.Luts > 0 || a.Carry > 0 || !anyRegister) End(a);
        }
        return new LogicDepthResult(stages.OrderBy(s => s.Key)
            .Select(s => new StageDepth(s.Key, s.Value.Luts, s.Value.Carry, s.Value.Endpoints)).ToList());
    }

    private enum CellKind { Lut, Carry, Register, Other }

    private sealed record Cell(CellKind Kind, int CarryBits, List<int> Inputs, List<int> Outputs)
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
                if (kind == CellKind.Register && dir == "input" && ClockPorts.Contains(conn.Name)) continue;
                var list = dir == "output" ? outputs : dir == "input" ? inputs : null;
                if (list is null) continue;
                foreach (var b in conn.Value.EnumerateArray())
                    if (b.ValueKind == JsonValueKind.Number) list.Add(b.GetInt32());
            }
            return new Cell(kind, bits, inputs, outputs);
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
            _ => (CellKind.Other, 0),
        };
    }
}
