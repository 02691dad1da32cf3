using System.CommandLine;
using System.Text.Json;
using HetQ.Nn;
using HetQ.Quantization;
using HetQ.Training;

namespace HetQ.Cli.Commands;

/// <summary>`hetq eval MODEL --data DATA [--input-type T] [--json]`.</summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "model directory (from hetq train or hetq import)" };
        var data = new Option<string>("--data") { Description = "a training configuration (its data section) or a data-set configuration (JSON); the test part is used", Required = true };
        var input = new Option<string?>("--input-type") { Description = "fixed-point type of the input when the model has no input quantizer (default ap_fixed<16,6,RND_CONV,SAT>)" };
        var json = new Option<bool>("--json") { Description = "print one JSON object: samples, accuracy_float, accuracy_fake_quant, accuracy_emulated, mismatches" };
        var cmd = new Command("eval", "Accuracy of the float, fake-quantized and emulated (frozen integer) model, and how many samples the emulator gets differently from the fake-quantized model.")
        {
            model, data, input, json,
        };
        cmd.SetAction(parse =>
        {
            var (m, meta) = ModelIO.Load(parse.GetValue(model)!);
            var splits = EvalJob.LoadData(parse.GetValue(data)!);
            FixedFormat? fmt = parse.GetValue(input) is { } t ? FixedFormat.Parse(t) : null;
            var task = meta.TaskOrDefault;
            var r = EvalJob.Run(m, meta.Name, splits.Test, fmt, task);
            if (task.Kind != TaskKind.Classification) return Report(r, task, parse.GetValue(json));
            if (parse.GetValue(json))
            {
                Console.WriteLine(CliJson.Serialize(new
                {
                    samples = r.Samples,
                    accuracy_float = r.AccuracyFloat,
                    accuracy_fake_quant = r.AccuracyFakeQuant,
                    accuracy_emulated = r.AccuracyEmulated,
                    mismatches = r.Mismatches,
                    first_mismatch = r.FirstMismatch,
                    not_representable = r.Problems,
                    notes = r.Notes,
                }));
                return r.Mismatches is null or 0 ? ExitCodes.Ok : ExitCodes.CheckFailed;
            }
            Console.WriteLine($"samples               {r.Samples}");
            Console.WriteLine($"accuracy, float       {r.AccuracyFloat:P2}");
            Console.WriteLine($"accuracy, fake-quant  {r.AccuracyFakeQuant:P2}");
            if (r.AccuracyEmulated is { } ae)
            {
                Console.WriteLine($"accuracy, emulated    {ae:P2}");
                Console.WriteLine($"mismatches            {r.Mismatches} (samples whose emulated output differs from the fake-quantized one)");
                if (r.FirstMismatch is { } fm) Console.WriteLine($"first mismatch        {fm}");
            }
            else
            {
                Console.WriteLine("emulated              - (the model is not exactly representable in fixed point:)");
                foreach (var p in r.Problems) Console.WriteLine($"  - {p}");
            }
            foreach (var n in r.Notes) Console.WriteLine($"note: {n}");
            return r.Mismatches is null or 0 ? ExitCodes.Ok : ExitCodes.CheckFailed;
        });
        return cmd;
    }

    /// <summary>The task's metrics of the float, fake-quantized and emulated model (a regression's MSE, a tagger's or
    /// an autoencoder's AUC and signal efficiency) and the emulator's mismatches.</summary>
    private static int Report(EvalResult r, ModelTask task, bool json)
    {
        var parts = new (string Suffix, string Label, TaskScores? Scores)[] { ("float", "float", r.Float), ("fake_quant", "fake-quant", r.FakeQuant), ("emulated", "emulated", r.Emulated) };
        if (json)
        {
            var o = new Dictionary<string, object?>
            {
                ["samples"] = r.Samples,
                ["task"] = ModelTask.KindNames[(int)task.Kind],
                ["metric"] = task.MetricName,
            };
            foreach (var (suffix, _, scores) in parts)
                foreach (var (name, value) in scores?.Present() ?? []) o[$"{name}_{suffix}"] = value;
            o["mismatches"] = r.Mismatches;
            o["first_mismatch"] = r.FirstMismatch;
            o["not_representable"] = r.Problems;
            o["notes"] = r.Notes;
            Console.WriteLine(CliJson.Serialize(o));
            return r.Mismatches is null or 0 ? ExitCodes.Ok : ExitCodes.CheckFailed;
        }
        Console.WriteLine($"samples               {r.Samples}  (task {ModelTask.KindNames[(int)task.Kind]}, metric {task.MetricName})");
        foreach (var (_, label, scores) in parts)
            if (scores is not null)
                Console.WriteLine($"{label + ",",-21} {string.Join("  ", scores.Present().Select(m => $"{m.Name} {m.Value:G6}"))}");
        if (r.Mismatches is { } mm)
        {
            string what = task.Kind == TaskKind.Autoencoder ? "anomaly score" : "output";
            Console.WriteLine($"mismatches            {mm} (samples whose emulated {what} differs from the fake-quantized one)");
            if (r.FirstMismatch is { } fm) Console.WriteLine($"first mismatch        {fm}");
        }
        else
        {
            Console.WriteLine("emulated              - (the model is not exactly representable in fixed point:)");
            foreach (var p in r.Problems) Console.WriteLine($"  - {p}");
        }
        foreach (var n in r.Notes) Console.WriteLine($"note: {n}");
        return r.Mismatches is null or 0 ? ExitCodes.Ok : ExitCodes.CheckFailed;
    }
}
