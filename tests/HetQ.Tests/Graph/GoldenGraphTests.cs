using HetQ.Graph;
using HetQ.Nn;
using HetQ.Nn.Layers;
using HetQ.Quantization;

namespace HetQ.Tests.Graph;

/// <summary>The integer graph of a tiny model as text: a change to freezing shows up as a diff of this file.
/// Regenerate with HETQ_UPDATE_GOLDEN=1 after checking the diff is intended.</summary>
public class GoldenGraphTests
{
    internal static Model Tiny()
    {
        var model = Model.Build(new[] { 3 }, new List<(Layer, string[]?)>
        {
            (new Dense(2, new Activation(ActivationKind.Relu)) { Name = "hidden", Quantizers = new(QuantizerParser.Parse("quantized_bits(4,0,alpha=1)"), QuantizerParser.Parse("quantized_bits(4,1,alpha=1)"), QuantizerParser.Parse("quantized_relu(4,1)")) }, null),
            (new Dense(2, useBias: false) { Name = "out", Quantizers = new(QuantizerParser.Parse("quantized_bits(3,0,alpha=1)"), null, null) }, null),
            (new ActivationLayer(new Activation(ActivationKind.Softmax)) { Name = "softmax" }, null),
        }, 0);
        model.InputQuantizer = new FakeQuantizer(QuantizerParser.Parse("ap_fixed<6,2,RND_CONV,SAT>"));
        float[][] values = { new[] { 0.5f, -0.25f, 0.875f, 0.125f, -1f, 0.375f }, new[] { 0.75f, -0.5f }, new[] { 0.75f, -0.25f, -0.5f, 0.5f } };
        var ps = model.Parameters;
        for (int i = 0; i < ps.Count; i++) values[i].CopyTo(ps[i].Value, 0);
        return model;
    }

    [Fact]
    public void The_tiny_model_freezes_to_the_golden_graph()
    {
        var text = Freezer.Freeze(Tiny(), "tiny").Graph!.ToJson();
        string golden = Path.Combine(AppContext.BaseDirectory, "Golden", "ir", "tiny.graph.json");
        if (Environment.GetEnvironmentVariable("HETQ_UPDATE_GOLDEN") == "1")
        {
            string src = Path.Combine(RepoRoot(), "tests", "HetQ.Tests", "Golden", "ir", "tiny.graph.json");
            Directory.CreateDirectory(Path.GetDirectoryName(src)!);
            File.WriteAllText(src, text);
            return;
        }
        Assert.True(File.Exists(golden), $"golden file missing: run the tests once with HETQ_UPDATE_GOLDEN=1 ({golden})");
        Assert.Equal(File.ReadAllText(golden), text);
    }

    internal static string RepoRoot()
    {
        var d = new DirectoryInfo(AppContext.BaseDirectory);
        while (d is not null && !File.Exists(Path.Combine(d.FullName, "HetQ.slnx"))) d = d.Parent;
        return d?.FullName ?? throw new InvalidOperationException("repository root not found");
    }
}
