using HetQ.Cost;
using HetQ.Data;
using HetQ.Graph;
using HetQ.Hardware;
using HetQ.Nn;

namespace HetQ.Training;

/// <summary>One checkpoint of a learned-width run's Pareto front: the epoch, its validation quality by the task's
/// metric (fake-quantized; accuracy for a classifier, as the trainer measured it) and EBOPs (of the frozen graph);
/// after training, the test accuracy or task metric of the frozen graph (emulated, with the count of samples whose
/// outputs differ from fake quantization) and the resource-model LUT estimate.</summary>
public sealed record ParetoPoint(int Epoch, double ValAccuracy, long Ebops, string Model)
{
    /// <summary>The metric <see cref="ValAccuracy"/> and <see cref="TestMetric"/> are in (accuracy, auc, mse...).</summary>
    public string Metric { get; init; } = "accuracy";

    /// <summary>The test value of <see cref="Metric"/> of the frozen graph, emulated.</summary>
    public double? TestMetric { get; init; }

    public double? TestAccuracy { get; init; }
    public double? TestAccuracyFakeQuant { get; init; }
    public int? Mismatches { get; init; }
    public long? LutEstimate { get; init; }
}

/// <summary>A model evaluated beside the front (a uniform baseline): validation and test accuracy of its frozen graph, EBOPs.</summary>
public sealed record BaselinePoint(string Label, string Model, double ValAccuracy, double TestAccuracy, long Ebops);

/// <summary>Keeps the non-dominated (validation quality by the task's metric up, or down for MSE/MAE; EBOPs down)
/// epochs of a run as checkpoints under <c>OUTPUT/pareto/epoch-NNN</c>, freezing and costing the model after every epoch;
/// with <paramref name="streamFront"/> the cost is the resource model's LUT estimate of the design <c>hw write</c> writes by
/// default (streamed for a CNN that streams) instead of EBOPs.</summary>
public sealed class ParetoTracker(Model model, string name, string directory, Func<ModelMetadata> metadata, Action<string>? log,
    ModelTask? task = null, Dataset? validation = null, bool streamFront = false)
{
    /// <summary>The output's subdirectory that holds the checkpoints.</summary>
    public const string Folder = "pareto";

    private readonly ModelTask _task = task ?? ModelTask.Classification;

    /// <summary>Whether quality <paramref name="a"/> is at least as good as <paramref name="b"/>.</summary>
    private bool AtLeast(double a, double b) => _task.HigherIsBetter ? a >= b : a <= b;

    private readonly List<ParetoPoint> _front = [];
    private readonly List<(int Epoch, double Val, long Ebops)> _all = [];

    /// <summary>Every epoch's (epoch, validation accuracy, EBOPs), dominated or not.</summary>
    public IReadOnlyList<(int Epoch, double Val, long Ebops)> All => _all;

    public IReadOnlyList<ParetoPoint> Front => _front;

    public void OnEpoch(EpochResult r)
    {
        var freeze = Freezer.Freeze(model, name);
        if (freeze.Graph is null)
        {
            log?.Invoke($"epoch {r.Epoch}: not frozen ({string.Join("; ", freeze.Problems)})");
            return;
        }
        long ebops = CostModel.Estimate(freeze.Graph).Total.Ebops;
        double val = r.ValAccuracy ?? r.Accuracy;
        if (_task.Kind != TaskKind.Classification && validation is { Count: > 0 })
            val = TaskMetrics.Measure(_task, TaskMetrics.Doubles(Inference.Predict(model, validation)), Tensor.Size(model.OutputShape), validation)
                .Value(_task.Metric) ?? double.NaN;
        if (double.IsNaN(val))
        {
            log?.Invoke($"epoch {r.Epoch}: no validation {_task.MetricName} (the validation split lacks a class); not on the front");
            return;
        }
        _all.Add((r.Epoch, val, ebops));
        long? lut = null;
        if (streamFront)
            try
            {
                lut = StreamedLuts(freeze.Graph);
            }
            catch (HetQException e)
            {
                log?.Invoke($"epoch {r.Epoch}: no LUT estimate of the streamed design ({e.Message}); not on the front");
                return;
            }
        long cost = lut ?? ebops;
        bool dominated = _front.Any(p => AtLeast(p.ValAccuracy, val) && Cost(p) <= cost);
        string shown = _task.Metric == QualityMetric.Accuracy ? val.ToString("P2", System.Globalization.CultureInfo.InvariantCulture) : val.ToString("G5", System.Globalization.CultureInfo.InvariantCulture);
        log?.Invoke($"epoch {r.Epoch}: {ebops:N0} EBOPs{(lut is { } l ? $", {l:N0} LUTs streamed (estimate)" : "")}, val {_task.MetricName} {shown}{(dominated ? "" : "  (on the Pareto front)")}");
        if (dominated) return;
        foreach (var p in _front.Where(p => AtLeast(val, p.ValAccuracy) && cost <= Cost(p)).ToList())
        {
            _front.Remove(p);
            if (Directory.Exists(p.Model)) Directory.Delete(p.Model, recursive: true);
        }
        string dir = Path.GetFullPath(Path.Combine(directory, $"epoch-{r.Epoch:D3}"));
        ModelIO.Save(model, metadata(), dir);
        freeze.Graph.Save(Path.Combine(dir, "graph.json"));
        _front.Add(new ParetoPoint(r.Epoch, val, ebops, dir) { Metric = _task.MetricName, LutEstimate = lut });
    }

    private long Cost(ParetoPoint p) => streamFront ? p.LutEstimate ?? long.MaxValue : p.Ebops;

    /// <summary>The resource model's xilinx LUT estimate of the design `hw write` writes by default (--io auto).</summary>
    private static long StreamedLuts(IntegerGraph g) =>
        ResourceModel.Estimate(g, SynthesisTarget.Xilinx, new HardwareOptions(Io: HardwareIoChoice.Choose("auto", g).Io)).Lut;

    /// <summary>Evaluates every front checkpoint on the test set (emulated and fake-quantized) and estimates its LUTs.</summary>
    public IReadOnlyList<ParetoPoint> Finish(Dataset test)
    {
        var result = new List<ParetoPoint>();
        foreach (var p in _front.OrderBy(p => p.Ebops))
        {
            var (m, meta) = ModelIO.Load(p.Model);
            var eval = EvalJob.Run(m, meta.Name, test, task: _task);
            long? lut = p.LutEstimate; // a front by streamed LUTs estimated it at its epoch, of the same graph
            if (lut is null && eval.Graph is { } g)
                try
                {
                    // the design `hw write` writes by default (--io auto: streaming for a CNN that streams)
                    lut = StreamedLuts(g);
                }
                catch (HetQException e)
                {
                    log?.Invoke($"{p.Model}: no LUT estimate ({e.Message})");
                }
            bool classifier = _task.Kind == TaskKind.Classification;
            result.Add(p with
            {
                TestAccuracy = classifier ? eval.AccuracyEmulated : null, TestAccuracyFakeQuant = classifier ? eval.AccuracyFakeQuant : null,
                TestMetric = classifier ? eval.AccuracyEmulated : eval.Emulated?.Value(_task.Metric),
                Mismatches = eval.Mismatches, LutEstimate = lut,
            });
        }
        return result;
    }

    /// <summary>Freezes and evaluates a baseline model directory on the validation and test sets.</summary>
    public static BaselinePoint Baseline(string directory, DataSplits splits, ModelTask? task = null)
    {
        var (m, meta) = ModelIO.Load(directory);
        task ??= ModelTask.Classification;
        var val = EvalJob.Run(m, meta.Name, splits.Validation, task: task);
        var test = EvalJob.Run(m, meta.Name, splits.Test, task: task);
        var graph = val.Graph ?? throw new HetQException($"{directory}: the baseline is not exactly representable in fixed point");
        double Quality(EvalResult e) => task.Kind == TaskKind.Classification ? e.AccuracyEmulated ?? e.AccuracyFakeQuant
            : (e.Emulated ?? e.FakeQuant)?.Value(task.Metric) ?? double.NaN;
        return new BaselinePoint(meta.Name, Path.GetFullPath(directory), Quality(val), Quality(test), CostModel.Estimate(graph).Total.Ebops);
    }
}
