using System.Globalization;
using System.Reflection;
using System.Text.Json;

namespace HetQ.Hardware;

/// <summary>One placed-and-routed design of the calibration: its worst stage's LUT levels and carry bits (from
/// <see cref="LogicDepth"/> on the design's own netlist) and the Fmax nextpnr reached.</summary>
public sealed record FmaxPoint(string Design, int LutLevels, int CarryBits, double FmaxMhz, int LutEquivalents);

/// <summary>A critical-path delay model, delay_ns = a + b·LUT levels + c·carry bits, fitted by least squares on designs
/// placed and routed with nextpnr for <see cref="Family"/>; <see cref="LooMeanErrorPercent"/> is its leave-one-out
/// error on those designs (each predicted by the model fitted on the others).</summary>
public sealed record FmaxModel(string Family, string Device, double InterceptNs, double NsPerLutLevel, double NsPerCarryBit,
    double LooMeanErrorPercent, double LooMaxErrorPercent, string Command, IReadOnlyList<FmaxPoint> Points)
{
    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    public const string ResourceName = "HetQ.Hardware.fmax-model.json";

    /// <summary>The estimated Fmax in MHz of a design whose worst stage has these levels.</summary>
    public double Estimate(int lutLevels, int carryBits) =>
        1000.0 / Math.Max(0.1, InterceptNs + NsPerLutLevel * lutLevels + NsPerCarryBit * carryBits);

    /// <summary>The model in words, for printed reports.</summary>
    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"estimate: delay = {InterceptNs:0.###} ns + {NsPerLutLevel:0.###} ns x LUT levels + {NsPerCarryBit:0.####} ns x carry bits, "
        + $"least squares on {Points.Count} designs placed and routed with {(Family == "ecp5" ? "nextpnr-ecp5" : "nextpnr-ice40")} ({Device}); "
        + $"leave-one-out error {LooMeanErrorPercent:0.#} % mean, {LooMaxErrorPercent:0.#} % max");

    /// <summary>Fits the model to <paramref name="points"/> (at least 4) and measures its leave-one-out error.</summary>
    public static FmaxModel Fit(string family, string device, IReadOnlyList<FmaxPoint> points, string command)
    {
        if (points.Count < 4) throw new HetQException($"Fmax model: {points.Count} placed-and-routed designs; at least 4 are needed to fit 3 coefficients");
        var (a, b, c) = LeastSquares(points);
        var errors = new List<double>();
        for (int i = 0; i < points.Count; i++)
        {
            var rest = points.Where((_, j) => j != i).ToList();
            var (ra, rb, rc) = LeastSquares(rest);
            double predicted = 1000.0 / Math.Max(0.1, ra + rb * points[i].LutLevels + rc * points[i].CarryBits);
            errors.Add(Math.Abs(predicted - points[i].FmaxMhz) / points[i].FmaxMhz * 100);
        }
        return new FmaxModel(family, device, a, b, c, errors.Average(), errors.Max(), command, points);
    }

    /// <summary>(a, b, c) minimizing the squared error of a + b·L + c·C against 1000 / Fmax; a column that does not
    /// vary (all designs with the same LUT levels, say) gets coefficient 0.</summary>
    internal static (double A, double B, double C) LeastSquares(IReadOnlyList<FmaxPoint> points)
    {
        var rows = points.Select(p => new[] { 1.0, p.LutLevels, p.CarryBits }).ToList();
        var y = points.Select(p => 1000.0 / p.FmaxMhz).ToList();
        var used = Enumerable.Range(0, 3).Where(k => k == 0 || rows.Select(r => r[k]).Distinct().Count() > 1).ToArray();
        int n = used.Length;
        var m = new double[n, n + 1];
        for (int r = 0; r < rows.Count; r++)
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j < n; j++) m[i, j] += rows[r][used[i]] * rows[r][used[j]];
                m[i, n] += rows[r][used[i]] * y[r];
            }
        for (int col = 0; col < n; col++)
        {
            int pivot = Enumerable.Range(col, n - col).MaxBy(r => Math.Abs(m[r, col]));
            if (Math.Abs(m[pivot, col]) < 1e-12) throw new HetQException("Fmax model: the calibration designs do not determine the coefficients (singular system)");
            for (int j = 0; j <= n; j++) (m[col, j], m[pivot, j]) = (m[pivot, j], m[col, j]);
            for (int r = 0; r < n; r++)
            {
                if (r == col) continue;
                double f = m[r, col] / m[col, col];
                for (int j = 0; j <= n; j++) m[r, j] -= f * m[col, j];
            }
        }
        var coef = new double[3];
        for (int i = 0; i < n; i++) coef[used[i]] = m[i, n] / m[i, i];
        return (coef[0], coef[1], coef[2]);
    }

    public static string ToJson(IReadOnlyList<FmaxModel> models) => JsonSerializer.Serialize(models, Options).Replace("\r\n", "\n") + "\n";

    public static IReadOnlyList<FmaxModel> Parse(string json, string what) =>
        JsonSerializer.Deserialize<List<FmaxModel>>(json, Options) ?? throw new HetQException($"{what}: empty Fmax model file");

    /// <summary>The calibrated models shipped with HetQ (src/HetQ/Hardware/fmax-model.json, regenerated by
    /// `dotnet run -c Release --project bench/HetQ.Bench -- pnr-calibrate`).</summary>
    public static IReadOnlyList<FmaxModel> Shipped()
    {
        using var s = Assembly.GetExecutingAssembly().GetManifestResourceStream(ResourceName)
            ?? throw new HetQException($"resource {ResourceName} missing from the HetQ assembly");
        using var reader = new StreamReader(s);
        return Parse(reader.ReadToEnd(), ResourceName);
    }

    /// <summary>The model for <paramref name="target"/>: its own family's when calibrated, else the ECP5 one (for
    /// Xilinx always ECP5's: no open place and route exists for it, so such an estimate is only indicative).</summary>
    public static FmaxModel? For(SynthesisTarget target)
    {
        var models = Shipped();
        string family = Synthesis.Name(target);
        return models.FirstOrDefault(m => m.Family == family) ?? models.FirstOrDefault(m => m.Family == "ecp5");
    }
}
