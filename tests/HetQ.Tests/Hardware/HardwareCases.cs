using HetQ.Graph;
using HetQ.Hardware;
using HetQ.Quantization;

namespace HetQ.Tests.Hardware;

/// <summary>The hardware test models under every writer option they exercise: dense, convolution (with padding,
/// pooling, a residual add, depthwise, average pooling), argmax, every rounding and overflow mode, the reconstruction
/// error, random matrices; each sharing mode and several pipelinings. Shared by the design-digest golden test and the
/// netlist interpreter's equality test.</summary>
internal static class HardwareCases
{
    public sealed record Case(string Name, Func<IntegerGraph> Graph, HardwareOptions Options)
    {
        public override string ToString() => Name;
    }

    public static IReadOnlyList<Case> All { get; } = Build();

    public static Case Named(string name) => All.Single(c => c.Name == name);

    public static TheoryData<string> Names()
    {
        var d = new TheoryData<string>();
        foreach (var c in All) d.Add(c.Name);
        return d;
    }

    private static List<Case> Build()
    {
        var cases = new List<Case>();
        foreach (var sharing in new[] { Sharing.Cse, Sharing.None })
        {
            string s = sharing.ToString().ToLowerInvariant();
            foreach (var (stages, argmax) in new (int?, bool)[] { (null, false), (0, false), (3, false), (null, true), (7, true) })
            {
                string p = $"{(stages is null ? "layer" : $"stages{stages}")}{(argmax ? "_argmax" : "")}";
                cases.Add(new($"tiny_{s}_{p}", TestDesigns.Tiny, new HardwareOptions(stages, argmax, Sharing: sharing)));
                cases.Add(new($"conv_{s}_{p}", TestDesigns.Conv, new HardwareOptions(stages, argmax, Sharing: sharing)));
            }
            foreach (int seed in new[] { 1, 2, 3 })
                cases.Add(new($"matrix{seed}_{s}", () => ConstantMatrixTests.RandomDense(seed), new HardwareOptions(Sharing: sharing)));
            foreach (var (q, norm) in new (string?, HetQ.Nn.ScoreNorm)[]
                     {
                         ("quantized_bits(7,2,alpha=1)", HetQ.Nn.ScoreNorm.L2), ("quantized_bits(7,2,alpha=1)", HetQ.Nn.ScoreNorm.L1),
                         (null, HetQ.Nn.ScoreNorm.L2), (null, HetQ.Nn.ScoreNorm.L1), ("quantized_relu(4,1)", HetQ.Nn.ScoreNorm.L2),
                     })
                cases.Add(new($"recon_{(q is null ? "raw" : q.StartsWith("quantized_relu", StringComparison.Ordinal) ? "relu" : "bits")}_{norm}_{s}".ToLowerInvariant(),
                    () => ReconstructionErrorTests.Autoencoder(q, norm), new HardwareOptions(Sharing: sharing)));
        }
        cases.Add(new("conv_cse_depth2", TestDesigns.Conv, new HardwareOptions(SharingDepth: 2)));
        foreach (var r in Enum.GetValues<Rounding>())
            foreach (var o in Enum.GetValues<Overflow>())
            {
                cases.Add(new($"modes_{r}_{o}", () => TestDesigns.Modes(r, o, false), new HardwareOptions()));
                cases.Add(new($"modes_{r}_{o}_relu", () => TestDesigns.Modes(r, o, true), new HardwareOptions()));
                cases.Add(new($"coarse_{r}_{o}", () => TestDesigns.Coarse(r, o), new HardwareOptions(Stages: 0)));
            }
        return cases;
    }
}
