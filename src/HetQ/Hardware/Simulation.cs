using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace HetQ.Hardware;

/// <summary>The Verilog simulators HetQ runs.</summary>
public enum SimulatorKind
{
    /// <summary>Verilator (`verilator --binary`): compiles to C++, slow to build, fast to run.</summary>
    Verilator,
    /// <summary>Icarus Verilog (`iverilog` + `vvp`): an event-driven interpreter, quick to compile.</summary>
    Icarus,
}

/// <summary>The first output that differs: its sample (vector) and output index, and both codes (null when the
/// simulator printed X or Z bits).</summary>
public sealed record SimulationMismatch(int Sample, int Output, long? Got, long Expected, string GotText)
{
    public override string ToString() =>
        $"sample {Sample}, output {Output}: got {Got?.ToString(CultureInfo.InvariantCulture) ?? GotText}, expected {Expected}";
}

/// <summary>How one simulator ran the testbench.</summary>
public sealed record SimulationResult(SimulatorKind Simulator, int Vectors, int Mismatches, SimulationMismatch? FirstMismatch,
    double BuildSeconds, double RunSeconds, string Log);

/// <summary>Simulates a written design (<see cref="VerilogDesign.Save"/>) against its testbench
/// (<see cref="Testbench.Write"/>, in the design's sim/ folder), with the command lines and outputs logged there.</summary>
public static partial class Simulation
{
    public const string Folder = "sim";

    /// <summary>The programs a simulator needs, and null when they are all on PATH, else the reason it cannot run.</summary>
    public static string? Unavailable(SimulatorKind kind)
    {
        var programs = kind == SimulatorKind.Verilator ? new[] { "verilator" } : new[] { "iverilog", "vvp" };
        var missing = programs.Where(p => ToolRunner.Find(p) is null).ToList();
        return missing.Count == 0 ? null : $"{string.Join(" and ", missing)} not found on PATH (Debian: apt-get install {(kind == SimulatorKind.Verilator ? "verilator" : "iverilog")})";
    }

    /// <summary>Writes the testbench and vectors into DIR/sim (for a streaming design, its stimulus with the gaps that
    /// <paramref name="seed"/> draws: <see cref="StreamingTestbench"/>).</summary>
    public static void Prepare(string designDirectory, HardwareManifest manifest, SimulationVectors vectors, int seed = 1)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        string dir = Path.Combine(designDirectory, Folder);
        if (manifest.IsStreaming) StreamingTestbench.Write(dir, manifest, vectors, StreamingTestbench.Schedule(manifest, vectors, seed));
        else if (manifest.IsFolded) FoldedTestbench.Write(dir, manifest, vectors);
        else Testbench.Write(dir, manifest, vectors);
    }

    /// <summary>Builds and runs the testbench of <paramref name="designDirectory"/> with one simulator; each tool run is
    /// limited to <paramref name="timeout"/>; <paramref name="progress"/> hears when each tool starts and ends.</summary>
    public static async Task<SimulationResult> RunAsync(string designDirectory, HardwareManifest manifest, SimulatorKind kind,
        TimeSpan timeout, CancellationToken cancel = default, Progress? progress = null)
    {
        if (Unavailable(kind) is { } why) throw new HetQException($"cannot simulate with {kind}: {why}");
        string sim = Path.GetFullPath(Path.Combine(designDirectory, Folder));
        if (!File.Exists(Path.Combine(sim, Testbench.FileName))) throw new HetQException($"{sim}: no testbench (write it with Simulation.Prepare)");
        // The simulators run in DIR/sim with file names relative to it: a space (or anything else) in the directory's
        // path never reaches Verilator's generated makefile.
        var sources = new[] { Testbench.FileName }.Concat(manifest.Files.Select(f => "../" + f)).ToArray();
        string name = kind.ToString().ToLowerInvariant();
        string work = Path.Combine(sim, name);
        Directory.CreateDirectory(work);
        string logFile = Path.Combine(sim, name + ".log");
        await using var log = new StreamWriter(logFile, false, new UTF8Encoding(false)) { NewLine = "\n" };
        ToolResult build, run;
        if (kind == SimulatorKind.Verilator)
        {
            // GNU make cannot build in a directory whose path holds a space (verilated.mk refuses): then the C++ is
            // built in a fresh folder under the temporary directory, removed afterwards; the testbench still runs in DIR/sim.
            string? scratch = sim.Any(c => c is ' ' or '#' or '$' or '%' or ':' or '\'' or '"') ? Path.Combine(Path.GetTempPath(), "hetq-verilator-" + Guid.NewGuid().ToString("N")) : null;
            if (scratch is not null && scratch.Any(c => c is ' ' or '#' or '$' or '%' or ':' or '\'' or '"'))
                throw new HetQException($"{sim}: Verilator's make cannot build in a path with spaces or special characters, and neither can it in the temporary directory {Path.GetTempPath()}; set TMPDIR to a plain path");
            string mdir = scratch ?? name;
            try
            {
                // The C++ of a fully unrolled design compiles 5-10x faster at -O0 and still runs thousands of vectors in milliseconds.
                // -fno-life: Verilator 5.006's assignment elimination (V3Life) drops testbench updates across delays (the
                // mismatch count of a streaming testbench stayed 0 with a wrong expected output); without it they hold.
                var args = new List<string>
                {
                    "--binary", "-fno-life", "-j", "2", "--top-module", Testbench.Module, "-Mdir", mdir, "-o", "Vtb",
                    "-MAKEFLAGS", "OPT_FAST=-O0 OPT_SLOW=-O0 OPT_GLOBAL=-O0",
                };
                args.AddRange(sources);
                build = await ToolRunner.RunAsync("verilator", args, sim, timeout, log, cancel, progress, "verilator: building the simulation").ConfigureAwait(false);
                run = await ToolRunner.RunAsync(Path.Combine(scratch ?? work, "Vtb"), Array.Empty<string>(), sim, timeout, log, cancel, progress, "verilator: simulating").ConfigureAwait(false);
            }
            finally
            {
                if (scratch is not null && Directory.Exists(scratch)) Directory.Delete(scratch, recursive: true);
            }
        }
        else
        {
            string vvp = name + "/tb.vvp";
            var args = new List<string> { "-g2005", "-s", Testbench.Module, "-o", vvp };
            args.AddRange(sources);
            build = await ToolRunner.RunAsync("iverilog", args, sim, timeout, log, cancel, progress, "icarus: compiling (iverilog)").ConfigureAwait(false);
            run = await ToolRunner.RunAsync("vvp", new[] { "-n", vvp }, sim, timeout, log, cancel, progress, "icarus: simulating (vvp)").ConfigureAwait(false);
        }
        var (vectors, mismatches, first) = Parse(run.StandardOutput, manifest, logFile);
        return new SimulationResult(kind, vectors, mismatches, first, build.Elapsed.TotalSeconds, run.Elapsed.TotalSeconds, logFile);
    }

    private static (int Vectors, int Mismatches, SimulationMismatch? First) Parse(string stdout, HardwareManifest m, string logFile)
    {
        var result = ResultLine().Match(stdout);
        if (!result.Success) throw new HetQException($"the simulation printed no result line; see {logFile}");
        SimulationMismatch? first = null;
        var mm = MismatchLine().Match(stdout);
        if (mm.Success)
        {
            string got = mm.Groups[3].Value, want = mm.Groups[4].Value;
            first = new SimulationMismatch(Int(mm.Groups[1]), Int(mm.Groups[2]), Testbench.Decode(got, m.Output),
                Testbench.Decode(want, m.Output) ?? throw new HetQException($"bad expected value '{want}' in {logFile}"), got);
        }
        return (Int(result.Groups[1]), Int(result.Groups[2]), first);
    }

    private static int Int(Group g) => int.Parse(g.Value, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"HETQ-RESULT vectors=(\d+) mismatches=(\d+)")]
    private static partial Regex ResultLine();

    [GeneratedRegex(@"HETQ-MISMATCH sample=(\d+) output=(\d+) got=(\S+) expected=(\S+)")]
    private static partial Regex MismatchLine();
}
