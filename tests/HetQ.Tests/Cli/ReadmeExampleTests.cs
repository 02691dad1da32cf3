using HetQ.Emulation;
using HetQ.Graph;
using HetQ.Nn;
using HetQ.Nn.Layers;
using HetQ.Quantization;

namespace HetQ.Tests.Cli;

/// <summary>The README's library example, line for line, on a freshly trained quantized model.</summary>
public class ReadmeExampleTests
{
    [Fact]
    public void The_readme_library_example_freezes_and_emulates_a_model_directory()
    {
        using var dir = new TempDir();
        var model = Model.Build([64], [(new Dense(4) { Name = "fc1" }, null), (new Dense(10) { Name = "output" }, null)], seed: 1);
        foreach (var n in model.Nodes)
            n.Layer.Quantizers = new LayerQuantizers(QuantizerParser.Parse("quantized_bits(4,0,alpha=1)"), QuantizerParser.Parse("quantized_bits(4,0,alpha=1)"));
        ModelIO.Save(model, new ModelMetadata("m", 10), dir.File("runs-digits-qat"));

        IntegerGraph graph = Freezer.FreezeDirectory(dir.File("runs-digits-qat"));
        var emulator = new Emulator(graph);
        double[] logits = emulator.Values(emulator.Run(new float[64]));
        Assert.Equal(10, logits.Length);
        Assert.All(logits, v => Assert.True(double.IsFinite(v)));
    }
}
