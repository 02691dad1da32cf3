using System.Globalization;

namespace HetQ.Hardware;

/// <summary>Fmax and logic depth of a synthesized design. <see cref="FmaxSource"/> is "nextpnr" (placed and routed,
/// <see cref="PlaceRoute"/> set) or "estimate" (<see cref="Model"/> applied to the worst stage's depth), or null when
/// neither was possible; <see cref="Note"/> says why place and route did not run, when it did not.</summary>
public sealed record TimingResult(LogicDepthResult Depth, double? FmaxMhz, string? FmaxSource, PlaceRouteResult? PlaceRoute,
    FmaxModel? Model, string? Note, double? EstimatedFmaxMhz)
{
    /// <summary>The latency in ns at <see cref="FmaxMhz"/> for <paramref name="cycles"/> clock cycles (a combinational
    /// design, 0 cycles, takes one clock period: its logic delay).</summary>
    public double? LatencyNs(int cycles) => FmaxMhz is double f && f > 0 ? Math.Max(cycles, 1) * 1000.0 / f : null;
}

/// <summary>Logic depth from the synthesized netlist, then place and route where the design is small enough and the
/// tool is installed, else the calibrated estimate.</summary>
public static class Timing
{
    /// <summary>Analyzes the result of <see cref="Synthesis.RunAsync"/>; <paramref name="placeRoute"/> null skips
    /// place and route (estimate only).</summary>
    public static async Task<TimingResult> AnalyzeAsync(string designDirectory, HardwareManifest manifest, SynthesisResult synth,
        PlaceRouteOptions? placeRoute, Action<string>? progress = null, CancellationToken cancel = default)
    {
        var depth = LogicDepth.FromFile(Synthesis.JsonNetlist(synth), manifest.Top);
        FmaxModel? model = FmaxModel.For(synth.Target);
        double? estimate = model?.Estimate(depth.MaxLutLevels, depth.MaxCarryBits);
        string? note = placeRoute is null ? "place and route not asked for (--no-pnr)" : PlaceRoute.WhyNot(synth, placeRoute);
        if (note is null && placeRoute is not null)
        {
            progress?.Invoke($"nextpnr: placing and routing {manifest.Top} for {Synthesis.Name(synth.Target)} (timeout "
                             + placeRoute.Timeout.TotalSeconds.ToString("0", CultureInfo.InvariantCulture) + " s) ...");
            try
            {
                var pr = await PlaceRoute.RunAsync(designDirectory, manifest, synth.Target, placeRoute, cancel, progress is null ? null : new Progress(progress)).ConfigureAwait(false);
                return new TimingResult(depth, pr.FmaxMhz, "nextpnr", pr, model, null, estimate);
            }
            catch (ToolException e)
            {
                string log = Path.Combine(designDirectory, Synthesis.Folder, Synthesis.Name(synth.Target) + "_pnr.log");
                note = e.TimedOut
                    ? string.Create(CultureInfo.InvariantCulture, $"place and route timed out after {placeRoute.Timeout.TotalSeconds:0} s (--pnr-timeout); log {log}")
                    : $"place and route failed (exit code {e.ExitCode}); log {log}";
            }
        }
        if (model is null) return new TimingResult(depth, null, null, null, null, note + "; no calibrated Fmax model", null);
        if (model.Family != Synthesis.Name(synth.Target))
            note += $"; the estimate's model is calibrated on {model.Family.ToUpperInvariant()} place and route, so for {Synthesis.Name(synth.Target)} it is only indicative";
        return new TimingResult(depth, estimate, "estimate", null, model, note, estimate);
    }
}
