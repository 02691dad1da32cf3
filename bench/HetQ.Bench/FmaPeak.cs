using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace HetQ.Bench;

/// <summary>The machine's measured single-thread FMA peak: 16 independent accumulator chains of fused multiply-adds
/// (enough to cover latency x ports on current x86 cores), timed like the kernels, in the same run and load.</summary>
internal static class FmaPeak
{
    /// <summary>Peak GFLOP/s of one thread at the given vector width (512 or 256), median of <paramref name="reps"/> timings.</summary>
    public static double Measure(int bits, int reps = 3) => MeasureBoth(bits, reps).Wall;

    /// <summary>Peak GFLOP/s by wall time and by this process's CPU time (which leaves out the time other jobs held the core).</summary>
    public static (double Wall, double Cpu) MeasureBoth(int bits, int reps = 3)
    {
        var times = new List<double>();
        var cpu = new List<double>();
        const long iters = 4_000_000;
        Run(bits, 10_000);
        for (int r = 0; r < reps; r++)
        {
            var c0 = CpuSeconds();
            var sw = Stopwatch.StartNew();
            float sink = Run(bits, iters);
            times.Add(sw.Elapsed.TotalSeconds);
            cpu.Add(CpuSeconds() - c0);
            if (sink == 12345f) Console.Write("");
        }
        double flops = 2.0 * 16 * (bits / 32) * iters / 1e9;
        return (flops / GemmBench.Median(times), flops / GemmBench.Median(cpu));
    }

    /// <summary>User + system CPU seconds of this process so far.</summary>
    public static double CpuSeconds() => Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;

    /// <summary>A processor name from /proc/cpuinfo, or the architecture.</summary>
    public static string CpuModel()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
                if (line.StartsWith("model name", StringComparison.Ordinal)) return line[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException) { }
        return System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString();
    }

    public static string LoadAverage()
    {
        try { return string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (IOException) { return "?"; }
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Run(int bits, long iters)
    {
        if (bits == 512 && Avx512F.IsSupported)
        {
            var m = Vector512.Create(0.999999f);
            var a = Vector512.Create(1e-7f);
            Vector512<float> c0 = Vector512.Create(1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
            Vector512<float> c8 = c0, c9 = c0, ca = c0, cb = c0, cc = c0, cd = c0, ce = c0, cf = c0;
            for (long i = 0; i < iters; i++)
            {
                c0 = Avx512F.FusedMultiplyAdd(c0, m, a); c1 = Avx512F.FusedMultiplyAdd(c1, m, a);
                c2 = Avx512F.FusedMultiplyAdd(c2, m, a); c3 = Avx512F.FusedMultiplyAdd(c3, m, a);
                c4 = Avx512F.FusedMultiplyAdd(c4, m, a); c5 = Avx512F.FusedMultiplyAdd(c5, m, a);
                c6 = Avx512F.FusedMultiplyAdd(c6, m, a); c7 = Avx512F.FusedMultiplyAdd(c7, m, a);
                c8 = Avx512F.FusedMultiplyAdd(c8, m, a); c9 = Avx512F.FusedMultiplyAdd(c9, m, a);
                ca = Avx512F.FusedMultiplyAdd(ca, m, a); cb = Avx512F.FusedMultiplyAdd(cb, m, a);
                cc = Avx512F.FusedMultiplyAdd(cc, m, a); cd = Avx512F.FusedMultiplyAdd(cd, m, a);
                ce = Avx512F.FusedMultiplyAdd(ce, m, a); cf = Avx512F.FusedMultiplyAdd(cf, m, a);
            }
            return (c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + ca + cb + cc + cd + ce + cf).ToScalar();
        }
        {
            var m = Vector256.Create(0.999999f);
            var a = Vector256.Create(1e-7f);
            Vector256<float> c0 = Vector256.Create(1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
            Vector256<float> c8 = c0, c9 = c0, ca = c0, cb = c0, cc = c0, cd = c0, ce = c0, cf = c0;
            for (long i = 0; i < iters; i++)
            {
                c0 = Fma.MultiplyAdd(c0, m, a); c1 = Fma.MultiplyAdd(c1, m, a);
                c2 = Fma.MultiplyAdd(c2, m, a); c3 = Fma.MultiplyAdd(c3, m, a);
                c4 = Fma.MultiplyAdd(c4, m, a); c5 = Fma.MultiplyAdd(c5, m, a);
                c6 = Fma.MultiplyAdd(c6, m, a); c7 = Fma.MultiplyAdd(c7, m, a);
                c8 = Fma.MultiplyAdd(c8, m, a); c9 = Fma.MultiplyAdd(c9, m, a);
                ca = Fma.MultiplyAdd(ca, m, a); cb = Fma.MultiplyAdd(cb, m, a);
                cc = Fma.MultiplyAdd(cc, m, a); cd = Fma.MultiplyAdd(cd, m, a);
                ce = Fma.MultiplyAdd(ce, m, a); cf = Fma.MultiplyAdd(cf, m, a);
            }
            return (c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + ca + cb + cc + cd + ce + cf).ToScalar();
        }
    }
}
