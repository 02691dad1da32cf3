using HetQ.Graph;
using HetQ.Hardware;
using HetQ.Tests.Graph;

namespace HetQ.Tests.Hardware;

/// <summary>The Verilog of the tiny model as text: a change to the writer shows up as a diff of this file.
/// Regenerate with HETQ_UPDATE_GOLDEN=1 after checking the diff is intended.</summary>
public class HardwareGoldenTests
{
    [Fact]
    public void The_tiny_model_writes_the_golden_Verilog() =>
        Compare(VerilogWriter.Write(Freezer.Freeze(GoldenGraphTests.Tiny(), "tiny").Graph!, new HardwareOptions()), "tiny.v");

    /// <summary>A tiny streaming design: 5x5x1 pixels → 2x2 convolution of 2 filters → 2x2 max pooling → flatten → dense 3.</summary>
    [Fact]
    public void The_tiny_streaming_model_writes_the_golden_Verilog() =>
        Compare(VerilogWriter.Write(StreamingStageTests.Chain("tiny_stream", new[] { 5, 5, 1 },
            new HetQ.Nn.Layers.Conv(2, 2, new[] { 2, 2 }, new[] { 1, 1 }, HetQ.Numerics.Padding.Valid, new HetQ.Nn.Activation(HetQ.Nn.ActivationKind.Relu))
            { Name = "c1", Quantizers = new(HetQ.Quantization.QuantizerParser.Parse("quantized_bits(3,0,alpha=1)"), HetQ.Quantization.QuantizerParser.Parse("quantized_bits(4,0,alpha=1)"), HetQ.Quantization.QuantizerParser.Parse("quantized_relu(4,1)")) },
            new HetQ.Nn.Layers.Pool(true, 2, new[] { 2, 2 }, null, HetQ.Numerics.Padding.Valid) { Name = "pool" }), new HardwareOptions(Io: HardwareIo.Stream)), "tiny_stream.v");

    private static void Compare(VerilogDesign design, string file)
    {
        string text = design.TopText + "\n// manifest.json\n" + string.Join("\n", design.Manifest.ToJson().TrimEnd().Split('\n').Select(l => "// " + l)) + "\n";
        string golden = Path.Combine(AppContext.BaseDirectory, "Golden", "hw", file);
        if (Environment.GetEnvironmentVariable("HETQ_UPDATE_GOLDEN") == "1")
        {
            string src = Path.Combine(GoldenGraphTests.RepoRoot(), "tests", "HetQ.Tests", "Golden", "hw", file);
            Directory.CreateDirectory(Path.GetDirectoryName(src)!);
            File.WriteAllText(src, text);
            return;
        }
        Assert.True(File.Exists(golden), $"golden file missing: run the tests once with HETQ_UPDATE_GOLDEN=1 ({golden})");
        Assert.Equal(File.ReadAllText(golden), text);
    }
}
