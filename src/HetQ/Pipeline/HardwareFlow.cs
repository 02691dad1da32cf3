using HetQ.Graph;
using HetQ.Hardware;
using HetQ.Nn;
using HetQ.Training;

namespace HetQ.Pipeline;

/// <summary>The hardware step of the main job: Verilog for a model directory, then simulation of the data set's test
/// samples and random vectors with every simulator that is installed, each compared with the emulator.</summary>
public static class HardwareFlow
{
    public static HardwareNumbers? Run(string modelDirectory, string dataFile, string outputDirectory, Action<string> log, int random = 1000)
    {
        var (model, meta) = ModelIO.Load(modelDirectory);
        var freeze = Freezer.Freeze(model, meta.Name);
        if (freeze.Graph is null) return null;
        var design = VerilogWriter.Write(freeze.Graph, new HardwareOptions());
        design.Save(outputDirectory);
        freeze.Graph.Save(Path.Combine(outputDirectory, "graph.json"));
        var m = design.Manifest;
        log($"Verilog: {m.Top}, latency {m.LatencyCycles} cycles, {m.Levels} logic levels, II = 1");
        var test = EvalJob.LoadData(dataFile).Test;
        var vectors = Testbench.Vectors(freeze.Graph, m, test.Features, random);
        Simulation.Prepare(outputDirectory, m, vectors);
        var used = new List<string>();
        int mismatches = 0;
        foreach (var kind in new[] { SimulatorKind.Verilator, SimulatorKind.Icarus })
        {
            if (Simulation.Unavailable(kind) is { } why)
            {
                log($"{kind}: skipped ({why})");
                continue;
            }
            var r = Simulation.RunAsync(outputDirectory, m, kind, TimeSpan.FromMinutes(10), CancellationToken.None).GetAwaiter().GetResult();
            log($"{kind}: {r.Vectors} vectors, {r.Mismatches} mismatches{(r.FirstMismatch is { } f ? $", first: {f}" : "")}");
            mismatches = Math.Max(mismatches, r.Mismatches);
            used.Add(kind.ToString().ToLowerInvariant());
        }
        if (used.Count == 0) return new HardwareNumbers(0, 0, "none", null, null, null, null, m.LatencyCycles, "no simulator installed (apt-get install verilator iverilog)");
        return new HardwareNumbers(vectors.Count, mismatches, string.Join("+", used), null, null, null, null, m.LatencyCycles, null);
    }
}
