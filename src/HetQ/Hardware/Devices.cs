using System.Globalization;
using HetQ.Graph;

namespace HetQ.Hardware;

/// <summary>One FPGA part and its budgets: LUTs (of <see cref="LutInputs"/> inputs), flip-flops, DSP blocks, block RAMs
/// and user I/O pins, each figure from the vendor data sheet named in <see cref="Source"/>.</summary>
/// <param name="Name">The name on the command line (lower case; <see cref="Aliases"/> are accepted too).</param>
/// <param name="Part">The part as its vendor writes it.</param>
/// <param name="Family">The Yosys flow whose cells are counted against the budgets.</param>
/// <param name="LutInputs">Inputs of one LUT: 6 (Xilinx LUT6) or 4 (Lattice LUT4).</param>
/// <param name="Luts">LUTs (Xilinx CLB LUTs; ECP5 LUT4s, of which a CCU2C carry cell takes two; iCE40 logic cells).</param>
/// <param name="Ffs">Flip-flops of the logic fabric.</param>
/// <param name="Dsps">DSP blocks, counted as <see cref="DspCell"/>.</param>
/// <param name="DspCell">What one DSP is (DSP48E2 slice, 18x18 multiplier).</param>
/// <param name="Brams">Block RAMs, counted as <see cref="BramCell"/>.</param>
/// <param name="BramCell">What one block RAM is (RAMB36, DP16KD, RAM4K).</param>
/// <param name="UserIo">User I/O pins of <see cref="Package"/>.</param>
/// <param name="Package">The package the pin count is for.</param>
/// <param name="Source">Where the figures come from.</param>
/// <param name="Aliases">Other names accepted for the part.</param>
public sealed record FpgaDevice(
    string Name, string Part, SynthesisTarget Family, int LutInputs, long Luts, long Ffs, long Dsps, string DspCell,
    long Brams, string BramCell, int UserIo, string Package, string Source, IReadOnlyList<string> Aliases)
{
    public static readonly FpgaDevice Xcvu9p = new("xcvu9p", "XCVU9P", SynthesisTarget.Xilinx, 6,
        Luts: 1_182_240, Ffs: 2_364_480, Dsps: 6_840, "DSP48E2 slices", Brams: 2_160, "RAMB36 (36 Kb)",
        UserIo: 832, "FLGA2104 (the most HP I/O of its packages)",
        "AMD DS890 (UltraScale Architecture and Product Data Sheet: Overview), Virtex UltraScale+ FPGA feature summary: "
        + "1,182,240 CLB LUTs, 2,364,480 CLB flip-flops, 6,840 DSP slices, 2,160 block RAM blocks (75.9 Mb); "
        + "I/O: DS890's device-package table, 832 HP I/O at most", ["vu9p"]);

    public static readonly FpgaDevice Xcvu13p = new("xcvu13p", "XCVU13P", SynthesisTarget.Xilinx, 6,
        Luts: 1_728_000, Ffs: 3_456_000, Dsps: 12_288, "DSP48E2 slices", Brams: 2_688, "RAMB36 (36 Kb)",
        UserIo: 832, "FHGA2104 (the most HP I/O of its packages)",
        "AMD DS890 (UltraScale Architecture and Product Data Sheet: Overview), Virtex UltraScale+ FPGA feature summary: "
        + "1,728,000 CLB LUTs, 3,456,000 CLB flip-flops, 12,288 DSP slices, 2,688 block RAM blocks (94.5 Mb); "
        + "I/O: DS890's device-package table, 832 HP I/O at most", ["vu13p"]);

    public static readonly FpgaDevice Lfe5u85f = new("lfe5u-85f", "LFE5U-85F", SynthesisTarget.Ecp5, 4,
        Luts: 83_640, Ffs: 83_640, Dsps: 156, "MULT18X18D (18x18 multipliers)", Brams: 208, "DP16KD (18 Kb sysMEM EBR)",
        UserIo: 205, "CABGA381 (the package of HetQ's nextpnr flow)",
        "Lattice FPGA-DS-02012 (ECP5 and ECP5-5G Family Data Sheet), Table 1.1 family selection guide: 84k LUTs, "
        + "208 sysMEM blocks (18 Kb), 156 18x18 multipliers, 205 user I/O in caBGA381 (365 in caBGA756); two LUT4s and two "
        + "flip-flops per slice; exact counts as nextpnr-ecp5 --85k reports them: TRELLIS_COMB 83,640, TRELLIS_FF 83,640, "
        + "DP16KD 208, MULT18X18D 156", ["ecp5-85k", "lfe5u-85", "lfe5u85f"]);

    public static readonly FpgaDevice Ice40Hx8k = new("ice40hx8k", "iCE40-HX8K", SynthesisTarget.Ice40, 4,
        Luts: 7_680, Ffs: 7_680, Dsps: 0, "none (the HX series has no DSP)", Brams: 32, "RAM4K (4 Kb EBR)",
        UserIo: 206, "CT256 (the package of HetQ's nextpnr flow)",
        "Lattice FPGA-DS-00010 (iCE40 LP/HX Family Data Sheet), Table 1.1: 7,680 logic cells (one LUT4 and one flip-flop "
        + "each), 32 RAM4K blocks (128 Kb), no DSP, 206 programmable I/O in CT256; nextpnr-ice40 --hx8k reports 7,680 ICESTORM_LC "
        + "and 32 ICESTORM_RAM", ["hx8k", "ice40-hx8k", "ice40hx8k-ct256"]);

    /// <summary>Every part HetQ knows.</summary>
    public static IReadOnlyList<FpgaDevice> All { get; } = [Xcvu9p, Xcvu13p, Lfe5u85f, Ice40Hx8k];

    /// <summary>The part named <paramref name="name"/> (its name or an alias, any case), or null.</summary>
    public static FpgaDevice? Named(string name) =>
        All.FirstOrDefault(d => string.Equals(d.Name, name, StringComparison.OrdinalIgnoreCase)
                                || d.Aliases.Any(a => string.Equals(a, name, StringComparison.OrdinalIgnoreCase)));

    /// <summary>The part named <paramref name="name"/>, or one clear error listing the known parts.</summary>
    public static FpgaDevice Parse(string name, string option = "--device") =>
        Named(name) ?? throw new HetQException($"{option}: unknown device '{Files.SafeOutput.Printable(name)}'; known: {string.Join(", ", All.Select(d => d.Name))}");

    /// <summary>The part a family's own flow already names (its nextpnr device: ECP5 LFE5U-85F, iCE40 HX8K), or null
    /// where the flow names none (Xilinx: Yosys synthesizes for the UltraScale+ family, not a part).</summary>
    public static FpgaDevice? DefaultFor(SynthesisTarget family) => family switch
    {
        SynthesisTarget.Ecp5 => Lfe5u85f,
        SynthesisTarget.Ice40 => Ice40Hx8k,
        _ => null,
    };

    /// <summary>The family of a command that takes both --target and --device: the device's, which must agree with a
    /// target given explicitly; <paramref name="target"/> alone otherwise.</summary>
    public static (SynthesisTarget Family, FpgaDevice? Device) Resolve(SynthesisTarget target, bool targetGiven, string? device)
    {
        if (device is null) return (target, DefaultFor(target));
        var d = Parse(device);
        if (targetGiven && target != d.Family)
            throw new HetQException($"--device {d.Name} is a {FpgaTarget.For(d.Family).Name} part; it does not go with --target {FpgaTarget.For(target).Name}");
        return (d.Family, d);
    }
}

/// <summary>One budget of a device: how much of it a design uses.</summary>
public sealed record ResourceUse(string Resource, long Used, long Available)
{
    /// <summary>Used over available (0 when nothing is used; infinity when something is used of none).</summary>
    public double Fraction => Used == 0 ? 0 : Available == 0 ? double.PositiveInfinity : (double)Used / Available;

    public bool Fits => Used <= Available;

    /// <summary>How much more than the device holds the design needs (0 when it fits).</summary>
    public long Overflow => Math.Max(0, Used - Available);
}

/// <summary>Whether a design fits a device, resource by resource; <see cref="Basis"/> says where the used figures come
/// from (a named estimate model, or Yosys's cell counts).</summary>
public sealed record DeviceFit(FpgaDevice Device, string Basis, IReadOnlyList<ResourceUse> Resources)
{
    public bool Fits => Resources.All(r => r.Fits);

    /// <summary>The fit of an estimate (<see cref="ResourceModel"/>) of a design with these port bits (<see cref="PortBits"/>).</summary>
    public static DeviceFit Of(FpgaDevice device, ResourceEstimate e, (long Input, long Output) ports)
    {
        Same(device, e.Target);
        return Build(device, "estimate (" + e.Model + ")", FpgaTarget.For(e.Target).LutEquivalents(e.Lut, e.Carry), e.Ff, e.Dsp, 0, ports.Input, ports.Output);
    }

    /// <summary>The fit of a synthesis result of the design <paramref name="m"/>.</summary>
    public static DeviceFit Of(FpgaDevice device, SynthesisResult r, HardwareManifest m)
    {
        Same(device, r.Target);
        var f = FpgaTarget.For(r.Target);
        return Build(device, $"Yosys cell counts ({f.SynthDescription})", f.LutEquivalents(r.Lut, r.Carry), r.Ff, r.Dsp, r.Bram, m.Input.Bits, m.Output.Bits);
    }

    /// <summary>The bits of the input and output ports of the design <see cref="VerilogWriter"/> writes for
    /// <paramref name="graph"/> (as its manifest has them), without writing it.</summary>
    public static (long Input, long Output) PortBits(IntegerGraph graph, bool argmax)
    {
        var input = graph.Input.Output;
        var output = graph.Output.Output;
        return ((long)input.Size * input.Type.Width, argmax ? Netlist.WidthOf(0, output.Size - 1) : (long)output.Size * output.Type.Width);
    }

    private static void Same(FpgaDevice device, SynthesisTarget target)
    {
        if (device.Family != target)
            throw new HetQException($"{device.Part} is a {FpgaTarget.For(device.Family).Description} part; figures for {FpgaTarget.For(target).Description} cannot be checked against it");
    }

    // I/O: the input and output ports and the clock pin.
    private static DeviceFit Build(FpgaDevice d, string basis, long lut, long ff, long dsp, long bram, long inputBits, long outputBits) =>
        new(d, basis,
        [
            new("lut", lut, d.Luts), new("ff", ff, d.Ffs), new("dsp", dsp, d.Dsps), new("bram", bram, d.Brams),
            new("io", inputBits + outputBits + 1, d.UserIo),
        ]);

    /// <summary>The fit in lines of text: one per resource, then the verdict.</summary>
    public IEnumerable<string> Describe()
    {
        var inv = CultureInfo.InvariantCulture;
        yield return $"device {Device.Part} ({Device.Name}, LUT{Device.LutInputs}); used from the {Basis}";
        foreach (var r in Resources)
        {
            string name = r.Resource switch
            {
                "lut" => Device.Family == SynthesisTarget.Ecp5 ? "LUT4 (LUT4 + 2 x CCU2C)" : $"LUT{Device.LutInputs}",
                "ff" => "FF", "dsp" => "DSP", "bram" => "BRAM", "io" => "I/O pins (ports + clock)", _ => r.Resource,
            };
            string pct = double.IsPositiveInfinity(r.Fraction) ? "-" : (100 * r.Fraction).ToString("F2", inv) + " %";
            string verdict = r.Fits ? "fits"
                : string.Create(inv, $"OVER by {r.Overflow:N0} ({(r.Available == 0 ? "the device has none" : $"{r.Fraction:F2}x the device")})");
            yield return string.Create(inv, $"  {name,-26} {r.Used,12:N0} / {r.Available,12:N0}  {pct,9}  {verdict}");
        }
        yield return Fits
            ? $"the design fits the {Device.Part}"
            : $"the design does NOT fit the {Device.Part}: over on {string.Join(", ", Resources.Where(r => !r.Fits).Select(r => r.Resource))}";
    }

    /// <summary>The fit as a JSON-ready object: device, basis, fits, and per resource used, available, fraction, fits, overflow.</summary>
    public object ToJson() => new
    {
        device = Device.Name,
        part = Device.Part,
        basis = Basis,
        fits = Fits,
        fit = Resources.ToDictionary(r => r.Resource, r => (object)new
        {
            used = r.Used,
            available = r.Available,
            fraction = double.IsPositiveInfinity(r.Fraction) ? (double?)null : Math.Round(r.Fraction, 6),
            fits = r.Fits,
            overflow = r.Overflow,
        }),
    };
}
