using System.Diagnostics;
using System.Text.Json;
using HetQ.Data;
using HetQ.Nn;

namespace HetQ.Bench;

/// <summary>Seconds per training epoch of HetQ and of PyTorch (bench/peer/torch_mlp.py) on the same workloads,
/// measured in one run, with the ratio HetQ/PyTorch.</summary>
internal static class TrainSpeed
{
    public sealed record Row(string Workload, string Variant, double HetQ, double? Torch)
    {
        public double? Ratio => Torch is { } t ? HetQ / t : null;
    }

    public static int Run(string[] workloads, string[] variants, int epochs, bool withPeer, string repoRoot)
    {
        var rows = new List<Row>();
        foreach (var w in workloads)
        {
            Dataset data = w == "a" ? Workloads.Synthetic() : LoadFashion();
            int[] widths = w == "a" ? new[] { 16, 64, 32, 32, 5 } : new[] { 784, 64, 32, 32, 10 };
            foreach (var v in variants)
            {
                double ours = TimeHetQ(w, v, data, widths, epochs);
                double? peer = withPeer ? TimePeer(w, v, epochs, repoRoot) : null;
                var row = new Row(w, v, ours, peer);
                rows.Add(row);
                Console.Error.WriteLine($"  {w}/{v}: HetQ {ours:F3} s/epoch, PyTorch {(peer is { } p ? p.ToString("F3") : "-")} s/epoch");
            }
        }
        Console.WriteLine();
        Console.WriteLine("| workload | variant | HetQ s/epoch | PyTorch s/epoch | HetQ/PyTorch |");
        Console.WriteLine("|---|---|---|---|---|");
        foreach (var r in rows)
            Console.WriteLine($"| {(r.Workload == "a" ? "(a) MLP 16-64-32-32-5, 664k synthetic" : "(b) MLP 784-64-32-32-10, Fashion-MNIST 60k")} | {r.Variant} | {r.HetQ:F3} | {(r.Torch is { } t ? t.ToString("F3") : "-")} | {(r.Ratio is { } q ? q.ToString("F2") : "-")} |");
        return 0;
    }

    private static Dataset LoadFashion()
    {
        var cfg = DataConfig.Parse(JsonDocument.Parse("{\"name\":\"fashion-mnist\",\"validation_fraction\":0}").RootElement);
        return DatasetLoader.Load(cfg, Environment.CurrentDirectory).Train;
    }

    public static double TimeHetQ(string name, string variant, Dataset data, int[] widths, int epochs)
    {
        var model = Workloads.Mlp(widths, quantized: variant == "qat");
        using var trainer = new Trainer(model, new SoftmaxCrossEntropy(0), new Adam(1e-3), new TrainOptions(epochs + 1, 1024, Threads: 2));
        var times = new List<double>();
        trainer.OnEpoch = r => times.Add(r.Seconds);
        trainer.Fit(data, null);
        var timed = times.Skip(1).Order().ToList();
        return timed[timed.Count / 2];
    }

    private static double? TimePeer(string workload, string variant, int epochs, string repoRoot)
    {
        string script = Path.Combine(repoRoot, "bench", "peer", "torch_mlp.py");
        var psi = new ProcessStartInfo("/usr/bin/python3", $"{script} --workload {workload} --variant {variant} --epochs {epochs} --warmup 1 --json")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.Environment["OPENBLAS_NUM_THREADS"] = "1";
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
