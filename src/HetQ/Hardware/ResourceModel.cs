using System.Diagnostics;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using HetQ.Graph;

namespace HetQ.Hardware;

/// <summary>An estimate (not a synthesis result) of the FPGA resources of the design <see cref="VerilogWriter"/>
/// builds for a graph: LUT, FF and carry cells as Yosys counts them for <see cref="Target"/>, from the primitives the
/// writer builds priced by the fitted coefficients named in <see cref="Model"/>. The design has no multipliers, so
/// <see cref="Dsp"/> is 0.</summary>
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
    internal static readonly string[] LutFeatures = ["adder_bits", "adder_both_bits", "adder_one_bits", "adders", "rounding_bits", "small_adder_bits", "mux_bits", "saturation_bits", "compare_bits", "register_bits"];
    internal static readonly string[] FfFeatures = ["register_bits"];
    internal static readonly string[] CarryFeatures = ["adder_chain", "compare_chain"];

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
        Estimate(VerilogWriter.Count(graph, options ?? new HardwareOptions()), target, Embedded.Value);

    internal static ResourceEstimate Estimate(LogicTally tally, SynthesisTarget target, ResourceModelFile model)
    {
        string name = Synthesis.Name(target);
        if (!model.Targets.TryGetValue(name, out var c))
            throw new HetQException($"the resource model has no coefficients for target '{name}' (it has {string.Join(", ", model.Targets.Keys)}); run the bench's resources-calibrate --target {name}");
        var f = Features(tally, target);
        return new ResourceEstimate(target, Price(c.Lut, f), Price(c.Ff, f), Price(c.Carry, f), 0,
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
            ["saturation_bits"] = t.Of(Primitive.Saturation).Sum(a => (double)a.Width),
            ["compare_bits"] = compares.Sum(a => (double)a.OperandWidth),
            ["register_bits"] = t.RegisterBits,
            ["adder_chain"] = adders.Concat(rounding).Sum(a => Cells(a.Width, k)),
            ["compare_chain"] = compares.Sum(a => Cells(a.OperandWidth, k)),
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
