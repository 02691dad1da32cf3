using HetQ.Data;
using HetQ.Graph;
using HetQ.Nn;
using HetQ.Nn.Layers;
using HetQ.Numerics;
using HetQ.Quantization;
using HetQ.Training;

namespace HetQ.Tests.Nn;

public class BatchNormFoldingTests
{
    private static Model WithBatchNorm(bool quantized)
    {
        var q = quantized ? new LayerQuantizers(QuantizerParser.Parse("quantized_bits(8,2,alpha=1)"), QuantizerParser.Parse("quantized_bits(8,3,alpha=1)")) : null;
        var model = Model.Build(new[] { 8, 8, 1 }, new List<(Layer, string[]?)>
        {
            (new Conv(2, 4, new[] { 3, 3 }, new[] { 1, 1 }, Padding.Valid) { Name = "conv", Quantizers = q }, null),
            (new BatchNorm() { Name = "bn1" }, null),
            (new ActivationLayer(new Activation(ActivationKind.Relu)) { Name = "act1", Quantizers = quantized ? new LayerQuantizers(Activation: QuantizerParser.Parse("quantized_relu(8,3)")) : null }, null),
            (new Flatten(), null),
            (new Dense(8, useBias: false) { Name = "fc", Quantizers = q }, null),
            (new BatchNorm() { Name = "bn2", Quantizers = quantized ? new LayerQuantizers(Activation: QuantizerParser.Parse("quantized_bits(10,4,alpha=1)")) : null }, null),
            (new Dense(3) { Name = "out", Quantizers = q }, null),
        }, 5);
        if (quantized) model.InputQuantizer = new FakeQuantizer(QuantizerParser.Parse("ap_fixed<8,2,RND_CONV,SAT>"));
        return model;
    }

    private static Dataset Images() => ModelTests.RandomImages(120, 8) is var d
        ? new Dataset("img", new[] { 8, 8, 1 }, d.Features.Take(120 * 64).ToArray(), d.Labels, 3) : null!;

    [Fact]
    public void A_folded_model_computes_what_the_batch_norm_model_computes_at_inference()
    {
        var model = WithBatchNorm(false);
        var data = Images();
        using (var t = new Trainer(model, new SoftmaxCrossEntropy(0), new Adam(0.01), new TrainOptions(3, 20))) t.Fit(data, null);
        var (folded, notes) = BatchNormFolding.Fold(model);
        Assert.Equal(2, notes.Count);
        Assert.DoesNotContain(folded.Nodes, n => n.Layer is BatchNorm);
        var a = Inference.Predict(model, data);
        var b = Inference.Predict(folded, data);
        for (int i = 0; i < a.Length; i++) Assert.True(Math.Abs(a[i] - b[i]) <= 1e-4 * Math.Max(1, Math.Abs(a[i])), $"{i}: {a[i]} vs {b[i]}");
    }

    [Fact]
    public void A_quantized_model_with_batch_norms_freezes_with_folded_quantized_parameters_and_emulates_exactly()
    {
        var model = WithBatchNorm(true);
        var data = Images();
        using (var t = new Trainer(model, new SoftmaxCrossEntropy(0), new Adam(0.01), new TrainOptions(3, 20))) t.Fit(data, null);
        var r = EvalJob.Run(model, "bn", data);
        Assert.Empty(r.Problems);
        Assert.Equal(0, r.Mismatches);
        Assert.Contains(r.Notes, n => n.Contains("folded", StringComparison.Ordinal));
        var fc = r.Graph!.Nodes.Single(n => n.Name == "fc").Op as DenseOp;
        Assert.NotNull(fc!.Bias); // the folded bias, quantized with the layer's bias quantizer
    }
}
