using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using HetQ.Graph;
using HetQ.Hardware;
using HetQ.Nn;

namespace HetQ.Bench;

/// <summary>`resources-calibrate`: writes the calibration designs, synthesizes each with Yosys, fits the resource
/// model's coefficients (non-negative least squares on relative errors) and writes them to
/// src/HetQ/Hardware/resource-model.json. `resources-error`: the committed model against Yosys on designs not used in
/// the fit (generated held-out designs and real models), and the estimate's time.</summary>
internal static class ResourceBench
{
    public const string Command = "dotnet run -c Release --project bench/HetQ.Bench -- resources-calibrate --target all";

    private sealed record Measured(string Design, string Verilog, int Lut, int Ff, int Carry, int Dsp, double Seconds);

    private sealed record Row(string Design, LogicTally Tally, Measured Synth);

    public static int Calibrate(string root, string[] targets, string work, TimeSpan timeout, bool fresh)
    {
        string file = Path.Combine(root, "src", "HetQ", "Hardware", "resource-model.json");
        var current = ResourceModel.Parse(File.ReadAllText(file), file);
        var designs = ResourceDesigns.Calibration();
        string yosys = YosysVersion();
        var fitted = new Dictionary<string, TargetCoefficients>(current.Targets, StringComparer.Ordinal);
        foreach (string name in targets)
        {
            var target = Target(name);
            var rows = Synthesize(designs.Select(d => (d.Name, d.Graph, d.Options)), target, Path.Combine(work, "calibration"), timeout, fresh);
            var features = rows.Select(r => ResourceModel.Features(r.Tally, target)).ToList();
            var lut = Fit(ResourceModel.LutFeatures, features, rows.Select(r => (double)r.Synth.Lut).ToList());
            var ff = Fit(ResourceModel.FfFeatures, features, rows.Select(r => (double)r.Synth.Ff).ToList());
            var carry = Fit(ResourceModel.CarryFeatures, features, rows.Select(r => (double)r.Synth.Carry).ToList());
            var provisional = new TargetCoefficients(lut, ff, carry, rows.Count, 0, 0, 0, DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
            var model = current with { Targets = new Dictionary<string, TargetCoefficients> { [name] = provisional } };
            Console.WriteLine($"\n{name}: fit on {rows.Count} designs ({yosys})");
            var (l, f, c) = Report(rows, target, model);
            fitted[name] = provisional with { LutMape = Math.Round(l, 2), FfMape = Math.Round(f, 2), CarryMape = Math.Round(c, 2) };
            Console.WriteLine("coefficients: lut " + Show(lut) + "; ff " + Show(ff) + "; carry " + Show(carry));
        }
        var result = new ResourceModelFile(ResourceModel.Format, 1, yosys, Command,
            "Resource counts as Yosys's stat reports them after HetQ's synthesis script (hetq hw synth): LUT = LUT1-6 (xilinx), LUT4 (ecp5), SB_LUT4 (ice40); "
            + "carry = CARRY4, CCU2C, SB_CARRY. Fitted on generated designs (bench/HetQ.Bench/ResourceDesigns.cs) by non-negative least squares of relative errors; "
            + "the mean absolute percentage errors (mape) are on those same designs.",
            fitted.OrderBy(p => p.Key).ToDictionary(p => p.Key, p => p.Value));
        string tmp = file + ".tmp";
        File.WriteAllText(tmp, ResourceModel.ToJson(result));
        File.Move(tmp, file, overwrite: true);
        Console.WriteLine($"\ncoefficients written to {file} (rebuild to embed them)");
        return 0;
    }

    public static int Error(string root, string[] targets, string work, TimeSpan timeout, bool fresh, IReadOnlyList<string> models, IReadOnlyList<int>? reuses = null)
    {
        string file = Path.Combine(root, "src", "HetQ", "Hardware", "resource-model.json");
        var model = ResourceModel.Parse(File.ReadAllText(file), file);
        var designs = ResourceDesigns.HeldOut().Select(d => (d.Name, d.Graph, d.Options)).ToList();
        foreach (string dir in models)
        {
            var (m, meta) = ModelIO.Load(dir);
            var r = Freezer.Freeze(m, meta.Name);
            if (r.Graph is null) throw new HetQException($"{dir}: not exactly representable: {string.Join("; ", r.Problems)}");
            string label = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(dir)));
            // with --reuse R1,R2,...: the model's design at each reuse factor (1: the parallel design)
            foreach (int reuse in reuses ?? [1])
            {
                var o = reuse == 1 ? new HardwareOptions() : new HardwareOptions(Reuse: ReusePlan.All(reuse));
                designs.Add((reuse == 1 ? label : $"{label}_r{reuse}", r.Graph, o));
                Time(r.Graph, reuse == 1 ? label : $"{label}_r{reuse}", o);
            }
        }
        foreach (string name in targets)
        {
            var target = Target(name);
            var rows = Synthesize(designs, target, Path.Combine(work, "held-out"), timeout, fresh);
            Console.WriteLine($"\n{name}: the committed model ({file}) against {YosysVersion()} on {rows.Count} designs not used in the fit");
            Report(rows, target, model);
        }
        return 0;
    }

    /// <summary>Freezes the model in <paramref name="dir"/> and times its estimate.</summary>
    public static void TimeModel(string dir)
    {
        var (m, meta) = ModelIO.Load(dir);
        var r = Freezer.Freeze(m, meta.Name);
        Time(r.Graph ?? throw new HetQException($"{dir}: not exactly representable"), meta.Name);
        if (VerilogWriter.StreamingProblem(r.Graph) is null)
        {
            // the designs `estimate --resources` gives a CNN by default (--io auto) and folded
            Time(r.Graph, meta.Name + " --io stream", new HardwareOptions(Io: HardwareIo.Stream));
            Time(r.Graph, meta.Name + " --io stream --reuse 16", new HardwareOptions(Io: HardwareIo.Stream, Reuse: ReusePlan.All(16)));
        }
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < 3; i++) VerilogWriter.Write(r.Graph, new HardwareOptions());
        Console.WriteLine($"{meta.Name}: VerilogWriter.Write {(sw.Elapsed.TotalMilliseconds / 3).ToString("F1", CultureInfo.InvariantCulture)} ms (mean of 3, for comparison)");
    }

    /// <summary>Times the estimate (median of 5 after one warm-up), in milliseconds.</summary>
    private static void Time(IntegerGraph g, string name, HardwareOptions? options = null)
    {
        ResourceModel.Estimate(g, SynthesisTarget.Xilinx, options);
        var times = new List<(double Wall, double Cpu)>();
        var process = Process.GetCurrentProcess();
        for (int i = 0; i < 5; i++)
        {
            process.Refresh();
            var cpu = process.TotalProcessorTime;
            var sw = Stopwatch.StartNew();
            var e = ResourceModel.Estimate(g, SynthesisTarget.Xilinx, options);
            double wall = sw.Elapsed.TotalMilliseconds;
            process.Refresh();
            times.Add((wall, (process.TotalProcessorTime - cpu).TotalMilliseconds));
            if (i == 0) Console.WriteLine($"{name}: estimate (xilinx) {e.Lut} LUT, {e.Ff} FF, {e.Carry} CARRY4");
        }
        string Median(Func<(double Wall, double Cpu), double> f) => times.Select(f).Order().ElementAt(2).ToString("F1", CultureInfo.InvariantCulture);
        Console.WriteLine($"{name}: estimate time {Median(t => t.Wall)} ms wall, {Median(t => t.Cpu)} ms CPU (medians of 5, after a warm-up; "
                          + $"{Environment.ProcessorCount} cores, load average {LoadAverage()})");
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "unknown";

    private static List<Row> Synthesize(IEnumerable<(string Name, IntegerGraph Graph, HardwareOptions Options)> designs, SynthesisTarget target,
        string work, TimeSpan timeout, bool fresh)
    {
        var rows = new List<Row>();
        foreach (var (name, g, o) in designs)
        {
            var design = VerilogWriter.Write(g, o with { Top = "top" });
            string dir = Path.Combine(work, name);
            string hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(design.TopText)));
            string cache = Path.Combine(dir, Synthesis.Folder, Synthesis.Name(target) + ".result.json");
            Measured? m = null;
            if (!fresh && File.Exists(cache))
            {
                m = JsonSerializer.Deserialize<Measured>(File.ReadAllText(cache));
                if (m?.Verilog != hash) m = null;
            }
            if (m is null)
            {
                design.Save(dir);
                Console.Error.Write($"yosys {Synthesis.Name(target)} {name}... ");
                var r = Synthesis.RunAsync(dir, design.Manifest, target, timeout).GetAwaiter().GetResult();
                Console.Error.WriteLine($"{r.Seconds:F1} s");
                m = new Measured(name, hash, r.Lut, r.Ff, r.Carry, r.Dsp, r.Seconds);
                File.WriteAllText(cache, JsonSerializer.Serialize(m));
            }
            rows.Add(new Row(name, VerilogWriter.Count(g, o), m));
        }
        return rows;
    }

    private static IReadOnlyDictionary<string, double> Fit(string[] names, List<IReadOnlyDictionary<string, double>> features, List<double> y)
    {
        // Relative errors: each row divided by its measured count, so small designs weigh as much as large ones.
        var a = features.Select((f, i) => names.Select(n => f[n] / Math.Max(1, y[i])).ToArray()).ToArray();
        var b = y.Select(v => v / Math.Max(1, v)).ToArray();
        var x = Nnls.Solve(a, b);
        return names.Select((n, j) => (n, x[j])).ToDictionary(p => p.n, p => Math.Round(p.Item2, 4));
    }

    private static (double Lut, double Ff, double Carry) Report(List<Row> rows, SynthesisTarget target, ResourceModelFile model)
    {
        Console.WriteLine($"{"design",-34} {"LUT syn",8} {"est",8} {"err%",7} {"FF syn",7} {"est",7} {"err%",7} {"carry syn",9} {"est",7} {"err%",7} {"yosys s",8}");
        var errs = new List<(double L, double F, double C)>();
        foreach (var r in rows)
        {
            var e = ResourceModel.Estimate(r.Tally, target, model);
            double el = Err(e.Lut, r.Synth.Lut), ef = Err(e.Ff, r.Synth.Ff), ec = Err(e.Carry, r.Synth.Carry);
            errs.Add((el, ef, ec));
            Console.WriteLine($"{r.Design,-34} {r.Synth.Lut,8} {e.Lut,8} {el,7:F1} {r.Synth.Ff,7} {e.Ff,7} {ef,7:F1} {r.Synth.Carry,9} {e.Carry,7} {ec,7:F1} {r.Synth.Seconds,8:F1}");
        }
        double Mape(Func<(double L, double F, double C), double> f) => errs.Average(e => Math.Abs(f(e)));
        double Max(Func<(double L, double F, double C), double> f) => errs.Max(e => Math.Abs(f(e)));
        Console.WriteLine($"mean absolute error: LUT {Mape(e => e.L):F1} %, FF {Mape(e => e.F):F1} %, carry {Mape(e => e.C):F1} %; "
                          + $"max: LUT {Max(e => e.L):F1} %, FF {Max(e => e.F):F1} %, carry {Max(e => e.C):F1} %");
        return (Mape(e => e.L), Mape(e => e.F), Mape(e => e.C));
    }

    private static double Err(long estimate, int measured) => measured == 0 ? (estimate == 0 ? 0 : 100) : 100.0 * (estimate - measured) / measured;

    private static string Show(IReadOnlyDictionary<string, double> c) => string.Join(", ", c.Select(p => $"{p.Key} {p.Value.ToString("G4", CultureInfo.InvariantCulture)}"));

    private static SynthesisTarget Target(string name) => name switch
    {
        "xilinx" => SynthesisTarget.Xilinx,
        "ecp5" => SynthesisTarget.Ecp5,
        "ice40" => SynthesisTarget.Ice40,
        _ => throw new HetQException($"unknown target '{name}' (xilinx, ecp5, ice40, all)"),
    };

    private static string YosysVersion()
    {
        if (ToolRunner.Find("yosys") is null) throw new HetQException("yosys not found on PATH (Debian: apt-get install yosys)");
        var r = ToolRunner.RunAsync("yosys", new[] { "-V" }, Environment.CurrentDirectory, TimeSpan.FromSeconds(30)).GetAwaiter().GetResult();
        string v = r.StandardOutput.Trim();
        int paren = v.IndexOf(" (", StringComparison.Ordinal);
        return paren > 0 ? v[..paren] : v;
    }
}
