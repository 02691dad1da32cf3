using HetQ.Graph;

namespace HetQ.Hardware;

/// <summary>The resource model's estimate of a written design beside Yosys's counts of it: the error of each resource in
/// percent of the measured count, (estimate - Yosys) / Yosys (null where Yosys counted 0).</summary>
public sealed record EstimateCheck(ResourceEstimate Estimate, double? LutErrorPercent, double? FfErrorPercent, double? CarryErrorPercent)
{
    /// <summary>The estimate of the design in <paramref name="designDirectory"/> (its graph.json written again with the
    /// manifest's options, <see cref="HardwareManifest.WriterOptions"/>) against <paramref name="synth"/>; the reason
    /// when there is none (no graph.json, or no resource model for this kind of design and target).</summary>
    public static (EstimateCheck? Check, string? WhyNot) Of(string designDirectory, HardwareManifest manifest, SynthesisResult synth, string graphFile = "graph.json")
    {
        string file = Path.Combine(designDirectory, graphFile);
        if (!File.Exists(file)) return (null, $"no {graphFile} in the design directory, so no estimate to compare");
        try
        {
            var graph = IntegerGraph.Load(file);
            var e = ResourceModel.Estimate(graph, synth.Target, manifest.WriterOptions());
            return (new EstimateCheck(e, Error(e.Lut, synth.Lut), Error(e.Ff, synth.Ff), Error(e.Carry, synth.Carry)), null);
        }
        catch (HetQException ex)
        {
            return (null, ex.Message);
        }
    }

    /// <summary>(estimate - measured) / measured in percent; null when nothing was measured.</summary>
    public static double? Error(long estimate, long measured) => measured == 0 ? null : 100.0 * (estimate - measured) / measured;
}
