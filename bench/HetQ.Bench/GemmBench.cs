using System.Diagnostics;
using HetQ.Numerics;

namespace HetQ.Bench;

/// <summary>GFLOP/s of the GEMM kernels on the shapes the MLP and CNN workloads use, both vector widths where the CPU has
/// them, alternated three times (medians), against the single-thread FMA peak measured in the same run.</summary>
internal static class GemmBench
{
    private enum Form { NN, TN, NT }

    public static void Run()
    {
        var shapes = new (string Use, Form Form, int M, int N, int K)[]
        {
            ("(a) dense 16->64 forward, 512 rows", Form.NN, 512, 64, 16),
            ("(b) dense 784->64 forward, 512 rows", Form.NN, 512, 64, 784),
            ("(b) dense 784->64 weight gradient", Form.TN, 784, 64, 512),
            ("CNN conv1 forward (k 9, 16 filters), 64 images", Form.NN, 64 * 26 * 26, 16, 9),
            ("CNN conv2 forward (k 144, 32 filters), 64 images", Form.NN, 64 * 11 * 11, 32, 144),
            ("CNN conv2 weight gradient", Form.TN, 144, 32, 64 * 11 * 11),
            ("CNN conv2 input gradient (cols)", Form.NT, 64 * 11 * 11, 144, 32),
        };
        var widths = Gemm.Width == SimdWidth.Avx512 ? new[] { SimdWidth.Avx512, SimdWidth.Avx2 } : new[] { Gemm.Width };
        Console.WriteLine($"CPU: {FmaPeak.CpuModel()}; kernels: {Gemm.VectorBits}-bit vectors; load average {FmaPeak.LoadAverage()}");
        var peak = widths.ToDictionary(w => w, w => FmaPeak.MeasureBoth((int)w));
        foreach (var w in widths) Console.WriteLine($"measured FMA peak, 1 thread, {(int)w}-bit: {peak[w].Wall:F1} GFLOP/s by wall time, {peak[w].Cpu:F1} by CPU time");
        Console.WriteLine("Each cell: GFLOP/s by wall time (% of the wall-time peak) / by CPU time (% of the CPU-time peak); CPU time leaves out");
        Console.WriteLine("the time other jobs held the core, so it is the steadier figure on a shared machine.");
        Console.WriteLine();
        Console.WriteLine($"| GEMM | M x N x K | {string.Join(" | ", widths.Select(w => $"{(int)w}-bit"))} |");
        Console.WriteLine($"|---|---|{string.Concat(widths.Select(_ => "---|"))}");
        foreach (var (use, form, m, n, k) in shapes)
        {
            var a = Fill(m * k, 7);
            var b = Fill(k * n, 5);
            var c = new float[m * n];
            int reps = (int)Math.Clamp(4e8 / (2.0 * m * n * k), 3, 2000);
            var times = widths.ToDictionary(w => w, _ => new List<double>());
            var cpu = widths.ToDictionary(w => w, _ => new List<double>());
            for (int round = 0; round < 3; round++)
                foreach (var w in widths)
                {
                    Once(w, form, a, b, c, m, n, k);
                    double c0 = FmaPeak.CpuSeconds();
                    var sw = Stopwatch.StartNew();
                    for (int r = 0; r < reps; r++) Once(w, form, a, b, c, m, n, k);
                    times[w].Add(sw.Elapsed.TotalSeconds / reps);
                    cpu[w].Add((FmaPeak.CpuSeconds() - c0) / reps);
                }
            var cells = widths.Select(w =>
            {
                double g = 2.0 * m * n * k / Median(times[w]) / 1e9, gc = 2.0 * m * n * k / Median(cpu[w]) / 1e9;
                return $"{g:F1} ({100 * g / peak[w].Wall:F0} %) / {gc:F1} ({100 * gc / peak[w].Cpu:F0} %)";
            });
            Console.WriteLine($"| {use} | {m} x {n} x {k} | {string.Join(" | ", cells)} |");
        }
    }

    private static void Once(SimdWidth w, Form form, float[] a, float[] b, float[] c, int m, int n, int k)
    {
        switch (form)
        {
            case Form.NN: Gemm.Multiply(w, a, k, b, n, c, n, m, n, k); break;
            case Form.TN: Gemm.MultiplyTransA(w, a, b, c, m, n, k); break;
            default: Gemm.MultiplyTransB(w, a, b, c, m, n, k); break;
        }
    }

    private static float[] Fill(int n, int mod)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = i % mod * 0.1f;
        return x;
    }

    internal static double Median(List<double> v)
    {
        var s = v.Order().ToList();
        return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
    }
}
