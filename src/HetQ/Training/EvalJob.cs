using HetQ.Data;
using HetQ.Emulation;
using HetQ.Graph;
using HetQ.Nn;
using HetQ.Quantization;

namespace HetQ.Training;

/// <summary>What <c>hetq eval</c> measured: accuracy of the float, fake-quantized and emulated model, and how many
/// samples' emulated outputs differ from the fake-quantized ones (0 is the bit-exactness promise).</summary>
public sealed record EvalResult(int Samples, double AccuracyFloat, double AccuracyFakeQuant, double? AccuracyEmulated, int? Mismatches,
    string? FirstMismatch, IReadOnlyList<string> Problems, IReadOnlyList<string> Notes, IntegerGraph? Graph);

/// <summary>Evaluates a model directory on a data set, through the float model, the fake-quantized model and the
/// frozen integer graph.</summary>
public static class EvalJob
{
    /// <summary>DATA is a training configuration (its "data" section is used) or a data-set configuration file.</summary>
    public static DataSplits LoadData(string dataFile)
    {
        var spec = JsonSpec.Load(dataFile);
        var element = spec.Element.TryGetProperty("data", out var d) ? d : spec.Element;
        var cfg = DataConfig.Parse(element, spec.Element.TryGetProperty("data", out _) ? "data" : "data set");
        try
        {
            return DatasetLoader.Load(cfg, Path.GetDirectoryName(Path.GetFullPath(dataFile))!);
        }
        catch (HetQException e) when (!e.Message.Contains(dataFile, StringComparison.Ordinal))
        {
            throw new HetQException($"{dataFile}: {e.Message}");
        }
    }

    public static EvalResult Run(Model model, string name, Dataset data, FixedFormat? inputFormat = null)
    {
        var freeze = Freezer.Freeze(model, name, inputFormat);
        var reference = freeze.Model.CloneForWorker();
        if (reference.InputQuantizer is null || inputFormat is not null)
            reference.InputQuantizer = new FakeQuantizer(new FixedQuantizer(freeze.InputFormat));
        int k = Tensor.Size(model.OutputShape);
        double accFloat = Inference.Accuracy(Inference.Predict(model.WithoutQuantization(), data), k, data.Labels);
        var fake = Inference.Predict(reference, data, freeze.LogitsNode);
        int kl = Tensor.Size(freeze.Model.Nodes[freeze.LogitsNode].Layer.OutputShape);
        double accFake = Inference.Accuracy(fake, kl, data.Labels);
        if (freeze.Graph is null)
            return new EvalResult(data.Count, accFloat, accFake, null, null, null, freeze.Problems, Array.Empty<string>(), null);
        // The fake-quantized accuracy is that of the model as trained; the emulator is compared with the folded model.
        var emu = new Emulator(freeze.Graph);
        var raw = emu.Run(data.Features);
        var values = emu.Values(raw);
        int correct = 0, mismatches = 0;
        string? first = null;
        for (int i = 0; i < data.Count; i++)
        {
            var row = values.AsSpan(i * kl, kl);
            int best = 0;
            for (int j = 1; j < kl; j++) if (row[j] > row[best]) best = j;
            if (kl == 1) best = row[0] > 0.5 ? 1 : 0;
            if (best == data.Labels[i]) correct++;
            for (int j = 0; j < kl; j++)
                if (row[j] != fake[i * kl + j])
                {
                    mismatches++;
                    first ??= $"sample {i}, output {j}: emulated {row[j]:R}, fake-quantized {fake[i * kl + j]:R}";
                    break;
                }
        }
        return new EvalResult(data.Count, accFloat, accFake, (double)correct / Math.Max(1, data.Count), mismatches, first,
            freeze.Problems, freeze.Graph.Notes, freeze.Graph);
    }
}
