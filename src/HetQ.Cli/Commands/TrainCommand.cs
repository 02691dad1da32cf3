using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using HetQ.Nn;
using HetQ.Training;

namespace HetQ.Cli.Commands;

/// <summary>`hetq train CONFIG.json [--out DIR] [--epochs N] [--json]`.</summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var config = new Argument<string>("config") { Description = "training configuration (JSON): data, model, loss, optimizer, schedule, epochs; see the README" };
        var output = new Option<string?>("--out") { Description = "model directory to write, relative to the current directory (default: the config's \"output\", relative to the config file, else runs/<name>)" };
        var epochs = new Option<int?>("--epochs") { Description = "override the configured number of epochs" };
        var json = new Option<bool>("--json") { Description = "progress to stderr; the last line on stdout is one JSON object with the results" };
        var progressOption = CliProgress.Option();
        var cmd = new Command("train", "Train a model from a configuration file and save it to a model directory.") { config, output, epochs, json, progressOption };
        cmd.SetAction((parse, cancel) =>
        {
            bool asJson = parse.GetValue(json);
            var progress = asJson ? Console.Error : Console.Out;
            var cfg = TrainConfig.Load(parse.GetValue(config)!);
            if (parse.GetValue(epochs) is int e)
            {
                if (e <= 0) throw new HetQException($"--epochs must be positive, given {e}");
                cfg = cfg with { Epochs = e };
            }
            var started = DateTime.UtcNow;
            // within an epoch: batches done, at most every 2 s, on stderr (a terminal, or --progress); --json's stdout stays clean
            var batches = CliProgress.Counted(parse.GetValue(progressOption))?.Counter("batch");
            int shownEpoch = 0;
            void OnBatch(int epoch, int done, int total)
            {
                if (epoch != shownEpoch) { shownEpoch = epoch; batches!.Restart(); }
                if (done < total) batches!.Report(done, total, $"epoch {epoch}/{cfg.Epochs}: ");
            }
            var result = TrainJob.Run(cfg, parse.GetValue(output), msg => progress.WriteLine(msg), r => progress.WriteLine(Format(r, started, cfg.Task.Kind)), cancel,
                batches is null ? null : OnBatch);
            if (asJson)
            {
                var task = result.Task ?? ModelTask.Classification;
                var o = new Dictionary<string, object?>();
                if (task.Kind == TaskKind.Classification) o["test_accuracy"] = result.TestAccuracy;
                else
                {
                    o["task"] = ModelTask.KindNames[(int)task.Kind];
                    o["metric"] = task.MetricName;
                    foreach (var (metric, value) in result.Test?.Present() ?? []) o["test_" + metric] = value;
                }
                o["test_loss"] = result.TestLoss;
                o["epochs"] = result.Epochs;
                o["seconds"] = Math.Round(result.Seconds, 3);
                o["model"] = result.ModelDirectory;
                o["best_epoch"] = result.History.BestEpoch;
                o["stopped_early"] = result.History.StoppedEarly;
                o["train_samples"] = result.TrainSamples;
                o["test_samples"] = result.TestSamples;
                o["parameters"] = result.Parameters;
                if (result.Pareto is { } front)
                {
                    o["pareto"] = front.Select(p => new
                    {
                        epoch = p.Epoch,
                        metric = p.Metric,
                        val_accuracy = p.Metric == "accuracy" ? p.ValAccuracy : (double?)null,
                        val_metric = p.ValAccuracy,
                        test_metric = p.TestMetric,
                        test_accuracy = p.TestAccuracy,
                        test_accuracy_fake_quant = p.TestAccuracyFakeQuant,
                        mismatches = p.Mismatches,
                        ebops = p.Ebops,
                        lut_estimate = p.LutEstimate,
                        model = p.Model,
                    }).ToList();
                    o["baselines"] = result.Baselines?.Select(b => new { label = b.Label, model = b.Model, val_accuracy = b.ValAccuracy, test_accuracy = b.TestAccuracy, ebops = b.Ebops }).ToList();
                    o["pareto_plot"] = result.ParetoPlot;
                    o["beta_steps"] = result.BetaSteps?.Select(b => new { epoch = b.Epoch, beta = b.Beta, ebops = b.Ebops }).ToList();
                }
                Console.WriteLine(CliJson.Serialize(o));
            }
            else
            {
                var task = result.Task ?? ModelTask.Classification;
                if (task.Kind == TaskKind.Classification)
                    Console.WriteLine($"test accuracy {result.TestAccuracy:P2}  test loss {result.TestLoss:F4}  ({result.TestSamples} samples)");
                else
                    Console.WriteLine($"test {string.Join("  ", (result.Test?.Present() ?? []).Select(m => $"{m.Name} {m.Value:G5}"))}  test loss {result.TestLoss:G5}  ({result.TestSamples} samples; task {ModelTask.KindNames[(int)task.Kind]}, metric {task.MetricName})");
                Console.WriteLine($"{result.Epochs} epochs in {result.Seconds:F1} s{(result.History.StoppedEarly ? " (stopped early)" : "")}; model saved to {result.ModelDirectory}");
                if (result.Pareto is { } front)
                {
                    string metric = front.FirstOrDefault()?.Metric ?? "accuracy";
                    string Show(double? v) => v is not double d ? "-" : metric == "accuracy" ? d.ToString("P2", CultureInfo.InvariantCulture) : d.ToString("G5", CultureInfo.InvariantCulture);
                    Console.WriteLine($"Pareto front ({front.Count} checkpoints; test {metric} of the frozen graph, emulated):");
                    foreach (var p in front)
                        Console.WriteLine($"  epoch {p.Epoch,3}  {p.Ebops,10:N0} EBOPs  val {Show(p.ValAccuracy)}  test {Show(p.TestMetric)}  mismatches {p.Mismatches}  LUT estimate {p.LutEstimate?.ToString("N0") ?? "-"}  {p.Model}");
                    foreach (var b in result.Baselines ?? [])
                        Console.WriteLine($"  baseline {b.Label}: {b.Ebops:N0} EBOPs  val {Show(b.ValAccuracy)}  test {Show(b.TestAccuracy)}");
                    Console.WriteLine($"plot: {result.ParetoPlot}");
                }
            }
            return Task.FromResult(0);
        });
        return cmd;
    }

    /// <summary>One epoch's line. Accuracy is shown for classifiers and binary taggers only: a regression's or an
    /// autoencoder's "accuracy" (argmax agreement of real-valued outputs) means nothing, so those show their losses.</summary>
    internal static string Format(EpochResult r, DateTime started, TaskKind kind = TaskKind.Classification)
    {
        double elapsed = (DateTime.UtcNow - started).TotalSeconds;
        double eta = r.Epoch < r.Epochs ? elapsed / r.Epoch * (r.Epochs - r.Epoch) : 0;
        bool accuracy = kind is TaskKind.Classification or TaskKind.Binary;
        string val = r.ValAccuracy is { } va ? $"  val_loss {r.ValLoss:F4}" + (accuracy ? $"  val_acc {va:P2}" : "") : "";
        string acc = accuracy ? $"  acc {r.Accuracy:P2}" : "";
        return $"epoch {r.Epoch,3}/{r.Epochs}  loss {r.Loss:F4}{acc}{val}  lr {r.LearningRate:G3}  {r.Seconds:F2} s  ETA {eta:F0} s{(r.Improved ? "  *" : "")}";
    }
}
