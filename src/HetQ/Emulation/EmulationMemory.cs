using System.Globalization;
using HetQ.Graph;

namespace HetQ.Emulation;

/// <summary>An estimate, made before the emulator allocates, of the memory an emulation takes: the kernels' weight copies
/// (each weight as a 64-bit code and, for dense layers, a 32-bit one: 12 bytes), each worker thread's block of every node's
/// codes, and the run's inputs and outputs (with <c>trace</c>, every node's codes for every sample). A lower bound (the data
/// set and the graph itself come on top), so an emulation that cannot fit is refused with the number instead of running
/// out of memory part way.</summary>
public sealed record EmulationMemory(long WeightBytes, long BlockBytes, long RunBytes, int Samples, int Threads)
{
    /// <summary>The estimated bytes in all.</summary>
    public long Total => WeightBytes + BlockBytes + RunBytes;

    /// <summary>The estimate for emulating <paramref name="samples"/> samples of <paramref name="graph"/> on
    /// <paramref name="threads"/> threads (0 samples: the emulator's own memory, before any run).</summary>
    public static EmulationMemory Estimate(IntegerGraph graph, int samples, int threads, bool trace = false)
    {
        long weights = graph.WeightCount * 12;
        long codes = graph.Nodes.Sum(n => (long)n.Output.Size);
        long blocks = codes * Emulator.BlockSamples * sizeof(long) * Math.Max(1, threads);
        long io = (long)samples * graph.Input.Output.Size * sizeof(float)
                  + (long)samples * (trace ? codes : graph.Output.Output.Size) * sizeof(long);
        return new EmulationMemory(weights, blocks, io, samples, Math.Max(1, threads));
    }

    /// <summary>One line: the total and its parts.</summary>
    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"about {Bytes(Total)} (weights: {Bytes(WeightBytes)}; {Threads} thread{(Threads == 1 ? "" : "s")}' blocks: {Bytes(BlockBytes)}; "
        + $"inputs and outputs of {Samples:N0} samples: {Bytes(RunBytes)})");

    /// <summary>Refuses (a one-line error naming the graph) when the estimate is over <paramref name="available"/> bytes;
    /// returns a warning when it is over half of them, else null.</summary>
    public string? Check(string graph, long available)
    {
        if (Total > available)
            throw new HetQException($"graph '{graph}': emulating needs {Describe()}, more than the {Bytes(available)} this machine has free; "
                                    + "emulate fewer samples or a smaller model");
        return Total > available / 2 ? $"warning: graph '{graph}': emulating needs {Describe()}, over half of the {Bytes(available)} available" : null;
    }

    /// <summary>The memory this process may still use (the machine's or the container's limit).</summary>
    public static long Available() => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;

    /// <summary>Bytes as "12 MB", "3.4 GB".</summary>
    public static string Bytes(long b) => b switch
    {
        < 1L << 20 => string.Create(CultureInfo.InvariantCulture, $"{b / 1024.0:0} KB"),
        < 1L << 30 => string.Create(CultureInfo.InvariantCulture, $"{b / (double)(1 << 20):0} MB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{b / (double)(1L << 30):0.0} GB"),
    };
}
