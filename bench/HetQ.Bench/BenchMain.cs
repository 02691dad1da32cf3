using System.Diagnostics;
using HetQ.Data;
using HetQ.Nn;

namespace HetQ.Bench;

internal static class BenchMain
{
    public static int Run(string[] args)
    {
        string what = args.Length > 0 ? args[0] : "train";
        int epochs = 3;
        for (int i = 0; i < args.Length - 1; i++) if (args[i] == "--epochs") epochs = int.Parse(args[i + 1]);
        switch (what)
        {
            case "emulator":
                return EmulatorBench.Run(RepoRoot());
            case "hw-gen":
                return HardwareBench.Run(RepoRoot(), Value(args, "--model"), Value(args, "--out"), int.Parse(Value(args, "--repeat") ?? "5", System.Globalization.CultureInfo.InvariantCulture));
            case "hw-scale":
                return ScaleBench.Run(int.Parse(Value(args, "--repeat") ?? "1", System.Globalization.CultureInfo.InvariantCulture), args.Contains("--profile"));
            case "gemm":
                GemmBench.Run();
                return 0;
            case "profile":
                Profile.Run(new[] { 16, 64, 32, 32, 5 }, 512);
                Profile.Run(new[] { 784, 64, 32, 32, 10 }, 512, 100);
                return 0;
            case "profile-mlp":
            {
                int reps = Value(args, "--reps") is { } rr ? int.Parse(rr, System.Globalization.CultureInfo.InvariantCulture) : 400;
                var syn = Workloads.Synthetic();
                var fashion = TrainSpeed.LoadFashion();
                foreach (bool q in new[] { false, true })
                {
                    ProfileMlp.Run("(a) 16-64-32-32-5", new[] { 16, 64, 32, 32, 5 }, q, syn, 512, reps);
                    ProfileMlp.Run("(b) 784-64-32-32-10", new[] { 784, 64, 32, 32, 10 }, q, fashion, 512, reps / 4);
                }
                return 0;
            }
            case "profile-cnn":
                ProfileLayers.Run("Fashion CNN", CnnWorkloads.FashionCnn(), 64, 20);
                ProfileLayers.Run("small CNN", CnnWorkloads.SmallCnn(), 64, 20);
                return 0;
            case "train-speed":
            {
                string[] workloads = Value(args, "--workload") is { } w && w != "all" ? w.Split(',') : new[] { "a", "b", "c", "d" };
                if (workloads.FirstOrDefault(x => x is not ("a" or "b" or "c" or "d")) is { } bad)
                {
                    Console.Error.WriteLine($"--workload: unknown workload '{bad}' (a, b, c, d or all)");
                    return 2;
                }
                string[] variants = Value(args, "--variant") is { } v && v != "all" ? new[] { v } : new[] { "float", "qat" };
                int threads = Value(args, "--threads") is { } t ? int.Parse(t, System.Globalization.CultureInfo.InvariantCulture) : Environment.ProcessorCount;
                int rounds = Value(args, "--rounds") is { } r ? int.Parse(r, System.Globalization.CultureInfo.InvariantCulture) : 3;
                int samples = Value(args, "--cnn-samples") is { } n ? int.Parse(n, System.Globalization.CultureInfo.InvariantCulture) : 60000;
                var o = new TrainSpeed.Options(workloads, variants, epochs, rounds, threads, samples, !args.Contains("--no-peer"));
                return TrainSpeed.Run(o, RepoRoot());
            }
            case "learned-speed":
            {
                int threads = Value(args, "--threads") is { } t ? int.Parse(t, System.Globalization.CultureInfo.InvariantCulture) : 1;
                int rounds = Value(args, "--rounds") is { } r ? int.Parse(r, System.Globalization.CultureInfo.InvariantCulture) : 3;
                var o = new LearnedSpeed.Options(epochs, rounds, threads, Value(args, "--learned") ?? "examples/fashion-mlp-learned.json",
                    Value(args, "--qat") ?? "examples/fashion-mlp-qat6.json");
                return LearnedSpeed.Run(o, RepoRoot());
            }
            case "resources-time":
                foreach (var dir in args.Skip(1)) ResourceBench.TimeModel(dir);
                return 0;
            case "resources-calibrate" or "resources-error":
            {
                string t = Value(args, "--target") ?? "xilinx";
                string[] targets = t == "all" ? new[] { "xilinx", "ecp5", "ice40" } : t.Split(',');
                string work = Value(args, "--work") ?? Path.Combine(RepoRoot(), "runs", "resource-model");
                var timeout = TimeSpan.FromSeconds(double.Parse(Value(args, "--timeout") ?? "600", System.Globalization.CultureInfo.InvariantCulture));
                bool fresh = args.Contains("--fresh");
                if (what == "resources-calibrate") return ResourceBench.Calibrate(RepoRoot(), targets, work, timeout, fresh);
                var models = args.Select((a, i) => (a, i)).Where(p => p.a == "--model" && p.i + 1 < args.Length).Select(p => args[p.i + 1]).ToList();
                int[]? reuses = Value(args, "--reuse")?.Split(',').Select(x => int.Parse(x, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
                return ResourceBench.Error(RepoRoot(), targets, work, timeout, fresh, models, reuses);
            }
            case "pnr-calibrate":
            {
                string family = Value(args, "--family") ?? "ecp5";
                string[] families = family == "both" ? new[] { "ecp5", "ice40" } : new[] { family };
                double timeout = Value(args, "--timeout") is { } t ? double.Parse(t, System.Globalization.CultureInfo.InvariantCulture) : 900;
                string[]? only = Value(args, "--designs")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                return PnrCalibrate.Run(RepoRoot(), families, timeout, args.Contains("--reuse"), only, string.Join(" ", args)).GetAwaiter().GetResult();
            }
            default:
                Console.Error.WriteLine("usage: HetQ.Bench train-speed [--workload a|b|c|d|all (comma list)] [--variant float|qat|all] [--epochs N]\n"
                    + "      [--rounds R] [--threads T] [--cnn-samples N] [--no-peer]   (c: Fashion CNN, d: small CNN; R alternating rounds, medians)\n"
                    + "  | learned-speed [--epochs N] [--rounds R] [--threads T] [--learned CONFIG] [--qat CONFIG]   (learned widths against QAT, alternating, medians)\n"
                    + "  | gemm | profile | profile-mlp [--reps N] | profile-cnn\n"
                    + "  | hw-gen [--model DIR] [--out DIR] [--repeat N] | hw-scale [--repeat N]\n"
                    + "  | resources-calibrate [--target xilinx|ecp5|ice40|all] [--work DIR] [--timeout S] [--fresh]\n"
                    + "  | resources-error [--target ...] [--model DIR]... [--reuse R1,R2,...] [--work DIR] [--timeout S] [--fresh]\n"
                    + "  | pnr-calibrate [--family ecp5|ice40|both] [--timeout S] [--reuse] [--designs A,B,...]");
                return 2;
        }
    }

    private static string? Value(string[] args, string key)
    {
        int i = Array.IndexOf(args, key);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    private static string RepoRoot()
    {
        var d = new DirectoryInfo(AppContext.BaseDirectory);
        while (d is not null && !File.Exists(Path.Combine(d.FullName, "HetQ.slnx"))) d = d.Parent;
        return d?.FullName ?? Environment.CurrentDirectory;
    }
}
