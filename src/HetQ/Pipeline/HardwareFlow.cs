using HetQ.Graph;
using HetQ.Hardware;
using HetQ.Nn;
using HetQ.Training;

namespace HetQ.Pipeline;

/// <summary>The hardware step of the main job: Verilog for a model directory, then simulation of the data set's test
/// samples and random vectors with every simulator that is installed, each compared with the emulator.</summary>
public static class HardwareFlow
{
    /// <summary>Writes, simulates and synthesizes the model; <paramref name="io"/> <see cref="HardwareIo.Stream"/> writes the
    /// streaming design (one pixel per clock), whose device-fit warning is not checked here.</summary>
    public static HardwareNumbers? Run(string modelDirectory, string dataFile, string outputDirectory, Action<string> log, int random = 1000,
        HardwareIo io = HardwareIo.Parallel)
    {
        var (model, meta) = ModelIO.Load(modelDirectory);
        var freeze = Freezer.Freeze(model, meta.Name);
        if (freeze.Graph is null) return null;
        var graph = ReconstructionError.ForTask(freeze.Graph, meta.Task);
        var design = VerilogWriter.Write(graph, new HardwareOptions(Top: VerilogNames.Top(graph.Name, null), Io: io));
        design.Save(outputDirectory, tmp => graph.Save(Path.Combine(tmp, "graph.json")), "design directory", modelDirectory);
        var m = design.Manifest;
        bool stream = m.IsStreaming;
        log(stream ? $"Verilog (streaming, one pixel per clock): {m.Top}, initiation interval {m.InitiationInterval} clocks per image, latency {m.LatencyCycles} clock(s) after the last pixel"
            : $"Verilog: {m.Top}, latency {m.LatencyCycles} cycles, {m.Levels} logic levels, II = 1");
        var test = EvalJob.LoadData(dataFile).Test;
        var vectors = Testbench.Vectors(graph, m, test.Features, random, 1, design.Netlist);
        log($"netlist interpreter: {vectors.Count} {(stream ? "images" : "vectors")}, 0 mismatches with the emulator");
        Simulation.Prepare(outputDirectory, m, vectors);
        var used = new List<string>();
        int mismatches = 0;
        var progress = new Progress(log); // each tool's start, "still running" and elapsed time: a Verilator build takes a while

        foreach (var kind in new[] { SimulatorKind.Verilator, SimulatorKind.Icarus })
        {
            if (Simulation.Unavailable(kind) is { } why)
            {
                log($"{kind}: skipped ({why})");
                continue;
            }
            var r = Simulation.RunAsync(outputDirectory, m, kind, TimeSpan.FromMinutes(10), CancellationToken.None, progress).GetAwaiter().GetResult();
            log($"{kind}: {r.Vectors} {(stream ? "images" : "vectors")}, {r.Mismatches} mismatches{(r.FirstMismatch is { } f ? $", first: {f}" : "")}");
            mismatches = Math.Max(mismatches, r.Mismatches);
            used.Add(kind.ToString().ToLowerInvariant());
        }
        int? lut = null, ff = null, carry = null, dsp = null, levels = null;
        double? fmax = null;
        long? lutEstimate = null;
        if (!stream) // the resource model covers parallel designs only
        {
            var estimate = ResourceModel.Estimate(graph, SynthesisTarget.Xilinx);
            lutEstimate = estimate.Lut;
            // The flow synthesizes for Xilinx UltraScale+; the VU9P is the part trigger designs are sized against.
            var fit = DeviceFit.Of(FpgaDevice.Xcvu9p, estimate, (m.Input.Bits, m.Output.Bits));
            if (FitWarning(fit) is { } warning) log(warning);
        }
        string? note = used.Count == 0 ? "no simulator installed (apt-get install verilator iverilog)" : null;
        if (Hardware.ToolRunner.Find("yosys") is null) note = (note is null ? "" : note + "; ") + "yosys not installed: no synthesis";
        else
        {
            try
            {
                var syn = Synthesis.RunAsync(outputDirectory, m, SynthesisTarget.Xilinx, TimeSpan.FromMinutes(10), CancellationToken.None, progress).GetAwaiter().GetResult();
                log($"Yosys synth_xilinx (xcup, -nodsp): {syn.Lut} LUT, {syn.Ff} FF, {syn.Carry} CARRY4, {syn.Dsp} DSP in {syn.Seconds:F0} s");
                (lut, ff, carry, dsp) = (syn.Lut, syn.Ff, syn.Carry, syn.Dsp);
                var timing = Timing.AnalyzeAsync(outputDirectory, m, syn, placeRoute: null).GetAwaiter().GetResult();
                (levels, fmax) = (timing.Depth.MaxLutLevels, timing.FmaxMhz);
                log($"logic depth: {levels} LUT levels, {timing.Depth.MaxCarryBits} carry bits in the worst stage"
                    + (timing.Depth.Sequential ? $" (register to register; the deepest ends at {timing.Depth.Worst?.Name})" : "")
                    + $"; Fmax ~{fmax:F0} MHz, an estimate ({timing.Model?.Describe() ?? "no Fmax model"})");
            }
            catch (HetQException e)
            {
                log($"synthesis failed: {e.Message}");
                note = (note is null ? "" : note + "; ") + "synthesis failed: " + e.Message;
            }
        }
        return new HardwareNumbers(vectors.Count, mismatches, used.Count == 0 ? "none" : string.Join("+", used), lut, ff, carry, dsp, m.LatencyCycles, note, lutEstimate, levels, fmax)
        {
            InitiationInterval = m.InitiationInterval, Streaming = stream,
        };
    }

    /// <summary>The main job's warning before it synthesizes a design whose estimate does not fit the device, or null.</summary>
    internal static string? FitWarning(DeviceFit fit) => fit.Fits ? null
        : $"warning: the design cannot fit the {fit.Device.Part}: "
          + string.Join(", ", fit.Resources.Where(r => !r.Fits).Select(r => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{r.Resource} {r.Used:N0} of {r.Available:N0}")))
          + $" ({fit.Basis}); synthesizing anyway";
}
