using System.Globalization;
using System.Text;
using System.Text.Json;

namespace HetQ.Cost;

/// <summary>How a layer's multiplications are built, decided from its weight codes (QTools's multiplier table,
/// multiplier_factory.py): a full multiplier, or a gate for binary (±c), ternary (−c, 0, +c), {0, c} and
/// power-of-two weights; <see cref="Float"/> in a floating-point reference; <see cref="None"/> without weights.</summary>
public enum MultiplierKind { None, Fixed, Binary, Ternary, And, Shift, Float }

/// <summary>The cost of one node of the integer graph (or the sum over all nodes, for the total). Energies in pJ.</summary>
/// <param name="Name">Node name ("total" for the sum).</param>
/// <param name="Op">Op name: dense, conv, depthwise_conv, max_pool, avg_pool, flatten, add, requant, input.</param>
/// <param name="InputType">Type of the input tensor(s), e.g. ap_ufixed&lt;6,0&gt;.</param>
/// <param name="WeightType">Type of the kernel codes; null without weights.</param>
/// <param name="OutputType">Type of the output tensor.</param>
/// <param name="Parameters">Kernel and bias values.</param>
/// <param name="ZeroWeights">Kernel codes that are 0 (they need no multiplication).</param>
/// <param name="ParameterBits">Kernel values × kernel width + bias values × bias width.</param>
/// <param name="ActivationBits">Output elements × output width (0 for flatten, which stores nothing new).</param>
/// <param name="Multiplications">Products with a non-zero weight, over all output positions.</param>
/// <param name="Additions">Adder-tree additions (terms − 1 per output, the bias a term when non-zero), pooling sums,
/// max-pool comparisons, and the additions of an add node.</param>
/// <param name="Bops">Bit operations (Baskin et al.): m·n·((1−p)·b_a·b_w + b_a + b_w + log2 n).</param>
/// <param name="Ebops">Effective bit operations (HGQ): Σ over multiplications of b_a × the significant bits of the weight code.</param>
/// <param name="Multiplier">How the multiplications are built.</param>
/// <param name="OpEnergy">Multiplications and additions.</param>
/// <param name="ParameterEnergy">Reading kernel and bias from where they are placed.</param>
/// <param name="ActivationEnergy">Reading the inputs and writing the output where activations are placed.</param>
public sealed record LayerCost(
    string Name, string Op, string? InputType, string? WeightType, string? OutputType,
    long Parameters, long ZeroWeights, long ParameterBits, long ActivationBits,
    long Multiplications, long Additions, double Bops, long Ebops, MultiplierKind Multiplier,
    double OpEnergy, double ParameterEnergy, double ActivationEnergy)
{
    /// <summary>All energy of the node, pJ.</summary>
    public double Energy => OpEnergy + ParameterEnergy + ActivationEnergy;
}

/// <summary>Per-node costs of an integer graph and their total, with the energy model and placement used.</summary>
public sealed record CostReport(string Model, IReadOnlyList<LayerCost> Layers, EnergyModel EnergyModel, Placement Placement)
{
    /// <summary>The names <see cref="Metric"/> accepts.</summary>
    public static IReadOnlyList<string> MetricNames { get; } = ["bits", "energy", "ebops", "bops"];

    /// <summary>The sum over all nodes.</summary>
    public LayerCost Total => Sum(Layers);

    /// <summary>One number for a search objective: "bits" (parameter bits), "energy" (pJ), "ebops" or "bops".</summary>
    public double Metric(string name) => name switch
    {
        "bits" => Total.ParameterBits,
        "energy" => Total.Energy,
        "ebops" => Total.Ebops,
        "bops" => Total.Bops,
        _ => throw new HetQException($"unknown cost metric '{name}'; known: {string.Join(", ", MetricNames)}"),
    };

    private static LayerCost Sum(IReadOnlyList<LayerCost> layers) => new(
        "total", "total", null, null, null,
        layers.Sum(l => l.Parameters), layers.Sum(l => l.ZeroWeights), layers.Sum(l => l.ParameterBits), layers.Sum(l => l.ActivationBits),
        layers.Sum(l => l.Multiplications), layers.Sum(l => l.Additions), layers.Sum(l => l.Bops), layers.Sum(l => l.Ebops), MultiplierKind.None,
        layers.Sum(l => l.OpEnergy), layers.Sum(l => l.ParameterEnergy), layers.Sum(l => l.ActivationEnergy));

    /// <summary>One JSON object: model, placement, layers (one object per node) and total, with snake_case keys
    /// (parameters, zero_weights, parameter_bits, activation_bits, multiplications, additions, bops, ebops, energy_pj, ...).</summary>
    public string ToJson()
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("model", Model);
            w.WriteStartObject("placement");
            w.WriteString("weights", Placement.Weights.ToString().ToLowerInvariant());
            w.WriteString("activations", Placement.Activations.ToString().ToLowerInvariant());
            w.WriteBoolean("rd_wr_on_io", Placement.ReadWriteOnIo);
            w.WriteNumber("min_sram_size", Placement.MinSramSize);
            w.WriteEndObject();
            w.WriteStartArray("layers");
            foreach (var l in Layers) Write(w, l);
            w.WriteEndArray();
            w.WritePropertyName("total");
            Write(w, Total);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    private static void Write(Utf8JsonWriter w, LayerCost l)
    {
        w.WriteStartObject();
        w.WriteString("name", l.Name);
        w.WriteString("op", l.Op);
        w.WriteString("input_type", l.InputType);
        w.WriteString("weight_type", l.WeightType);
        w.WriteString("output_type", l.OutputType);
        w.WriteNumber("parameters", l.Parameters);
        w.WriteNumber("zero_weights", l.ZeroWeights);
        w.WriteNumber("parameter_bits", l.ParameterBits);
        w.WriteNumber("activation_bits", l.ActivationBits);
        w.WriteNumber("multiplications", l.Multiplications);
        w.WriteNumber("additions", l.Additions);
        w.WriteNumber("bops", Round(l.Bops));
        w.WriteNumber("ebops", l.Ebops);
        w.WriteString("multiplier", l.Multiplier.ToString().ToLowerInvariant());
        w.WriteNumber("energy_pj", Round(l.Energy));
        w.WriteNumber("op_energy_pj", Round(l.OpEnergy));
        w.WriteNumber("parameter_energy_pj", Round(l.ParameterEnergy));
        w.WriteNumber("activation_energy_pj", Round(l.ActivationEnergy));
        w.WriteEndObject();
    }

    // Enough digits for any use, without binary noise such as 0.30000000000000004.
    private static double Round(double v) => double.Parse(v.ToString("G12", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
}
