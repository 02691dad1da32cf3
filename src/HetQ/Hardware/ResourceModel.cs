using System.Diagnostics;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using HetQ.Graph;

namespace HetQ.Hardware;

/// <summary>An estimate (not a synthesis result) of the FPGA resources of the design <see cref="VerilogWriter"/>
/// builds for a graph: LUT, FF and carry cells as Yosys counts them for <see cref="Target"/>, from the primitives the
/// writer builds priced by the fitted coefficients named in <see cref="Model"/>. Multipliers are in LUTs (the synthesis
/// runs with -nodsp unless a folded design was written with --dsp), so <see cref="Dsp"/> is 0.</summary>
public sealed record ResourceEstimate(SynthesisTarget Target, long Lut, long Ff, long Carry, long Dsp, string Model,
    IReadOnlyDictionary<string, double> Features);

/// <summary>Coefficients of one target: resource = Σ coefficient · feature, for LUT, FF and carry cells.</summary>
internal sealed record TargetCoefficients(
    IReadOnlyDictionary<string, double> Lut, IReadOnlyDictionary<string, double> Ff, IReadOnlyDictionary<string, double> Carry,
    int Designs, double LutMape, double FfMape, double CarryMape, string Calibrated);

/// <summary>The committed coefficients file (src/HetQ/Hardware/resource-model.json, embedded in the assembly).</summary>
internal sealed record ResourceModelFile(string Format, int Version, string Yosys, string Command, string Note,
    IReadOnlyDictionary<string, TargetCoefficients> Targets);

/// <summary>LUT, FF and carry estimates of the generated architecture in milliseconds: the writer's passes run
/// without text (<see cref="VerilogWriter.Count"/>), the primitives it builds are tallied, and each tally feature
/// (adder bits, multiplexer bits, register bits, carry-chain cells...) is priced with coefficients fitted by
/// non-negative least squares to Yosys synthesis of a calibration set (bench: <c>resources-calibrate</c>).</summary>
public static class ResourceModel
{
    public const string Format = "hetq-resource-model";
    public const string ResourceName = "HetQ.Hardware.resource-model.json";

    /// <summary>Features priced for LUTs, FFs and carry cells; each is a sum over the tally (see <see cref="Features"/>).</summary>
    internal static readonly string[] LutFeatures = ["adder_bits", "adder_both_bits", "adder_one_bits", "adders", "rounding_bits", "small_adder_bits", "mux_bits", "saturation_bits", "compare_bits", "register_bits",
        "multiplier_bits", "rom_cells", "control_bits", "shift_register_cells", "counter_bits", "select_bits"];
    internal static readonly string[] FfFeatures = ["register_bits", "shift_register_bits"];
    internal static readonly string[] CarryFeatures = ["adder_chain", "compare_chain", "multiplier_chain"];

    /// <summary>The features of the folded and streaming designs (input multiplexer trees, multipliers, ROMs, control, shift registers, counters):
    /// a target calibrated before them lacks them, and its estimate of such a design is refused.</summary>
    internal static readonly string[] SequentialFeatures = ["select_bits", "multiplier_bits", "rom_cells", "control_bits", "shift_register_cells", "counter_bits", "shift_register_bits", "multiplier_chain"];

    internal static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = null,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static readonly Lazy<ResourceModelFile> Embedded = new(LoadEmbedded);

    /// <summary>Estimates the resources of the design written with <paramref name="options"/> (default: a register
    /// after each layer) for <paramref name="target"/>.</summary>
    public static ResourceEstimate Estimate(IntegerGraph graph, SynthesisTarget target = SynthesisTarget.Xilinx, HardwareOptions? options = null) =>
        Estimate(VerilogWriter.Count(graph, options ?? new HardwareOptions()), target, Embedded.Value, options?.Dsp == true);

    /// <summary>The estimate of a tally; with <paramref name="dsp"/> every multiplier is one DSP slice (a folded layer's
    /// products are at most 27 x 18 bits here) instead of LUTs and carry cells.</summary>
    internal static ResourceEstimate Estimate(LogicTally tally, SynthesisTarget target, ResourceModelFile model, bool dsp = false)
    {
        string name = Synthesis.Name(target);
        if (!model.Targets.TryGetValue(name, out var c))
            throw new HetQException($"the resource model has no coefficients for target '{name}' (it has {string.Join(", ", model.Targets.Keys)}); run the bench's resources-calibrate --target {name}");
        var f = Features(tally, target);
        foreach (var key in SequentialFeatures)
            if (f[key] != 0 && !c.Lut.ContainsKey(key) && !c.Ff.ContainsKey(key) && !c.Carry.ContainsKey(key))
                throw new HetQException($"the resource model for '{name}' is not calibrated on folded or streaming designs yet (no coefficient for {key}); estimate them for --target xilinx, or run the bench's resources-calibrate --target {name}");
        long dsps = 0;
        if (dsp)
        {
            dsps = tally.Products().Count();
            var without = new Dictionary<string, double>(f, StringComparer.Ordinal) { ["multiplier_bits"] = 0, ["multiplier_chain"] = 0 };
            f = without;
        }
        return new ResourceEstimate(target, Price(c.Lut, f), Price(c.Ff, f), Price(c.Carry, f), dsps,
            $"{Format} v{model.Version}, {name}: NNLS fit to {model.Yosys} on {c.Designs} designs ({c.Calibrated})", f);
    }

    /// <summary>The committed model (the embedded resource-model.json).</summary>
    internal static ResourceModelFile Current => Embedded.Value;

    private static long Price(IReadOnlyDictionary<string, double> coefficients, IReadOnlyDictionary<string, double> f) =>
        (long)Math.Round(coefficients.Sum(p => p.Value * (f.TryGetValue(p.Key, out double v) ? v : throw new HetQException($"resource model: unknown feature '{p.Key}'"))));

    /// <summary>Bits a carry cell of the target covers (<see cref="FpgaTarget.CarryBits"/>).</summary>
    internal static int CarryBits(SynthesisTarget t) => FpgaTarget.For(t).CarryBits;

    /// <summary>The widest adder the target's Yosys flow leaves to LUTs (<see cref="FpgaTarget.LutAdderWidth"/>).</summary>
    internal static int LutAdderWidth(SynthesisTarget t) => FpgaTarget.For(t).LutAdderWidth;

    /// <summary>The features of a tally for <paramref name="target"/> (carry chains are counted in the target's cells;
    /// adders too narrow for a carry chain count as small_adder_bits instead).</summary>
    internal static IReadOnlyDictionary<string, double> Features(LogicTally t, SynthesisTarget target)
    {
        int k = CarryBits(target), small = LutAdderWidth(target);
        double Cells(int w, int k) => w <= small ? 0 : (w + k - 1) / k;
        var adders = t.Of(Primitive.Adder).ToList();
        var rounding = t.Of(Primitive.Rounding).ToList();
        var compares = t.Of(Primitive.Comparator).Concat(t.Of(Primitive.Saturation)).ToList();
        return new Dictionary<string, double>(StringComparer.Ordinal)
        {
            ["adder_bits"] = adders.Sum(a => (double)a.Width),
            ["adder_both_bits"] = t.Sums(Primitive.Adder).Sum(a => (double)a.Both),
            ["adder_one_bits"] = t.Sums(Primitive.Adder).Sum(a => (double)a.One),
            ["adders"] = adders.Count,
            ["rounding_bits"] = rounding.Sum(a => (double)a.Width),
            ["small_adder_bits"] = adders.Concat(rounding).Where(a => a.Width <= small).Sum(a => (double)a.Width),
            ["mux_bits"] = t.Of(Primitive.Mux).Sum(a => (double)a.Width),
            ["select_bits"] = t.Of(Primitive.Select).Sum(a => (double)a.Width),
            ["saturation_bits"] = t.Of(Primitive.Saturation).Sum(a => (double)a.Width),
            ["compare_bits"] = compares.Sum(a => (double)a.OperandWidth),
            ["register_bits"] = t.RegisterBits - t.ShiftRegisterBits,
            ["shift_register_bits"] = t.ShiftRegisterBits,
            ["shift_register_cells"] = t.ShiftRegisterCells,
            ["counter_bits"] = t.CounterBits,
            // a multiplier of a·b bits: about a·b partial-product bits summed; a ROM: a LUT6 per 64 words of each bit
            ["multiplier_bits"] = t.Products().Sum(p => (double)p.A * p.B),
            ["rom_cells"] = t.Memories().Sum(m => (double)m.Width * ((m.Words + 63) / 64)),
            ["control_bits"] = t.Of(Primitive.Control).Sum(c => (double)Math.Max(1, c.OperandWidth)),
            ["adder_chain"] = adders.Concat(rounding).Sum(a => Cells(a.Width, k)),
            ["compare_chain"] = compares.Sum(a => Cells(a.OperandWidth, k)),
            ["multiplier_chain"] = t.Products().Sum(p => (double)Math.Min(p.A, p.B) * Cells(p.A + p.B, k)),
        };
    }

    internal static ResourceModelFile Parse(string json, string source)
    {
        try
        {
            var m = JsonSerializer.Deserialize<ResourceModelFile>(json, JsonOptions) ?? throw new HetQException($"{source}: empty resource model");
            if (m.Format != Format) throw new HetQException($"{source}: not a HetQ resource model (format '{m.Format}')");
            if (m.Version != 1) throw new HetQException($"{source}: resource model version {m.Version} is not supported");
            return m;
        }
        catch (JsonException e)
        {
            throw new HetQException($"{source}: bad resource model: {e.Message}");
        }
    }

    internal static string ToJson(ResourceModelFile m) => JsonSerializer.Serialize(m, JsonOptions).Replace("\r\n", "\n") + "\n";

    private static ResourceModelFile LoadEmbedded()
    {
        using var s = Assembly.GetExecutingAssembly().GetManifestResourceStream(ResourceName)
            ?? throw new UnreachableException($"embedded resource {ResourceName} missing");
        using var r = new StreamReader(s);
        return Parse(r.ReadToEnd(), "resource-model.json (embedded)");
    }
}
