using System.Diagnostics;
using System.Text.Json;
using HetQ.Data;
using HetQ.Nn;
using HetQ.Numerics;

namespace HetQ.Bench;

/// <summary>Seconds per training epoch of HetQ and of PyTorch (bench/peer/torch_mlp.py, torch_cnn.py) on the same workloads:
/// each side runs <c>rounds</c> times, alternating, in one process run; medians of the rounds, the ratio HetQ/PyTorch, and
/// the training GFLOP/s of each against the FMA peak of the threads used (measured in the same run).</summary>
internal static class TrainSpeed
{
    public sealed record Options(string[] Workloads, string[] Variants, int Epochs, int Rounds, int Threads, int CnnSamples, bool WithPeer);

    private sealed record Row(string Workload, string Variant, double HetQ, double? Torch, double GflopPerEpoch, int Samples)
    {
        public double? Ratio => Torch is { } t ? HetQ / t : null;
    }

    private static bool IsCnn(string w) => w is "c" or "d";

    private static string Title(string w, int samples) => w switch
    {
        "a" => "(a) MLP 16-64-32-32-5, 664k synthetic",
        "b" => "(b) MLP 784-64-32-32-10, Fashion-MNIST 60k",
        "c" => $"(c) Fashion CNN (examples/fashion-cnn.json), batch 128, {samples / 1000.0:0.#}k",
        _ => $"(d) small CNN 8-16-dense 10, batch 128, {samples / 1000.0:0.#}k",
    };

    public static int Run(Options o, string repoRoot)
    {
        double peak1 = FmaPeak.Measure(Gemm.VectorBits == 512 ? 512 : 256);
        Console.WriteLine($"CPU: {FmaPeak.CpuModel()}, {Environment.ProcessorCount} cores; HetQ kernels {Gemm.VectorBits}-bit vectors; "
            + $"FMA peak measured now {peak1:F1} GFLOP/s per thread, {peak1 * o.Threads:F1} for {o.Threads} threads; load average {FmaPeak.LoadAverage()}");
        var rows = new List<Row>();
        Dataset? fashion = null;
        foreach (var w in o.Workloads)
        {
            Dataset data = w == "a" ? Workloads.Synthetic() : fashion ??= LoadFashion();
            if (IsCnn(w)) data = Subset(data, o.CnnSamples, new[] { 28, 28, 1 });
            foreach (var v in IsCnn(w) ? new[] { "float" } : o.Variants)
            {
                var ours = new List<double>();
                var peer = new List<double>();
                for (int round = 0; round < o.Rounds; round++)
                {
                    ours.Add(TimeHetQ(w, v, data, o));
                    if (o.WithPeer && TimePeer(w, v, o, data.Count, repoRoot) is { } p) peer.Add(p);
                    Console.Error.WriteLine($"  {w}/{v} round {round + 1}: HetQ {ours[^1]:F3} s/epoch, PyTorch {(peer.Count == round + 1 ? peer[^1].ToString("F3") : "-")} s/epoch (load {FmaPeak.LoadAverage()})");
                }
                double flops = CnnWorkloads.TrainFlopsPerSample(Build(w, v)) * data.Count / 1e9;
                rows.Add(new Row(w, v, GemmBench.Median(ours), peer.Count > 0 ? GemmBench.Median(peer) : null, flops, data.Count));
            }
        }
        Console.WriteLine();
        Console.WriteLine($"Medians of {o.Rounds} alternating rounds, {o.Threads} threads each side; load average at the end {FmaPeak.LoadAverage()}.");
        Console.WriteLine($"| workload | variant | HetQ s/epoch | PyTorch s/epoch | HetQ/PyTorch | HetQ GFLOP/s (% of {o.Threads}-thread FMA peak) | PyTorch GFLOP/s |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        foreach (var r in rows)
        {
            double g = r.GflopPerEpoch / r.HetQ;
            Console.WriteLine($"| {Title(r.Workload, r.Samples)} | {r.Variant} | {r.HetQ:F3} | {(r.Torch is { } t ? t.ToString("F3") : "-")} | "
                + $"{(r.Ratio is { } q ? q.ToString("F2") : "-")} | {g:F1} ({100 * g / (peak1 * o.Threads):F0} %) | {(r.Torch is { } tt ? (r.GflopPerEpoch / tt).ToString("F1") : "-")} |");
        }
        return 0;
    }

    internal static Dataset LoadFashion()
    {
        var cfg = DataConfig.Parse(JsonDocument.Parse("{\"name\":\"fashion-mnist\",\"validation_fraction\":0}").RootElement);
        return DatasetLoader.Load(cfg, Environment.CurrentDirectory).Train;
    }

    private static Dataset Subset(Dataset d, int samples, int[] shape)
    {
        int n = Math.Min(samples, d.Count), s = d.SampleSize;
        return new Dataset(d.Name, shape, d.Features.AsSpan(0, n * s).ToArray(), d.Labels.AsSpan(0, n).ToArray(), d.NumClasses);
    }

    private static Model Build(string w, string variant) => w switch
    {
        "a" => Workloads.Mlp(new[] { 16, 64, 32, 32, 5 }, variant == "qat"),
        "b" => Workloads.Mlp(new[] { 784, 64, 32, 32, 10 }, variant == "qat"),
        "c" => CnnWorkloads.FashionCnn(),
        _ => CnnWorkloads.SmallCnn(),
    };

    /// <summary>Median seconds of <see cref="Options.Epochs"/> epochs after one untimed warm-up epoch.</summary>
    private static double TimeHetQ(string w, string variant, Dataset data, Options o)
    {
        var model = Build(w, variant);
        var options = new TrainOptions(o.Epochs + 1, IsCnn(w) ? 128 : 1024, Threads: o.Threads);
        using var trainer = new Trainer(model, new SoftmaxCrossEntropy(0), new Adam(1e-3), options);
        var times = new List<double>();
        trainer.OnEpoch = r => times.Add(r.Seconds);
        trainer.Fit(data, null);
        return GemmBench.Median(times.Skip(1).ToList());
    }

    private static double? TimePeer(string workload, string variant, Options o, int samples, string repoRoot)
    {
        bool cnn = IsCnn(workload);
        string script = Path.Combine(repoRoot, "bench", "peer", cnn ? "torch_cnn.py" : "torch_mlp.py");
        string args = cnn
            ? $"{script} --workload {(workload == "c" ? "fashion-cnn" : "small-cnn")} --epochs {o.Epochs} --warmup 1 --threads {o.Threads} --samples {samples} --json"
            : $"{script} --workload {workload} --variant {variant} --epochs {o.Epochs} --warmup 1 --json";
        var psi = new ProcessStartInfo("/usr/bin/python3", args) { RedirectStandardOutput = true, RedirectStandardError = true };
        // torch_mlp.py keeps OpenBLAS single-threaded under torch's 2 intra-op threads; the CNN peer gives OpenBLAS the thread count.
        psi.Environment["OPENBLAS_NUM_THREADS"] = cnn ? o.Threads.ToString(System.Globalization.CultureInfo.InvariantCulture) : "1";
        try
        {
            using var p = Process.Start(psi)!;
            var errTask = p.StandardError.ReadToEndAsync();
            string output = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0)
            {
                Console.Error.WriteLine($"  PyTorch peer failed ({p.ExitCode}): {errTask.Result.Trim().Split('\n')[^1]}");
                return null;
            }
            var line = output.Trim().Split('\n')[^1];
            return JsonDocument.Parse(line).RootElement.GetProperty("seconds_per_epoch").GetDouble();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Console.Error.WriteLine($"  PyTorch peer not run: {e.Message} (install python3-torch)");
            return null;
        }
    }
}
