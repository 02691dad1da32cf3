using System.Diagnostics;
using System.Text;
using System.Text.Json;
using HetQ.Cost;
using HetQ.Graph;
using HetQ.Nn;
using HetQ.Search;
using HetQ.Training;

namespace HetQ.Pipeline;

/// <summary>One row of the report: a model and what was measured on it.</summary>
public sealed record ReportRow(string Name, string Quantization, double TestAccuracy, double? Ebops, double? ParameterBits, double? EnergyPj,
    int? Mismatches, HardwareNumbers? Hardware, string? ModelDirectory);

/// <summary>Numbers from the hardware flow (simulation and synthesis), when it ran.</summary>
public sealed record HardwareNumbers(int Vectors, int Mismatches, string Simulators, int? Luts, int? Ffs, int? Carry, int? Dsp, int LatencyCycles, string? Note,
    long? LutEstimate = null, int? LutLevels = null, double? FmaxEstimateMhz = null)
{
    /// <summary>True when at least one simulator ran.</summary>
    public bool Simulated => Simulators != "none";

    /// <summary>The latency in ns at the estimated Fmax (one clock period for a combinational design).</summary>
    public double? LatencyNsEstimate => FmaxEstimateMhz is double f && f > 0 ? Math.Max(LatencyCycles, 1) * 1000.0 / f : null;
}

/// <summary>Runs the hardware steps for a frozen model directory (Verilog, simulation, synthesis); null when the hardware flow is not available.</summary>
public delegate HardwareNumbers? HardwareStep(string modelDirectory, string dataFile, string outputDirectory, Action<string> log);

/// <summary>The main job on the embedded digits: float training, a short heterogeneous quantization search with
/// uniform baselines, freezing, cost estimates, emulation checks, hardware (when a hardware step is given) and a
/// Markdown report with plots.</summary>
public static class MainJob
{
    public const string TrainConfigJson = """
    {
      "name": "digits-float",
      "seed": 42,
      "data": { "name": "digits", "validation_fraction": 0.1, "test_fraction": 0.2 },
      "model": { "layers": [
        { "type": "dense", "units": 16, "activation": "relu", "name": "fc1" },
        { "type": "dense", "units": 10, "name": "output" } ] },
      "optimizer": { "type": "adam", "learning_rate": 0.005 },
      "schedule": { "type": "cosine", "warmup_epochs": 1 },
      "epochs": 60, "batch_size": 32
    }
    """;

    public static string SearchConfigJson(int trials, string dir) => $$"""
    {
      "name": "digits-search",
      "train": "train.json",
      "initial_weights": "float",
      "input": "ap_ufixed<5,1,RND_CONV,SAT>",
      "trials": {{trials}}, "epochs": 20, "learning_rate": 0.002,
      "strategy": { "type": "tpe", "startup_trials": 6, "seed": 1 },
      "objective": { "type": "forgiving", "metric": "ebops", "delta_p": 3, "delta_n": 8, "rate": 2, "stress": 1 },
      "space": { "default": {
        "kernel": ["ternary", "quantized_bits(2,1,1,alpha=1)", "quantized_bits(3,0,1,alpha=1)", "quantized_bits(4,0,1,alpha=1)", "quantized_bits(6,0,1,alpha=1)", "quantized_bits(8,0,1,alpha=1)"],
        "bias": ["quantized_bits(4,2,1,alpha=1)", "quantized_bits(8,3,1,alpha=1)"],
        "activation": ["quantized_relu(3,1)", "quantized_relu(4,2)", "quantized_relu(6,2)", "quantized_relu(8,3)"] } },
      "baselines": [
        { "name": "uniform 16-bit", "kernel": "quantized_bits(16,6,1)", "bias": "quantized_bits(16,6,1)", "activation": "quantized_relu(16,6)", "epochs": 0 },
        { "name": "uniform 8-bit QAT", "kernel": "quantized_bits(8,0,1,alpha=1)", "bias": "quantized_bits(8,3,1,alpha=1)", "activation": "quantized_relu(8,3)" },
        { "name": "uniform 4-bit QAT", "kernel": "quantized_bits(4,0,1,alpha=1)", "bias": "quantized_bits(4,2,1,alpha=1)", "activation": "quantized_relu(4,2)" } ],
      "study": {{JsonSerializer.Serialize(Path.GetFullPath(Path.Combine(dir, "study.sqlite")))}},
      "output": {{JsonSerializer.Serialize(Path.GetFullPath(Path.Combine(dir, "search")))}}
    }
    """;

    public static string Run(string outputDirectory, int trials, HardwareStep? hardware, Action<string> log, CancellationToken cancel = default)
    {
        var sw = Stopwatch.StartNew();
        var started = Process.GetCurrentProcess().StartTime.ToUniversalTime();
        double Elapsed() => Math.Max(sw.Elapsed.TotalSeconds, (DateTime.UtcNow - started).TotalSeconds);
        string dir = Files.SafeOutput.CheckDirectory(outputDirectory, Files.ArtefactKind.Run, "--out");
        Directory.CreateDirectory(dir);
        Files.SafeOutput.Mark(dir, Files.ArtefactKind.Run);
        Files.SafeOutput.WriteText(Path.Combine(dir, "train.json"), TrainConfigJson);
        Files.SafeOutput.WriteText(Path.Combine(dir, "search.json"), SearchConfigJson(trials, dir));
        {
            log("== 1/5 float training (embedded 8x8 digits, MLP 64-16-10)");
            var trainCfg = TrainConfig.Load(Path.Combine(dir, "train.json"));
            var floatResult = TrainJob.Run(trainCfg, Path.Combine(dir, "float"), null, r => { if (r.Epoch % 20 == 0) log($"   epoch {r.Epoch}/{r.Epochs} loss {r.Loss:F4} val_acc {r.ValAccuracy:P1}"); }, cancel);
            log($"   float model: test accuracy {floatResult.TestAccuracy:P2}");

            log($"== 2/5 heterogeneous quantization search ({trials} trials, TPE, EBOPs) with uniform baselines");
            var searchCfg = SearchConfig.Load(Path.Combine(dir, "search.json"));
            var job = new SearchJob(searchCfg, m => log("   " + m));
            var result = job.Run(false, p => log($"   trial {p.Done}/{p.Total}: {p.Trial.Kind} val_acc {p.Trial.Accuracy:P1} ebops {p.Trial.Cost:N0}"), m => log("   " + m), cancel);

            log("== 3/5 freeze, emulate, cost; 4/5 Verilog and simulation of the baselines and the best searched models");
            var splits = EvalJob.LoadData(Path.Combine(dir, "train.json"));
            var rows = new List<ReportRow>();
            rows.Add(new ReportRow("float", "float32", floatResult.TestAccuracy, null, null, null, null, null, floatResult.ModelDirectory));
            var picks = result.Trials.Where(t => t.Kind != "search" && t.IsDone).Select(t => (Name: t.Kind["baseline:".Length..], Trial: t)).ToList();
            if (result.Best is { } best) picks.Add(($"searched, best score (trial {best.Number})", best));
            var closest = result.Pareto.Where(t => t.Kind == "search" && t.Accuracy >= job.FloatAccuracy - 0.01).OrderBy(t => t.Cost).FirstOrDefault();
            if (closest is not null && closest.Number != result.Best?.Number) picks.Add(($"searched, cheapest within 1 validation point of float (trial {closest.Number})", closest));
            foreach (var (name, t) in picks)
            {
                var (model, meta) = ModelIO.Load(t.Model!);
                var ev = EvalJob.Run(model, meta.Name, splits.Test);
                var report = CostModel.Estimate(ev.Graph!);
                string q = string.Join(", ", t.Choice.Select(kv => $"{kv.Key}={kv.Value}"));
                log($"   {name}: test accuracy {ev.AccuracyEmulated:P2} (emulated, {ev.Mismatches} mismatches), EBOPs {report.Metric("ebops"):N0}");
                HardwareNumbers? hw = null;
                if (hardware is not null)
                {
                    log($"   hardware for '{name}':");
                    hw = hardware(t.Model!, Path.Combine(dir, "train.json"), Path.Combine(dir, "hw", $"trial-{t.Number:D4}"), m => log("   " + m));
                }
                rows.Add(new ReportRow(name, q, ev.AccuracyEmulated ?? ev.AccuracyFakeQuant, report.Metric("ebops"), report.Metric("bits"), report.Metric("energy"), ev.Mismatches, hw, t.Model));
            }
            if (hardware is null) log("   hardware: skipped");
            log("== 5/5 report");
            string reportFile = WriteReport(dir, rows, result, job.FloatAccuracy, Elapsed());
            log($"report: {reportFile} ({Elapsed():F0} s)");
            return reportFile;
        }
    }

    private static string WriteReport(string dir, List<ReportRow> rows, SearchResult search, double floatVal, double seconds)
    {
        var sb = new StringBuilder();
        sb.Append("# HetQ report: 8x8 digits, MLP 64-16-10\n\n");
        sb.Append($"Produced by `hetq run` in {seconds:F0} s (from the start of the process to the report) on {Environment.ProcessorCount} cores. Every number is measured on this run; energy is an estimate with QTools's Horowitz 45 nm model. A step that did not run shows no figure.\n\n");
        sb.Append("What ran for each model:\n\n");
        foreach (var r in rows.Skip(1))
            sb.Append($"- **{r.Name}**: frozen, emulated on the test set{(r.Hardware is { } hw ? $"; Verilog written; {(hw.Simulated ? $"simulated with {hw.Simulators.Replace("+", " and ", StringComparison.Ordinal)} ({hw.Vectors} vectors)" : "not simulated (no simulator installed)")}; {(hw.Luts is null ? "not synthesized" : "synthesized with Yosys")}; not placed and routed (Xilinx has no open place and route)" : "; hardware not run (--no-hardware)")}\n");
        sb.Append('\n');
        sb.Append("| model | test accuracy | EBOPs | parameter bits | energy (pJ, estimate) | emulation mismatches | sim vectors / mismatches | LUT (Yosys) | LUT (resource model, estimate) | FF | latency (cycles) | LUT levels (worst stage) | latency (ns, estimate) |\n");
        sb.Append("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        foreach (var r in rows)
        {
            var h = r.Hardware;
            sb.Append($"| {r.Name} | {r.TestAccuracy:P2} | {N(r.Ebops)} | {N(r.ParameterBits)} | {N(r.EnergyPj, "F1")} | {(r.Mismatches?.ToString() ?? "-")} | ");
            sb.Append(h is null ? "not run | not run | - | - | - | not run | - |\n"
                : $"{(h.Simulated ? $"{h.Vectors} / {h.Mismatches} ({h.Simulators})" : "not simulated")} | {(h.Luts is null ? "not synthesized" : N(h.Luts))} | {N(h.LutEstimate)} | {N(h.Ffs)} | {h.LatencyCycles} | {N(h.LutLevels)} | {N(h.LatencyNsEstimate, "F0")} |\n");
        }
        sb.Append("\nLUT (Yosys) is `synth_xilinx -family xcup -nodsp`; LUT (resource model) is HetQ's estimate from the integer graph "
                  + "(`hetq estimate --resources`, calibrated against Yosys); LUT levels are counted on the synthesized netlist; the latency in ns "
                  + "applies the Fmax model calibrated on ECP5 place and route to the worst stage's LUT levels and carry bits, so for Xilinx it is only indicative.\n");
        sb.Append($"\nSearch: {search.Trials.Count} trials ({search.Trials.Count(t => t.State == "failed")} failed), metric {search.Metric}, reference cost (int8) {search.ReferenceCost:N0}; float validation accuracy {floatVal:P2}.\n\n");
        sb.Append("![accuracy against EBOPs](search/pareto.png)\n\n");
        if (rows.Any(r => r.Hardware?.Luts is not null))
        {
            var plt = new ScottPlot.Plot();
            foreach (var r in rows.Where(r => r.Hardware?.Luts is not null))
            {
                var m = plt.Add.Marker(r.Hardware!.Luts!.Value, 100 * r.TestAccuracy, ScottPlot.MarkerShape.FilledCircle, 10);
                m.LegendText = r.Name;
            }
            var fl = plt.Add.HorizontalLine(100 * rows[0].TestAccuracy);
            fl.LegendText = "float";
            fl.LinePattern = ScottPlot.LinePattern.Dashed;
            plt.Axes.Bottom.Label.Text = "LUTs (Yosys)";
            plt.Axes.Left.Label.Text = "test accuracy (%)";
            plt.Title("accuracy against LUTs");
            plt.ShowLegend(ScottPlot.Alignment.LowerRight);
            plt.SavePng(Path.Combine(dir, "luts.png"), 900, 600);
            sb.Append("![accuracy against LUTs](luts.png)\n\n");
        }
        sb.Append("Quantizers of each model:\n\n");
        foreach (var r in rows) sb.Append($"- **{r.Name}**: {r.Quantization}\n");
        foreach (var r in rows.Where(r => r.Hardware?.Note is not null)) sb.Append($"\nNote ({r.Name}): {r.Hardware!.Note}\n");
        string file = Path.Combine(dir, "report.md");
        Files.SafeOutput.WriteText(file, sb.ToString());
        Files.SafeOutput.WriteText(Path.Combine(dir, "report.json"), JsonSerializer.Serialize(rows, new JsonSerializerOptions { WriteIndented = true }));
        return file;
    }

    private static string N(double? v, string f = "N0") => v is { } x ? x.ToString(f, System.Globalization.CultureInfo.InvariantCulture) : "-";
    private static string N(long? v) => v?.ToString("N0", System.Globalization.CultureInfo.InvariantCulture) ?? "-";
    private static string N(int? v) => v?.ToString("N0", System.Globalization.CultureInfo.InvariantCulture) ?? "-";
}
