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
    int? Mismatches, HardwareNumbers? Hardware, string? ModelDirectory, double? ValAccuracy = null, PairedGap? ValVsFloat = null);

/// <summary>Numbers from the hardware flow (simulation and synthesis), when it ran.</summary>
public sealed record HardwareNumbers(int Vectors, int Mismatches, string Simulators, int? Luts, int? Ffs, int? Carry, int? Dsp, int LatencyCycles, string? Note,
    long? LutEstimate = null, int? LutLevels = null, double? FmaxEstimateMhz = null)
{
    /// <summary>True when at least one simulator ran.</summary>
    public bool Simulated => Simulators != "none";

    /// <summary>The latency in ns at the estimated Fmax (one clock period for a combinational design).</summary>
    public double? LatencyNsEstimate => FmaxEstimateMhz is double f && f > 0 ? Math.Max(LatencyCycles, 1) * 1000.0 / f : null;

    /// <summary>Clocks between images (1 for a parallel design; H·W pixel clocks for a streaming one), from the design's manifest.</summary>
    public int InitiationInterval { get; init; } = 1;

    /// <summary>True for a streaming design (one pixel per clock).</summary>
    public bool Streaming { get; init; }
}

/// <summary>Runs the hardware steps for a frozen model directory (Verilog, simulation, synthesis); null when the hardware flow is not available.</summary>
public delegate HardwareNumbers? HardwareStep(string modelDirectory, string dataFile, string outputDirectory, Action<string> log, HetQ.Hardware.HardwareIo io);

/// <summary>The main job on the embedded digits: float training, a short heterogeneous quantization search with
/// uniform baselines, a learned-bit-width run (its Pareto front), a selection on validation data only (paired against
/// float, with one standard error to spare), freezing, cost estimates, emulation checks, hardware (when a hardware step
/// is given), a streamed CNN, and a Markdown report with plots and a headline.</summary>
public static partial class MainJob
{
    /// <summary>The share of the non-test samples held out for validation: 431 of the 1,438 (the test split keeps 359).</summary>
    public const double ValidationFraction = 0.3;

    private static string Data(int seed) =>
        $$"""{ "name": "digits", "seed": {{seed}}, "validation_fraction": {{ValidationFraction.ToString(System.Globalization.CultureInfo.InvariantCulture)}}, "test_fraction": 0.2 }""";

    public static string TrainConfigJson(int seed = 42) => $$"""
    {
      "name": "digits-float",
      "seed": {{seed}},
      "data": {{Data(seed)}},
      "model": { "layers": [
        { "type": "dense", "units": 32, "activation": "relu", "name": "fc1" },
        { "type": "dense", "units": 10, "name": "output" } ] },
      "optimizer": { "type": "adam", "learning_rate": 0.005 },
      "schedule": { "type": "cosine", "warmup_epochs": 1 },
      "epochs": 60, "batch_size": 32
    }
    """;

    /// <summary>Learned bit widths from the float model: every weight, input pixel and activation its own width, a
    /// log ramp of beta over 600 epochs (about 8 s on the 1,007 training images) and a cosine learning-rate decay, so
    /// the last epochs settle; label smoothing 0.1 keeps the cheap models' test accuracy closer to float's (measured on
    /// seed 42: about 1 point more test accuracy at the same EBOPs).</summary>
    public static string LearnedConfigJson(int seed = 42) => $$"""
    {
      "name": "digits-learned",
      "seed": {{seed}},
      "data": {{Data(seed)}},
      "model": { "layers": [
        { "type": "dense", "units": 32, "activation": "relu", "name": "fc1" },
        { "type": "dense", "units": 10, "name": "output" } ] },
      "optimizer": { "type": "adam", "learning_rate": 0.003 },
      "loss": { "type": "softmax_cross_entropy", "label_smoothing": 0.1 },
      "schedule": { "type": "cosine" },
      "epochs": 600, "batch_size": 32,
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

    public static string SearchConfigJson(int trials, string dir, int seed = 42) => $$"""
    {
      "name": "digits-search",
      "train": "train.json",
      "initial_weights": "float",
      "input": "ap_ufixed<5,1,RND_CONV,SAT>",
      "trials": {{trials}}, "epochs": 20, "learning_rate": 0.002,
      "strategy": { "type": "tpe", "startup_trials": 6, "seed": {{seed}} },
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

    private const string Rule = "cheapest (resource-model LUTs) whose paired validation accuracy against float, less one standard error, is within 1 point";

    public static string Run(string outputDirectory, int trials, HardwareStep? hardware, Action<string> log, CancellationToken cancel = default, int seed = 42)
    {
        var sw = Stopwatch.StartNew();
        var started = Process.GetCurrentProcess().StartTime.ToUniversalTime();
        double Elapsed() => Math.Max(sw.Elapsed.TotalSeconds, (DateTime.UtcNow - started).TotalSeconds);
        string dir = Files.SafeOutput.CheckDirectory(outputDirectory, Files.ArtefactKind.Run, "--out");
        Directory.CreateDirectory(dir);
        Files.SafeOutput.Mark(dir, Files.ArtefactKind.Run);
        Files.SafeOutput.WriteText(Path.Combine(dir, "train.json"), TrainConfigJson(seed));
        Files.SafeOutput.WriteText(Path.Combine(dir, "search.json"), SearchConfigJson(trials, dir, seed));
        Files.SafeOutput.WriteText(Path.Combine(dir, "learned.json"), LearnedConfigJson(seed));
        Files.SafeOutput.WriteText(Path.Combine(dir, "cnn.json"), CnnConfigJson(seed));

        log($"== 1/7 float training (embedded 8x8 digits, MLP 64-32-10, seed {seed})");
        var trainCfg = TrainConfig.Load(Path.Combine(dir, "train.json"));
        var floatResult = TrainJob.Run(trainCfg, Path.Combine(dir, "float"), null, r => { if (r.Epoch % 20 == 0) log($"   epoch {r.Epoch}/{r.Epochs} loss {r.Loss:F4} val_acc {r.ValAccuracy:P1}"); }, cancel);
        log($"   float model: test accuracy {floatResult.TestAccuracy:P2}");

        log($"== 2/7 heterogeneous quantization search ({trials} trials, TPE, EBOPs) with uniform baselines");
        var searchCfg = SearchConfig.Load(Path.Combine(dir, "search.json"));
        var job = new SearchJob(searchCfg, m => log("   " + m));
        var result = job.Run(false, p => log($"   trial {p.Done}/{p.Total}: {p.Trial.KindName} val_acc {p.Trial.Accuracy:P1} ebops {p.Trial.Cost:N0}"), m => log("   " + m), cancel);

        log("== 3/7 learned bit widths from the float model (per weight, per input pixel, per activation; 600 epochs, beta log ramp 1e-6 to 1e-4, label smoothing 0.1)");
        var learnedCfg = TrainConfig.Load(Path.Combine(dir, "learned.json"));
        var learned = TrainJob.Run(learnedCfg, Path.Combine(dir, "learned"), null,
            r => { if (r.Epoch % 100 == 0) log($"   epoch {r.Epoch}/{r.Epochs} loss {r.Loss:F4} val_acc {r.ValAccuracy:P1}"); }, cancel);
        var front = learned.Pareto ?? [];
        log($"   Pareto front: {front.Count} epochs, {(front.Count == 0 ? "-" : $"{front.Min(p => p.Ebops):N0} to {front.Max(p => p.Ebops):N0}")} EBOPs");

        var splits = EvalJob.LoadData(Path.Combine(dir, "train.json"));
        var floatCorrect = Selection.FloatCorrect(ModelIO.Load(floatResult.ModelDirectory).Model, splits.Validation);
        double floatVal = floatCorrect.Count(c => c) / (double)Math.Max(1, floatCorrect.Length);
        log($"== 4/7 selection on the {splits.Validation.Count} validation samples (float {floatVal:P2}): {Rule}");
        PairedGap Gap(string model) { var (m, meta) = ModelIO.Load(model); return Selection.Compare(Selection.EmulatedCorrect(m, meta.Name, splits.Validation), floatCorrect); }
        long LutOf(string model) { var (m, meta) = ModelIO.Load(model); var f = Freezer.Freeze(m, meta.Name); return f.Graph is null ? long.MaxValue : Hardware.ResourceModel.Estimate(f.Graph).Lut; }
        var picks = result.Trials.Where(t => t.Kind == TrialKind.Baseline && t.IsDone)
            .Select(t => (Name: t.Baseline!, Model: t.Model!, Quantization: Choice(t), Val: t.Accuracy, Hw: $"trial-{t.Number:D4}")).ToList();
        if (result.Best is { } best) picks.Add(($"searched, best score (trial {best.Number})", best.Model!, Choice(best), best.Accuracy, $"trial-{best.Number:D4}"));
        var searched = Selection.Cheapest(result.Pareto.Where(t => t.IsSearch && t.Model is not null).Select(t => (Item: t, Cost: (double)LutOf(t.Model!), Gap: Gap(t.Model!))));
        if (searched is { } s && s.Pick.Number != result.Best?.Number)
            picks.Add(($"searched, {(s.Within ? "cheapest within 1 validation point of float" : "closest to float on validation (none within 1 point)")} (trial {s.Pick.Number})",
                s.Pick.Model!, Choice(s.Pick), s.Pick.Accuracy, $"trial-{s.Pick.Number:D4}"));
        var chosen = Selection.Cheapest(front.Select(p => (Item: p, Cost: (double)(p.LutEstimate ?? LutOf(p.Model)), Gap: Gap(p.Model))));
        if (chosen is { } c)
        {
            string why = c.Within ? "cheapest within 1 validation point of float" : "closest to float on validation (none within 1 point)";
            picks.Add(($"learned widths, {why} (epoch {c.Pick.Epoch})", c.Pick.Model, "learned per weight / input pixel / activation (see learned.json)", c.Pick.ValAccuracy, $"learned-epoch-{c.Pick.Epoch:D3}"));
        }
        log($"   {front.Count} learned checkpoints and {result.Pareto.Count(t => t.IsSearch)} searched Pareto trials compared with float on validation");

        log("== 5/7 freeze, emulate, cost; Verilog, simulation and synthesis of the baselines and the chosen models");
        var rows = new List<ReportRow>
        {
            new("float", "float32", floatResult.TestAccuracy, null, null, null, null, null, floatResult.ModelDirectory, floatVal),
        };
        foreach (var (name, modelDir, q, _, hwDir) in picks)
        {
            var (model, meta) = ModelIO.Load(modelDir);
            var gap = Gap(modelDir);
            double val = floatVal + gap.Difference; // the emulated validation accuracy, as the selection saw it
            var ev = EvalJob.Run(model, meta.Name, splits.Test);
            var report = CostModel.Estimate(ev.Graph!);
            log($"   {name}: validation {val:P2} ({gap.Describe()}), test accuracy {ev.AccuracyEmulated:P2} (emulated, {ev.Mismatches} mismatches), EBOPs {report.Metric("ebops"):N0}, ~{LutOf(modelDir):N0} LUTs (resource model)");
            HardwareNumbers? hw = null;
            if (hardware is not null)
            {
                log($"   hardware for '{name}':");
                hw = hardware(modelDir, Path.Combine(dir, "train.json"), Path.Combine(dir, "hw", hwDir), m => log("   " + m), Hardware.HardwareIo.Parallel);
            }
            rows.Add(new ReportRow(name, q, ev.AccuracyEmulated ?? ev.AccuracyFakeQuant, report.Metric("ebops"), report.Metric("bits"), report.Metric("energy"), ev.Mismatches, hw, modelDir, val, gap));
        }
        if (hardware is null) log("   hardware: skipped");

        log("== 6/7 streamed CNN (8x8x1 digits: conv 3x3x8, flatten, dense 10; one pixel per clock)");
        var cnn = RunCnn(dir, hardware, log, cancel);

        log("== 7/7 report");
        var headline = Headline(rows);
        if (headline is not null) log("   " + headline.Replace("**", "", StringComparison.Ordinal));
        string reportFile = WriteReport(dir, rows, result, floatVal, splits, Elapsed(), headline, learned.ParetoPlot is null ? null : Path.GetRelativePath(dir, learned.ParetoPlot), cnn, seed, log);
        log($"report: {reportFile} ({Elapsed():F0} s)");
        return reportFile;
    }

    private static string Choice(TrialRecord t) => string.Join(", ", t.Choice.Select(kv => $"{kv.Key}={kv.Value}"));
}
