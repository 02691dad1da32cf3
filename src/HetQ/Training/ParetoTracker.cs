using HetQ.Cost;
using HetQ.Data;
using HetQ.Graph;
using HetQ.Hardware;
using HetQ.Nn;

namespace HetQ.Training;

/// <summary>One checkpoint of a learned-width run's Pareto front: the epoch, its validation accuracy (fake-quantized,
/// as the trainer measured it) and EBOPs (of the frozen graph); after training, the test accuracy of the frozen graph
/// (emulated, with the count of samples whose outputs differ from fake quantization) and the resource-model LUT estimate.</summary>
public sealed record ParetoPoint(int Epoch, double ValAccuracy, long Ebops, string Model)
{
    public double? TestAccuracy { get; init; }
    public double? TestAccuracyFakeQuant { get; init; }
    public int? Mismatches { get; init; }
    public long? LutEstimate { get; init; }
}

/// <summary>A model evaluated beside the front (a uniform baseline): validation and test accuracy of its frozen graph, EBOPs.</summary>
public sealed record BaselinePoint(string Label, string Model, double ValAccuracy, double TestAccuracy, long Ebops);

/// <summary>Keeps the non-dominated (validation accuracy up, EBOPs down) epochs of a run as checkpoints under
/// <c>OUTPUT/pareto/epoch-NNN</c>, freezing and costing the model after every epoch.</summary>
public sealed class ParetoTracker(Model model, string name, string directory, Func<ModelMetadata> metadata, Action<string>? log)
{
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
        _all.Add((r.Epoch, val, ebops));
        bool dominated = _front.Any(p => p.ValAccuracy >= val && p.Ebops <= ebops);
        log?.Invoke($"epoch {r.Epoch}: {ebops:N0} EBOPs, val {val:P2}{(dominated ? "" : "  (on the Pareto front)")}");
        if (dominated) return;
        foreach (var p in _front.Where(p => val >= p.ValAccuracy && ebops <= p.Ebops).ToList())
        {
            _front.Remove(p);
            if (Directory.Exists(p.Model)) Directory.Delete(p.Model, recursive: true);
        }
        string dir = Path.GetFullPath(Path.Combine(directory, $"epoch-{r.Epoch:D3}"));
        ModelIO.Save(model, metadata(), dir);
        freeze.Graph.Save(Path.Combine(dir, "graph.json"));
        _front.Add(new ParetoPoint(r.Epoch, val, ebops, dir));
    }

    /// <summary>Evaluates every front checkpoint on the test set (emulated and fake-quantized) and estimates its LUTs.</summary>
    public IReadOnlyList<ParetoPoint> Finish(Dataset test)
    {
        var result = new List<ParetoPoint>();
        foreach (var p in _front.OrderBy(p => p.Ebops))
        {
            var (m, meta) = ModelIO.Load(p.Model);
            var eval = EvalJob.Run(m, meta.Name, test);
            long? lut = null;
            if (eval.Graph is { } g)
                try
                {
                    lut = ResourceModel.Estimate(g).Lut;
                }
                catch (HetQException e)
                {
                    log?.Invoke($"{p.Model}: no LUT estimate ({e.Message})");
                }
            result.Add(p with { TestAccuracy = eval.AccuracyEmulated, TestAccuracyFakeQuant = eval.AccuracyFakeQuant, Mismatches = eval.Mismatches, LutEstimate = lut });
        }
        return result;
    }

    /// <summary>Freezes and evaluates a baseline model directory on the validation and test sets.</summary>
    public static BaselinePoint Baseline(string directory, DataSplits splits)
    {
        var (m, meta) = ModelIO.Load(directory);
        var val = EvalJob.Run(m, meta.Name, splits.Validation);
        var test = EvalJob.Run(m, meta.Name, splits.Test);
        var graph = val.Graph ?? throw new HetQException($"{directory}: the baseline is not exactly representable in fixed point");
        return new BaselinePoint(meta.Name, Path.GetFullPath(directory), val.AccuracyEmulated ?? val.AccuracyFakeQuant,
            test.AccuracyEmulated ?? test.AccuracyFakeQuant, CostModel.Estimate(graph).Total.Ebops);
    }
}
