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
    int? Mismatches, HardwareNumbers? Hardware, string? ModelDirectory, double? ValAccuracy = null);

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
/// uniform baselines, a learned-bit-width run (its Pareto front), freezing, cost estimates, emulation checks, hardware
/// (when a hardware step is given) and a Markdown report with plots and a headline model chosen on validation
/// accuracy.</summary>
public static class MainJob
{
    public const string TrainConfigJson = """
    {
      "name": "digits-float",
      "seed": 42,
      "data": { "name": "digits", "validation_fraction": 0.2, "test_fraction": 0.2 },
      "model": { "layers": [
        { "type": "dense", "units": 32, "activation": "relu", "name": "fc1" },
        { "type": "dense", "units": 10, "name": "output" } ] },
      "optimizer": { "type": "adam", "learning_rate": 0.005 },
      "schedule": { "type": "cosine", "warmup_epochs": 1 },
      "epochs": 60, "batch_size": 32
    }
    """;

    /// <summary>Learned bit widths from the float model: every weight, input pixel and activation its own width, a
    /// log ramp of beta over the epochs and a cosine learning-rate decay, so the last epochs settle.</summary>
    public const string LearnedConfigJson = """
    {
      "name": "digits-learned",
      "seed": 42,
      "data": { "name": "digits", "validation_fraction": 0.2, "test_fraction": 0.2 },
      "model": { "layers": [
        { "type": "dense", "units": 32, "activation": "relu", "name": "fc1" },
        { "type": "dense", "units": 10, "name": "output" } ] },
      "optimizer": { "type": "adam", "learning_rate": 0.003 },
      "schedule": { "type": "cosine" },
      "epochs": 150, "batch_size": 32,
      "initial_weights": "float",
      "bitwidths": {
        "input": { "granularity": "element", "init": 3, "min": -2, "max": 6 },
        "kernel": { "granularity": "weight", "init": 4, "min": -4, "max": 8 },
        "bias": { "granularity": "channel", "init": 6, "min": 0, "max": 10 },
        "activation": { "granularity": "element", "init": 3, "min": -2, "max": 8 },
        "beta": { "schedule": "log", "start": 1e-6, "end": 1e-4 }
      }
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
        Files.SafeOutput.WriteText(Path.Combine(dir, "learned.json"), LearnedConfigJson);
        {
            log("== 1/6 float training (embedded 8x8 digits, MLP 64-32-10)");
            var trainCfg = TrainConfig.Load(Path.Combine(dir, "train.json"));
            var floatResult = TrainJob.Run(trainCfg, Path.Combine(dir, "float"), null, r => { if (r.Epoch % 20 == 0) log($"   epoch {r.Epoch}/{r.Epochs} loss {r.Loss:F4} val_acc {r.ValAccuracy:P1}"); }, cancel);
            log($"   float model: test accuracy {floatResult.TestAccuracy:P2}");

            log($"== 2/6 heterogeneous quantization search ({trials} trials, TPE, EBOPs) with uniform baselines");
            var searchCfg = SearchConfig.Load(Path.Combine(dir, "search.json"));
            var job = new SearchJob(searchCfg, m => log("   " + m));
            var result = job.Run(false, p => log($"   trial {p.Done}/{p.Total}: {p.Trial.KindName} val_acc {p.Trial.Accuracy:P1} ebops {p.Trial.Cost:N0}"), m => log("   " + m), cancel);

            log("== 3/6 learned bit widths from the float model (per weight, per input pixel, per activation; beta log ramp 1e-6 to 1e-4)");
            var learnedCfg = TrainConfig.Load(Path.Combine(dir, "learned.json"));
            var learned = TrainJob.Run(learnedCfg, Path.Combine(dir, "learned"), null,
                r => { if (r.Epoch % 25 == 0) log($"   epoch {r.Epoch}/{r.Epochs} loss {r.Loss:F4} val_acc {r.ValAccuracy:P1}"); }, cancel);
            var front = learned.Pareto ?? [];
            log($"   Pareto front: {front.Count} epochs, {(front.Count == 0 ? "-" : $"{front.Min(p => p.Ebops):N0} to {front.Max(p => p.Ebops):N0}")} EBOPs");

            log("== 4/6 freeze, emulate, cost; 5/6 Verilog, simulation and synthesis of the baselines and the chosen models");
            var splits = EvalJob.LoadData(Path.Combine(dir, "train.json"));
            double floatVal = job.FloatAccuracy;
            var rows = new List<ReportRow>();
            rows.Add(new ReportRow("float", "float32", floatResult.TestAccuracy, null, null, null, null, null, floatResult.ModelDirectory, floatVal));
            var picks = result.Trials.Where(t => t.Kind == TrialKind.Baseline && t.IsDone)
                .Select(t => (Name: t.Baseline!, Model: t.Model!, Quantization: Choice(t), Val: t.Accuracy, Hw: $"trial-{t.Number:D4}")).ToList();
            if (result.Best is { } best) picks.Add(($"searched, best score (trial {best.Number})", best.Model!, Choice(best), best.Accuracy, $"trial-{best.Number:D4}"));
            var closest = result.Pareto.Where(t => t.IsSearch && t.Accuracy >= floatVal - 0.01).OrderBy(t => t.Cost).FirstOrDefault();
            if (closest is not null && closest.Number != result.Best?.Number)
                picks.Add(($"searched, cheapest within 1 validation point of float (trial {closest.Number})", closest.Model!, Choice(closest), closest.Accuracy, $"trial-{closest.Number:D4}"));
            // From the learned front: the cheapest epoch within 1 validation point of float (else the most accurate one).
            var chosen = front.Where(p => p.ValAccuracy >= floatVal - 0.01).OrderBy(p => p.Ebops).FirstOrDefault()
                         ?? front.OrderByDescending(p => p.ValAccuracy).FirstOrDefault();
            if (chosen is not null)
            {
                string why = chosen.ValAccuracy >= floatVal - 0.01 ? "cheapest within 1 validation point of float" : "most accurate on validation (none within 1 point of float)";
                picks.Add(($"learned widths, {why} (epoch {chosen.Epoch})", chosen.Model, "learned per weight / input pixel / activation (see learned.json)", chosen.ValAccuracy, $"learned-epoch-{chosen.Epoch:D3}"));
            }
            foreach (var (name, modelDir, q, val, hwDir) in picks)
            {
                var (model, meta) = ModelIO.Load(modelDir);
                var ev = EvalJob.Run(model, meta.Name, splits.Test);
                var report = CostModel.Estimate(ev.Graph!);
                log($"   {name}: validation {val:P2}, test accuracy {ev.AccuracyEmulated:P2} (emulated, {ev.Mismatches} mismatches), EBOPs {report.Metric("ebops"):N0}");
                HardwareNumbers? hw = null;
                if (hardware is not null)
                {
                    log($"   hardware for '{name}':");
                    hw = hardware(modelDir, Path.Combine(dir, "train.json"), Path.Combine(dir, "hw", hwDir), m => log("   " + m));
                }
                rows.Add(new ReportRow(name, q, ev.AccuracyEmulated ?? ev.AccuracyFakeQuant, report.Metric("ebops"), report.Metric("bits"), report.Metric("energy"), ev.Mismatches, hw, modelDir, val));
            }
            if (hardware is null) log("   hardware: skipped");
            log("== 6/6 report");
            var headline = Headline(rows, floatVal);
            if (headline is not null) log("   " + headline.Replace("**", "", StringComparison.Ordinal));
            string reportFile = WriteReport(dir, rows, result, floatVal, Elapsed(), headline, learned.ParetoPlot is null ? null : Path.GetRelativePath(dir, learned.ParetoPlot), log);
            log($"report: {reportFile} ({Elapsed():F0} s)");
            return reportFile;
        }
    }

    private static string Choice(TrialRecord t) => string.Join(", ", t.Choice.Select(kv => $"{kv.Key}={kv.Value}"));

    /// <summary>The headline: of the quantized models whose validation accuracy is within 1 point of float's, the one
    /// with the fewest LUTs (Yosys when synthesis ran, else the resource model's estimate, labelled), against the
    /// uniform 16-bit model; the test accuracies beside it say whether it held on unseen data.</summary>
    internal static string? Headline(IReadOnlyList<ReportRow> rows, double floatVal)
    {
        var baseline = rows.FirstOrDefault(r => r.Name == "uniform 16-bit");
        var flt = rows[0];
        bool synth = rows.Any(r => r.Hardware?.Luts is not null);
        long? Lut(ReportRow r) => synth ? r.Hardware?.Luts : r.Hardware?.LutEstimate;
        if (baseline is null || Lut(baseline) is not long b) return null;
        var pick = rows.Skip(1).Where(r => r != baseline && r.ValAccuracy >= floatVal - 0.01 && Lut(r) is not null).OrderBy(r => Lut(r)).FirstOrDefault();
        string what = synth ? "LUTs (Yosys)" : "LUTs (resource model estimate; not synthesized)";
        if (pick is null) return $"**Headline**: no quantized model came within 1 validation point of float ({floatVal:P2}); uniform 16-bit: {b:N0} {what}.";
        long l = Lut(pick)!.Value;
        double gap = 100 * (flt.TestAccuracy - pick.TestAccuracy);
        bool met = gap <= 1.0 && b >= 10 * l;
        return $"**Headline**: {pick.Name}: {l:N0} {what} against {b:N0} for the uniform 16-bit model, **{(double)b / Math.Max(l, 1):F1}x fewer**, "
               + $"at {pick.TestAccuracy:P2} test accuracy (float {flt.TestAccuracy:P2}: {(gap >= 0 ? $"{gap:F2} points below" : $"{-gap:F2} points above")}; validation {pick.ValAccuracy:P2} against float's {floatVal:P2}). "
               + $"Target (>= 10x fewer LUTs, within 1 test point of float): {(met ? "met" : "not met")}.";
    }

    private static string WriteReport(string dir, List<ReportRow> rows, SearchResult search, double floatVal, double seconds, string? headline, string? learnedPlot,
        Action<string> log)
    {
        var sb = new StringBuilder();
        sb.Append("# HetQ report: 8x8 digits, MLP 64-32-10\n\n");
        if (headline is not null) sb.Append(headline).Append("\n\n");
        sb.Append($"Produced by `hetq run` in {seconds:F0} s (from the start of the process to the report) on {Environment.ProcessorCount} cores. Every number is measured on this run; energy is an estimate with QTools's Horowitz 45 nm model. A step that did not run shows no figure.\n\n");
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
            sb.Append("Learned bit widths: every epoch's (validation accuracy, EBOPs), the Pareto front kept as checkpoints in `learned/pareto/`; the chosen epoch is the cheapest within 1 validation point of float.\n\n")
              .Append($"![learned-width Pareto front]({learnedPlot.Replace('\\', '/')})\n\n");
        var synthesized = rows.Where(r => r.Hardware?.Luts is not null).Select(r => (r.Name, (long)r.Hardware!.Luts!.Value, r.TestAccuracy)).ToList();
        string luts = Path.Combine(dir, "luts.png");
        if (synthesized.Count > 0 && Plotting.TryDraw(luts, w => w.Luts(luts, synthesized, rows[0].TestAccuracy), log))
            sb.Append("![accuracy against LUTs](luts.png)\n\n");
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
