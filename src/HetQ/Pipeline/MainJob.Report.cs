using System.Text;
using System.Text.Json;
using HetQ.Data;
using HetQ.Search;

namespace HetQ.Pipeline;

public static partial class MainJob
{
    /// <summary>The headline: of the quantized models within 1 validation point of float by the paired rule
    /// (<see cref="PairedGap.Within"/>), the one with the fewest LUTs (Yosys when synthesis ran, else the resource
    /// model's estimate, labelled), against the uniform 16-bit model; the test accuracies beside it say whether it held
    /// on unseen data. Rows without a paired comparison are not candidates.</summary>
    internal static string? Headline(IReadOnlyList<ReportRow> rows)
    {
        var baseline = rows.FirstOrDefault(r => r.Name == "uniform 16-bit");
        var flt = rows[0];
        bool synth = rows.Any(r => r.Hardware?.Luts is not null);
        long? Lut(ReportRow r) => synth ? r.Hardware?.Luts : r.Hardware?.LutEstimate;
        if (baseline is null || baseline.Hardware is null) return null;
        if (Lut(baseline) is not long b)
            return synth ? $"**Headline**: none: the uniform 16-bit model has no Yosys LUT count ({baseline.Hardware.Note ?? "not synthesized"}), so no factor is shown." : null;
        var pick = rows.Skip(1).Where(r => r != baseline && r.ValVsFloat is { } g && g.Within(Selection.MarginPoints) && Lut(r) is not null).OrderBy(r => Lut(r)).FirstOrDefault();
        string what = synth ? "LUTs (Yosys)" : "LUTs (resource model estimate; not synthesized)";
        if (pick is null) return $"**Headline**: no quantized model came within 1 validation point of float ({flt.ValAccuracy:P2}) by the paired rule; uniform 16-bit: {b:N0} {what}.";
        long l = Lut(pick)!.Value;
        double gap = 100 * (flt.TestAccuracy - pick.TestAccuracy);
        bool met = gap <= 1.0 && b >= 10 * l;
        return $"**Headline**: {pick.Name}: {l:N0} {what} against {b:N0} for the uniform 16-bit model, **{(double)b / Math.Max(l, 1):F1}x fewer**, "
               + $"at {pick.TestAccuracy:P2} test accuracy (float {flt.TestAccuracy:P2}: {(gap >= 0 ? $"{gap:F2} points below" : $"{-gap:F2} points above")}; validation {pick.ValAccuracy:P2} against float's {flt.ValAccuracy:P2}, {pick.ValVsFloat!.Describe()}). "
               + $"Target (>= 10x fewer LUTs, within 1 test point of float): {(met ? "met" : "not met")}.";
    }

    private static string WriteReport(string dir, List<ReportRow> rows, SearchResult search, double floatVal, DataSplits splits, double seconds, string? headline, string? learnedPlot,
        CnnSection cnn, int seed, Action<string> log)
    {
        var sb = new StringBuilder();
        sb.Append("# HetQ report: 8x8 digits, MLP 64-32-10\n\n");
        if (headline is not null) sb.Append(headline).Append("\n\n");
        sb.Append($"Produced by `hetq run --seed {seed}` in {seconds:F0} s (from the start of the process to the report) on {Environment.ProcessorCount} cores. Every number is measured on this run; energy is an estimate with QTools's Horowitz 45 nm model. A step that did not run shows no figure.\n\n");
        sb.Append($"Data: {splits.Train.Count} training, {splits.Validation.Count} validation and {splits.Test.Count} test samples (stratified, data seed {seed}). ");
        sb.Append($"Selection uses validation data only: each candidate's emulated validation predictions are compared with float's sample by sample, and a model counts as within 1 point of float when its accuracy difference less one standard error of that paired difference is at least -1 point; of those, the cheapest by the resource model's LUT estimate is chosen, and the headline is the one with the fewest Yosys LUTs. Test accuracy is only reported.\n\n");
        sb.Append("Validation against float (paired; won/lost: samples only the model / only float classifies right):\n\n");
        foreach (var r in rows.Where(r => r.ValVsFloat is not null))
            sb.Append($"- {r.Name}: {r.ValVsFloat!.Describe()}; {(r.ValVsFloat.Within(Selection.MarginPoints) ? "within 1 point" : "not within 1 point")}\n");
        sb.Append('\n');
        sb.Append("What ran for each model:\n\n");
        foreach (var r in rows.Skip(1))
            sb.Append($"- **{r.Name}**: frozen, emulated on the test set{(r.Hardware is { } hw ? $"; Verilog written; {(hw.Simulated ? $"simulated with {hw.Simulators.Replace("+", " and ", StringComparison.Ordinal)} ({hw.Vectors} vectors)" : "not simulated (no simulator installed)")}; {(hw.Luts is null ? "not synthesized" : "synthesized with Yosys")}; not placed and routed (Xilinx has no open place and route)" : "; hardware not run (--no-hardware)")}\n");
        sb.Append('\n');
        sb.Append("| model | validation accuracy | test accuracy | EBOPs | parameter bits | energy (pJ, estimate) | emulation mismatches | sim vectors / mismatches | LUT (Yosys) | LUT (resource model, estimate) | FF | latency (cycles) | LUT levels (worst stage) | latency (ns, estimate) |\n");
        sb.Append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        foreach (var r in rows)
        {
            var h = r.Hardware;
            sb.Append($"| {r.Name} | {(r.ValAccuracy is double v ? v.ToString("P2", System.Globalization.CultureInfo.InvariantCulture) : "-")} | {r.TestAccuracy:P2} | {N(r.Ebops)} | {N(r.ParameterBits)} | {N(r.EnergyPj, "F1")} | {(r.Mismatches?.ToString() ?? "-")} | ");
            sb.Append(h is null ? "not run | not run | - | - | - | not run | - |\n"
                : $"{(h.Simulated ? $"{h.Vectors} / {h.Mismatches} ({h.Simulators})" : "not simulated")} | {(h.Luts is null ? "not synthesized" : N(h.Luts))} | {N(h.LutEstimate)} | {N(h.Ffs)} | {h.LatencyCycles} | {N(h.LutLevels)} | {N(h.LatencyNsEstimate, "F0")} |\n");
        }
        sb.Append("\nLUT (Yosys) is `synth_xilinx -family xcup -nodsp`; LUT (resource model) is HetQ's estimate from the integer graph "
                  + "(`hetq estimate --resources`, calibrated against Yosys); LUT levels are counted on the synthesized netlist; the latency in ns "
                  + "applies the Fmax model calibrated on ECP5 place and route to the worst stage's LUT levels and carry bits, so for Xilinx it is only indicative.\n");
        sb.Append($"\nSearch: {search.Trials.Count} trials ({search.Trials.Count(t => t.State == TrialState.Failed)} failed), metric {search.Metric.Name()}, reference cost (int8) {search.ReferenceCost:N0}; float validation accuracy {floatVal:P2}.\n\n");
        if (search.Plot is not null) sb.Append("![accuracy against EBOPs](search/pareto.png)\n\n");
        if (learnedPlot is not null)
            sb.Append("Learned bit widths: every epoch's (validation accuracy, EBOPs), the Pareto front kept as checkpoints in `learned/pareto/`; the chosen epoch is the cheapest by the paired rule above.\n\n")
              .Append($"![learned-width Pareto front]({learnedPlot.Replace('\\', '/')})\n\n");
        var synthesized = rows.Where(r => r.Hardware?.Luts is not null).Select(r => (r.Name, (long)r.Hardware!.Luts!.Value, r.TestAccuracy)).ToList();
        string luts = Path.Combine(dir, "luts.png");
        if (synthesized.Count > 0 && Plotting.TryDraw(luts, w => w.Luts(luts, synthesized, rows[0].TestAccuracy), log))
            sb.Append("![accuracy against LUTs](luts.png)\n\n");
        sb.Append("Quantizers of each model:\n\n");
        foreach (var r in rows) sb.Append($"- **{r.Name}**: {r.Quantization}\n");
        foreach (var r in rows.Where(r => r.Hardware?.Note is not null)) sb.Append($"\nNote ({r.Name}): {r.Hardware!.Note}\n");
        AppendCnn(sb, cnn);
        string file = Path.Combine(dir, "report.md");
        Files.SafeOutput.WriteText(file, sb.ToString());
        Files.SafeOutput.WriteText(Path.Combine(dir, "report.json"), JsonSerializer.Serialize(new { rows, cnn = cnn.Row, cnn_seconds = cnn.Seconds }, new JsonSerializerOptions { WriteIndented = true }));
        return file;
    }

    private static string N(double? v, string f = "N0") => v is { } x ? x.ToString(f, System.Globalization.CultureInfo.InvariantCulture) : "-";
    private static string N(long? v) => v?.ToString("N0", System.Globalization.CultureInfo.InvariantCulture) ?? "-";
    private static string N(int? v) => v?.ToString("N0", System.Globalization.CultureInfo.InvariantCulture) ?? "-";
}
