using System.Diagnostics;
using HetQ.Emulation;
using HetQ.Graph;
using HetQ.Interop;

namespace HetQ.Bench;

/// <summary>Samples per second of the integer emulator on the frozen 6-bit QKeras jet tagger (16-64-32-32-5).</summary>
internal static class EmulatorBench
{
    public static int Run(string repoRoot, int samples = 1_000_000)
    {
        string dir = Path.GetFullPath(Path.Combine(repoRoot, "..", "shared", "data", "models", "keras"));
        string json = Path.Combine(dir, "qkeras_3layer.json");
        if (!File.Exists(json))
        {
            Console.Error.WriteLine($"emulator: {json} not found (the reference QKeras jet tagger lives in ../shared)");
            return 2;
        }
        var (model, _) = KerasImporter.Import(json, Path.Combine(dir, "qkeras_3layer_weights.h5"));
        var graph = Freezer.Freeze(model, "qkeras_3layer").Graph!;
        var emu = new Emulator(graph);
        var rng = new Random(1);
        var x = new float[samples * 16];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 8 - 4);
        emu.Run(x.AsSpan(0, 16 * 10_000));
        foreach (int threads in new[] { 1, 2 })
        {
            var times = new List<double>();
            for (int rep = 0; rep < 3; rep++)
            {
                var sw = Stopwatch.StartNew();
                emu.Run(x, threads);
                times.Add(sw.Elapsed.TotalSeconds);
            }
            double best = times.Min();
            Console.WriteLine($"emulator, frozen 6-bit jet tagger, {threads} thread(s): {samples / best / 1e6:F2} M samples/s ({samples} samples in {best:F3} s, best of 3)");
        }
        return 0;
    }
}
