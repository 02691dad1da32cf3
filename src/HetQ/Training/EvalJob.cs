using HetQ.Data;
using HetQ.Emulation;
using HetQ.Graph;
using HetQ.Nn;
using HetQ.Nn.Layers;
using HetQ.Quantization;

namespace HetQ.Training;

/// <summary>What <c>hetq eval</c> measured: accuracy of the float, fake-quantized and emulated model, and how many
/// samples' emulated outputs differ from the fake-quantized ones (0 is the bit-exactness promise). For tasks other
/// than classification the task's metrics (<see cref="TaskScores"/>) of the three; an autoencoder's emulated output
/// is its anomaly score, compared with the score of the exact fake-quantized reconstruction and the quantized input.</summary>
public sealed record EvalResult(int Samples, double AccuracyFloat, double AccuracyFakeQuant, double? AccuracyEmulated, int? Mismatches,
    string? FirstMismatch, IReadOnlyList<string> Problems, IReadOnlyList<string> Notes, IntegerGraph? Graph,
    ModelTask? Task = null, TaskScores? Float = null, TaskScores? FakeQuant = null, TaskScores? Emulated = null);

/// <summary>Evaluates a model directory on a data set, through the float model, the fake-quantized model and the
/// frozen integer graph. A one-output model is a binary classifier: scored by sigmoid &gt; 0.5 on a sigmoid output and
/// by logit &gt; 0 on logits (the graph leaves a final sigmoid out; a one-output model without a sigmoid is read as
/// a logit). The emulator is compared with the fake-quantized model computed in double precision
/// (<see cref="ExactReference"/>), where float32 would round outputs wider than its 24-bit significand.</summary>
public static class EvalJob
{
    /// <summary>DATA is a training configuration (its "data" section is used) or a data-set configuration file.</summary>
    public static DataSplits LoadData(string dataFile)
    {
        var spec = JsonSpec.Load(dataFile);
        var element = spec.Element.TryGetProperty("data", out var d) ? d : spec.Element;
        bool inTrainConfig = spec.Element.TryGetProperty("data", out _);
        var cfg = DataConfig.Parse(element, inTrainConfig ? "data" : "data set", topLevel: !inTrainConfig);
        try
        {
            return DatasetLoader.Load(cfg, Path.GetDirectoryName(Path.GetFullPath(dataFile))!);
        }
        catch (HetQException e) when (!e.Message.Contains(dataFile, StringComparison.Ordinal))
        {
            throw new HetQException($"{dataFile}: {e.Message}");
        }
    }

    /// <summary>True when the model's output is a probability (it ends in a sigmoid or softmax), false when it is a logit.</summary>
    public static bool OutputIsProbability(Model model)
    {
        int i = model.Nodes.Count - 1;
        while (i > 0 && model.Nodes[i].Layer is Dropout) i = model.Nodes[i].Inputs[0];
        var act = model.Nodes[i].Layer switch
        {
            ActivationLayer a => a.Activation,
            Dense d => d.Activation,
            Conv c => c.Activation,
            DepthwiseConv2D dw => dw.Activation,
            _ => default,
        };
        return act.Kind is ActivationKind.Sigmoid or ActivationKind.Softmax;
    }

    public static EvalResult Run(Model model, string name, Dataset data, FixedFormat? inputFormat = null, ModelTask? task = null)
    {
        task ??= ModelTask.Classification;
        var freeze = Freezer.Freeze(model, name, inputFormat);
        var reference = freeze.Model.CloneForWorker();
        if (reference.InputQuantizer is null || inputFormat is not null)
            reference.InputQuantizer = new FakeQuantizer(new FixedQuantizer(freeze.InputFormat));
        int k = Tensor.Size(model.OutputShape);
        bool floatLogits = !OutputIsProbability(model);
        var floatOut = Inference.Predict(model.WithoutQuantization(), data);
        double accFloat = Inference.Accuracy(floatOut, k, data.Labels, floatLogits);
        // The graph outputs the logits node: the input of a final sigmoid or softmax it leaves out.
        bool graphLogits = floatLogits || freeze.LogitsNode != freeze.Model.Nodes.Count - 1;
        var fake = Inference.Predict(reference, data, freeze.LogitsNode);
        int kl = Tensor.Size(freeze.Model.Nodes[freeze.LogitsNode].Layer.OutputShape);
        double accFake = Inference.Accuracy(fake, kl, data.Labels, graphLogits);
        bool classifier = task.Kind == TaskKind.Classification;
        TaskScores? scoresFloat = classifier ? null : TaskMetrics.Measure(task, TaskMetrics.Doubles(floatOut), k, data);
        // The fake-quantized model reconstructs the quantized input: its score is taken against that, as the chip's.
        double[]? quantizedInput = task.Kind == TaskKind.Autoencoder ? Quantized(data.Features, freeze.InputFormat, freeze.Graph?.Input.Op as InputOp) : null;
        TaskScores? scoresFake = classifier ? null : TaskMetrics.Measure(task, TaskMetrics.Doubles(fake), kl, data, quantizedInput);
        if (freeze.Graph is null)
            return new EvalResult(data.Count, accFloat, accFake, null, null, null, freeze.Problems, Array.Empty<string>(), null, task, scoresFloat, scoresFake);
        // The fake-quantized accuracy is that of the model as trained; the emulator is compared with the folded model.
        var graph = ReconstructionError.ForTask(freeze.Graph, task);
        var emu = new Emulator(graph);
        var values = emu.Values(emu.Run(data.Features));
        var exactOut = new ExactReference(freeze.Model, freeze.InputFormat).Run(data.Features, data.Count, freeze.LogitsNode);
        // What the emulator must reproduce exactly: the fake-quantized outputs, or for an autoencoder their score.
        int ke = emu.OutputSize;
        var exact = quantizedInput is null ? exactOut : Scores(exactOut, quantizedInput, kl, task.Score);
        int correct = 0, mismatches = 0, float32Rounded = 0;
        string? first = null;
        for (int i = 0; i < data.Count; i++)
        {
            var row = values.AsSpan(i * ke, ke);
            if (Metrics.Predict(row, graphLogits) == data.Labels[i]) correct++;
            for (int j = 0; j < ke; j++)
                if (row[j] != exact[i * ke + j])
                {
                    mismatches++;
                    first ??= $"sample {i}, output {j}: emulated {row[j]:R}, fake-quantized {exact[i * ke + j]:R}";
                    break;
                }
            for (int j = 0; j < kl; j++)
                if (exactOut[i * kl + j] != fake[i * kl + j])
                {
                    float32Rounded++;
                    break;
                }
        }
        var notes = graph.Notes.ToList();
        if (float32Rounded > 0)
            notes.Add($"on {float32Rounded} of {data.Count} samples the float32 fake-quantized output differs from the exact one (float32 rounds values wider than 24 bits); the emulator is compared with the exact (double) reference");
        if (kl == 1 && task.Kind is TaskKind.Classification or TaskKind.Binary)
            notes.Add(graphLogits ? "one output: scored as logit > 0 (the same decision as sigmoid > 0.5)" : "one output: scored as output > 0.5");
        TaskScores? scoresEmu = classifier ? null : task.Kind == TaskKind.Autoencoder
            ? TaskMetrics.Measure(task, exactOut, kl, data, quantizedInput, values)
            : TaskMetrics.Measure(task, values, ke, data);
        return new EvalResult(data.Count, accFloat, accFake, (double)correct / Math.Max(1, data.Count), mismatches, first,
            freeze.Problems, notes, graph, task, scoresFloat, scoresFake, scoresEmu);
    }

    /// <summary>The values the graph input takes: every feature rounded to the input format, or with learned widths
    /// to its element's own format (a pruned element is 0).</summary>
    private static double[] Quantized(float[] features, FixedFormat format, InputOp? input)
    {
        var v = new double[features.Length];
        if (input?.Elements is not null)
        {
            var eq = new ElementInputQuantizer(input);
            for (int i = 0; i < v.Length; i++) v[i] = FixedPoint.FromRaw(eq.Apply(i % eq.Size, features[i]), input.Format.Type);
            return v;
        }
        var q = new InputQuantizer(format);
        for (int i = 0; i < v.Length; i++) v[i] = FixedPoint.FromRaw(q.Apply(features[i]), format.Type);
        return v;
    }

    /// <summary>Per sample Σ (y − x)² or Σ |y − x| in double precision: exact for the dyadic values of a
    /// score type of at most 53 bits, so it equals the emulated integer score.</summary>
    private static double[] Scores(IReadOnlyList<double> outputs, double[] inputs, int k, ScoreNorm norm)
    {
        int n = inputs.Length / k;
        var s = new double[n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < k; j++)
            {
                double d = outputs[i * k + j] - inputs[i * k + j];
                s[i] += norm == ScoreNorm.L2 ? d * d : Math.Abs(d);
            }
        return s;
    }
}
