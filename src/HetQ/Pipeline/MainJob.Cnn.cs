using System.Diagnostics;
using System.Text;
using HetQ.Cost;
using HetQ.Nn;
using HetQ.Training;

namespace HetQ.Pipeline;

/// <summary>The main job's streamed CNN: its row (trained, frozen, emulated and, when the hardware flow ran, streamed,
/// simulated and synthesized) and the section's wall-clock seconds.</summary>
public sealed record CnnSection(ReportRow Row, double Seconds, int ValidationSamples, int TestSamples);

public static partial class MainJob
{
    /// <summary>The small CNN of <c>examples/digits-cnn.json</c> on the main job's splits (the same test samples as the MLPs).</summary>
    public static string CnnConfigJson(int seed = 42) => $$"""
    {
      "name": "digits-cnn",
      "seed": {{seed}},
      "data": { "name": "digits", "seed": {{seed}}, "validation_fraction": {{ValidationFraction.ToString(System.Globalization.CultureInfo.InvariantCulture)}}, "test_fraction": 0.2, "shape": [8, 8, 1] },
      "model": { "layers": [
        { "type": "conv2d", "filters": 8, "kernel_size": 3, "activation": "relu", "name": "conv1" },
        { "type": "flatten" },
        { "type": "dense", "units": 10, "name": "output" } ] },
      "quantization": {
        "input": "ap_ufixed<5,1,RND_CONV,SAT>",
        "default": { "kernel": "quantized_bits(6,0,alpha=1)", "bias": "quantized_bits(6,0,alpha=1)", "activation": "quantized_relu(6,1)" },
        "layers": { "output": { "kernel": "quantized_bits(8,1,alpha=1)", "bias": "quantized_bits(8,2,alpha=1)" } } },
      "loss": "softmax_cross_entropy",
      "optimizer": { "type": "adam", "learning_rate": 0.003 },
      "schedule": { "type": "cosine", "warmup_epochs": 1 },
      "epochs": 30, "batch_size": 32
    }
    """;

    private const string CnnQuantization = "input ap_ufixed<5,1>; conv1 6-bit kernel and bias, quantized_relu(6,1); output 8-bit kernel and bias (quantization-aware training, see cnn.json)";

    private static CnnSection RunCnn(string dir, HardwareStep? hardware, Action<string> log, CancellationToken cancel)
    {
        var sw = Stopwatch.StartNew();
        string config = Path.Combine(dir, "cnn.json");
        var result = TrainJob.Run(TrainConfig.Load(config), Path.Combine(dir, "cnn"), null,
            r => { if (r.Epoch % 10 == 0) log($"   epoch {r.Epoch}/{r.Epochs} loss {r.Loss:F4} val_acc {r.ValAccuracy:P1}"); }, cancel);
        var (model, meta) = ModelIO.Load(result.ModelDirectory);
        var splits = EvalJob.LoadData(config);
        var val = EvalJob.Run(model, meta.Name, splits.Validation);
        var ev = EvalJob.Run(model, meta.Name, splits.Test);
        if (ev.Graph is null) throw new HetQException($"{config}: the CNN does not freeze ({string.Join("; ", ev.Problems)})");
        var cost = CostModel.Estimate(ev.Graph);
        log($"   CNN: validation {val.AccuracyEmulated:P2}, test accuracy {ev.AccuracyEmulated:P2} (emulated, {ev.Mismatches} mismatches), EBOPs {cost.Metric("ebops"):N0}");
        HardwareNumbers? hw = null;
        if (hardware is not null)
        {
            log("   hardware for the CNN (streaming):");
            hw = hardware(result.ModelDirectory, config, Path.Combine(dir, "hw", "cnn-stream"), m => log("   " + m), Hardware.HardwareIo.Stream);
        }
        var row = new ReportRow("CNN conv 3x3x8, flatten, dense 10 (streamed)", CnnQuantization, ev.AccuracyEmulated ?? ev.AccuracyFakeQuant, cost.Metric("ebops"),
            cost.Metric("bits"), cost.Metric("energy"), ev.Mismatches, hw, result.ModelDirectory, val.AccuracyEmulated);
        log($"   CNN section: {sw.Elapsed.TotalSeconds:F0} s");
        return new CnnSection(row, sw.Elapsed.TotalSeconds, splits.Validation.Count, splits.Test.Count);
    }

    /// <summary>The report's CNN section: what ran, and a figure only for a step that ran.</summary>
    internal static void AppendCnn(StringBuilder sb, CnnSection cnn)
    {
        var r = cnn.Row;
        var h = r.Hardware;
        sb.Append("\n## Streamed CNN on the 8x8 digits\n\n");
        sb.Append($"conv 3x3, 8 filters ('valid', ReLU), flatten, dense 10, trained with fixed quantizers ({r.Quantization}) on the same splits, frozen and emulated; ");
        sb.Append(h is null ? "hardware not run (--no-hardware)." : h.Streaming
            ? $"written as a streaming design (one pixel of the 8x8 image per clock, `hetq hw write --io stream`); {(h.Simulated ? $"simulated with {h.Simulators.Replace("+", " and ", StringComparison.Ordinal)} ({h.Vectors} images: the {cnn.TestSamples} test images and random ones, fed with random gaps in in_valid)" : "not simulated (no simulator installed)")}; {(h.Luts is null ? "not synthesized" : "synthesized with Yosys")}."
            : "written as a parallel design (the streaming writer refused it).");
        sb.Append($" The section took {cnn.Seconds:F0} s.\n\n");
        sb.Append("| model | validation accuracy | test accuracy | EBOPs | emulation mismatches | sim images / mismatches | LUT (Yosys) | FF | CARRY4 | cycles per image (initiation interval) | latency (clocks after the last pixel) |\n");
        sb.Append("|---|---|---|---|---|---|---|---|---|---|---|\n");
        sb.Append($"| {r.Name} | {(r.ValAccuracy is double v ? v.ToString("P2", System.Globalization.CultureInfo.InvariantCulture) : "-")} | {r.TestAccuracy:P2} | {N(r.Ebops)} | {(r.Mismatches?.ToString() ?? "-")} | ");
        sb.Append(h is null ? "not run | not run | - | - | - | - |\n"
            : $"{(h.Simulated ? $"{h.Vectors} / {h.Mismatches} ({h.Simulators})" : "not simulated")} | {(h.Luts is null ? "not synthesized" : N(h.Luts))} | {N(h.Ffs)} | {N(h.Carry)} | {h.InitiationInterval} | {h.LatencyCycles} |\n");
        sb.Append("\nThe cycles per image and the latency are the design's (its manifest); the simulation feeds the images with gaps and checks every output pulse against the emulator. ");
        sb.Append("The resource model and the LUT-level timing cover parallel designs only, so this row has neither.\n");
        if (h?.Note is { } note) sb.Append($"\nNote (CNN): {note}\n");
    }
}
