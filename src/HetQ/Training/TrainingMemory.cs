using System.Globalization;
using HetQ.Nn;

namespace HetQ.Training;

/// <summary>An estimate, made before training starts, of the memory training takes: the weights, one gradient copy per worker
/// thread, the optimizer's moments and the best weights kept for early stopping, plus every layer's output and its gradient
/// for one batch. A lower bound (layers' scratch buffers and the data set come on top), so a model that cannot fit is refused
/// before minutes of work.</summary>
public sealed record TrainingMemory(long WeightBytes, long ActivationBytes, int BatchSize, int Threads)
{
    /// <summary>The estimated bytes in all.</summary>
    public long Total => WeightBytes + ActivationBytes;

    /// <summary>The estimate for <paramref name="model"/> trained with <paramref name="cfg"/> on <paramref name="trainSamples"/>
    /// samples (a batch is at most that many).</summary>
    public static TrainingMemory Estimate(Model model, TrainConfig cfg, int trainSamples)
    {
        int batch = Math.Max(1, Math.Min(cfg.BatchSize, trainSamples));
        long parameters = model.Parameters.Sum(p => (long)p.Length);
        int threads = Math.Max(1, cfg.Threads);
        // value + a gradient per worker + two optimizer moments (Adam's; SGD's momentum takes one) + the best weights
        long weights = parameters * sizeof(float) * (1 + threads + 2 + (cfg.EarlyStopping?.RestoreBest == true ? 1 : 0));
        long perSample = model.Nodes.Sum(n => n.Layer.OutputShape.Aggregate(1L, (a, d) => a * d)) + model.InputShape.Aggregate(1L, (a, d) => a * d);
        // each layer's output and the gradient flowing back through it, for one batch (split over the workers, so in all once)
        long activations = perSample * batch * sizeof(float) * 2;
        return new TrainingMemory(weights, activations, batch, threads);
    }

    /// <summary>Bytes as "12 MB", "3.4 GB".</summary>
    public static string Bytes(long b) => Emulation.EmulationMemory.Bytes(b);

    /// <summary>One line: the total and its parts.</summary>
    public string Describe() =>
        $"about {Bytes(Total)} (weights, {Threads} gradient cop{(Threads == 1 ? "y" : "ies")} and the optimizer's moments: {Bytes(WeightBytes)}; "
        + $"every layer's output and gradient for a batch of {BatchSize}: {Bytes(ActivationBytes)})";

    /// <summary>Refuses (a one-line error naming the config) when the estimate is over <paramref name="available"/> bytes;
    /// returns a warning when it is over half of them, else null.</summary>
    public string? Check(string source, long available)
    {
        if (Total > available)
            throw new HetQException($"{source}: training needs {Describe()}, more than the {Bytes(available)} this machine has free; "
                                    + "make the model smaller, lower batch_size or threads");
        return Total > available / 2 ? $"warning: training needs {Describe()}, over half of the {Bytes(available)} available" : null;
    }

    /// <summary>The memory this process may still use (the machine's or the container's limit).</summary>
    public static long Available() => Emulation.EmulationMemory.Available();
}
