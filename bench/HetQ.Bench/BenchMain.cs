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
            case "gemm":
                GemmBench.Run();
                return 0;
            case "profile":
                Profile.Run(new[] { 16, 64, 32, 32, 5 }, 512);
                Profile.Run(new[] { 784, 64, 32, 32, 10 }, 512, 100);
                return 0;
            case "train-speed":
            {
                string[] workloads = Value(args, "--workload") is { } w && w != "all" ? new[] { w } : new[] { "a", "b" };
                string[] variants = Value(args, "--variant") is { } v && v != "all" ? new[] { v } : new[] { "float", "qat" };
                return TrainSpeed.Run(workloads, variants, epochs, !args.Contains("--no-peer"), RepoRoot());
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
                Console.Error.WriteLine("usage: HetQ.Bench train-speed [--workload a|b|all] [--variant float|qat|all] [--epochs N] [--no-peer] | profile"
                                        + " | pnr-calibrate [--family ecp5|ice40|both] [--timeout S] [--reuse] [--designs A,B,...]");
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
