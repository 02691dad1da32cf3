using System.Diagnostics;
using HetQ.Numerics;

namespace HetQ.Bench;

/// <summary>GFLOP/s of the GEMM kernels on the shapes the MLP workloads use.</summary>
internal static class GemmBench
{
    public static void Run()
    {
        foreach (var (m, n, k) in new[] { (512, 64, 16), (512, 32, 64), (512, 64, 784), (512, 16, 16), (16, 64, 512), (784, 64, 512) })
        {
            var a = new float[m * k];
            var b = new float[k * n];
            var c = new float[m * n];
            new Random(1).NextBytes(new byte[1]);
            for (int i = 0; i < a.Length; i++) a[i] = i % 7 * 0.1f;
            for (int i = 0; i < b.Length; i++) b[i] = i % 5 * 0.1f;
            int reps = (int)Math.Max(10, 2e9 / (2.0 * m * n * k));
            for (int r = 0; r < 5; r++) Gemm.Multiply(a, k, b, n, c, n, m, n, k);
            var sw = Stopwatch.StartNew();
            for (int r = 0; r < reps; r++) Gemm.Multiply(a, k, b, n, c, n, m, n, k);
            double t = sw.Elapsed.TotalSeconds / reps;
            sw.Restart();
            for (int r = 0; r < reps; r++) Gemm.MultiplyTransA(a, c, b, k, n, m);
            double ta = sw.Elapsed.TotalSeconds / reps;
            Console.WriteLine($"M={m} N={n} K={k}: NN {2.0 * m * n * k / t / 1e9:F1} GFLOP/s ({t * 1e6:F1} us); TN(K={m}) {2.0 * m * n * k / ta / 1e9:F1} GFLOP/s");
        }
    }
}
