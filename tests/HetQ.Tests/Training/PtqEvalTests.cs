using HetQ.Data;
using HetQ.Interop;
using HetQ.Nn;
using HetQ.Nn.Layers;
using HetQ.Quantization;
using HetQ.Training;

namespace HetQ.Tests.Training;

/// <summary>hetq ptq (hls4ml-style post-training quantization) and the eval fixes: one-output models scored on
/// logits, the emulator compared with the exact (double) fake-quant reference.</summary>
public class PtqEvalTests(ITestOutputHelper output)
{
    private static readonly FixedFormat Ap16 = FixedFormat.Parse("ap_fixed<16,6>");

    private static Model FloatMlp(int seed, params (int Units, string Activation)[] layers)
    {
        var list = layers.Select((l, i) => ((Layer)new Dense(l.Units, Activation.Parse(l.Activation)) { Name = $"fc{i + 1}" }, (string[]?)null)).ToList();
        var m = Model.Build([16], list, seed);
        return m;
    }

    private static Dataset RandomData(int n, int classes, int seed)
    {
        var rng = new Random(seed);
        var x = new float[n * 16];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 6 - 3);
        var y = Enumerable.Range(0, n).Select(_ => rng.Next(classes)).ToArray();
        return new Dataset("random", [16], x, y, classes);
    }

    [Fact]
    public void A_one_output_sigmoid_classifier_is_scored_by_its_logit_above_zero()
    {
        var dense = new Dense(1) { Name = "d" };
        var model = Model.Build([1], [(dense, null), (new ActivationLayer(new Activation(ActivationKind.Sigmoid)) { Name = "s" }, null)], 0);
        var t = FixedFormat.Parse("ap_fixed<8,4,RND,SAT>");
        dense.Quantizers = new LayerQuantizers(new FixedQuantizer(t), new FixedQuantizer(t));
        dense.Kernel.Value[0] = 1;
        dense.Bias!.Value[0] = 0;
        model.InputQuantizer = new FakeQuantizer(new FixedQuantizer(t));
        // Logits 0.25 and -0.25 are classes 1 and 0; comparing the logit with 0.5 would call the first 0.
        var data = new Dataset("d", [1], [0.25f, -0.25f, 1f, -1f], [1, 0, 1, 0], 2);
        var r = EvalJob.Run(model, "m", data);
        Assert.Equal(1.0, r.AccuracyFloat);
        Assert.Equal(1.0, r.AccuracyFakeQuant);
        Assert.Equal(1.0, r.AccuracyEmulated);
        Assert.Equal(0, r.Mismatches);
        Assert.DoesNotContain(r.Notes, n => n.Contains("argmax", StringComparison.Ordinal));
        Assert.Contains(r.Notes, n => n.Contains("logit > 0", StringComparison.Ordinal));
    }

    [Fact]
    public void Outputs_wider_than_float32_are_checked_against_the_exact_reference_and_do_not_mismatch()
    {
        var model = FloatMlp(3, (32, "relu"), (5, "softmax"));
        // 20-bit weights and activations: 45-bit sums, exact in double, rounded by float32.
        var cfg = Hls4mlConfig.Parse("LayerName:\n  fc2:\n    Precision:\n      result: ap_fixed<56,20,RND,SAT>\n", "cfg.yml");
        var r = PtqJob.Run(model, new PtqOptions(FixedFormat.Parse("ap_fixed<20,6,RND,SAT>"), cfg));
        var data = RandomData(200, 5, 4);
        var e = EvalJob.Run(r.Model, "m", data);
        output.WriteLine(string.Join("\n", e.Notes));
        Assert.Equal(0, e.Mismatches);
        // The float32 fake-quant pass rounds these 48-bit logits: the exact reference is what makes 0 mean 0.
        Assert.Contains(e.Notes, n => n.Contains("float32 fake-quantized output differs", StringComparison.Ordinal));
    }

    [Fact]
    public void Ptq_splits_an_activation_off_its_dense_and_leaves_the_output_softmax_unquantized()
    {
        var model = FloatMlp(1, (8, "relu"), (5, "softmax"));
        var r = PtqJob.Run(model, new PtqOptions(Ap16));
        Assert.Equal(["fc1", "fc1_relu", "fc2", "fc2_softmax"], r.Model.Nodes.Select(n => n.Layer.Name));
        Assert.Equal("ap_fixed<16,6,TRN,WRAP>", r.Model.Nodes[0].Layer.Quantizers!.Kernel!.Spec);
        Assert.Equal("ap_fixed<16,6,TRN,WRAP>", r.Model.Nodes[1].Layer.Quantizers!.Activation!.Spec);
        Assert.Null(r.Model.Nodes[3].Layer.Quantizers);
        Assert.Equal("ap_fixed<16,6,TRN,WRAP>", r.Model.InputQuantizer!.Spec);
        var freeze = HetQ.Graph.Freezer.Freeze(r.Model, "m");
        Assert.NotNull(freeze.Graph);
        var e = EvalJob.Run(r.Model, "m", RandomData(100, 5, 2));
        Assert.Equal(0, e.Mismatches);
    }

    [Fact]
    public void An_hls4ml_config_overrides_weight_bias_and_result_per_layer()
    {
        const string yaml = """
            HLSConfig:
              Model:
                Precision: ap_fixed<12,4>
                ReuseFactor: 1
              LayerName:
                fc1_input:
                  Precision:
                    result: ap_fixed<10,3,RND_CONV,SAT>
                fc1:
                  Precision:
                    weight: ap_fixed<6,1>
                    bias: ap_fixed<6,1>
                fc1_relu:
                  Precision:
                    result: ap_ufixed<7,1,AP_RND_CONV,AP_SAT>
            """;
        var cfg = Hls4mlConfig.Parse(yaml, "c.yml");
        var r = PtqJob.Run(FloatMlp(1, (8, "relu"), (5, "linear")), new PtqOptions(Ap16, cfg));
        Assert.Equal("ap_fixed<10,3,RND_CONV,SAT>", r.Model.InputQuantizer!.Spec);
        var fc1 = r.Model.Nodes[0].Layer.Quantizers!;
        Assert.Equal("ap_fixed<6,1,TRN,WRAP>", fc1.Kernel!.Spec);
        Assert.Equal("ap_fixed<12,4,TRN,WRAP>", fc1.Activation!.Spec);
        Assert.Equal("ap_ufixed<7,1,RND_CONV,SAT>", r.Model.Nodes[1].Layer.Quantizers!.Activation!.Spec);
        Assert.Equal("ap_fixed<12,4,TRN,WRAP>", r.Model.Nodes[2].Layer.Quantizers!.Kernel!.Spec);
        Assert.Contains(r.Tensors, t => t is { Layer: "fc1", Role: "weight", Source: "config" });
        Assert.Equal(0, EvalJob.Run(r.Model, "m", RandomData(50, 5, 1)).Mismatches);
    }

    [Fact]
    public void An_hls4ml_config_naming_a_layer_the_model_lacks_is_an_error_naming_it()
    {
        var cfg = Hls4mlConfig.Parse("LayerName:\n  fc9:\n    Precision: ap_fixed<8,2>\n", "c.yml");
        var e = Assert.Throws<HetQException>(() => PtqJob.Run(FloatMlp(1, (8, "relu")), new PtqOptions(Ap16, cfg)));
        Assert.Contains("LayerName 'fc9' is not a layer of the model", e.Message);
        var bad = Assert.Throws<HetQException>(() => Hls4mlConfig.Parse("Model:\n  Precision: ap_fixd<8,2>\n", "c.yml"));
        Assert.StartsWith("c.yml: Model.Precision:", bad.Message);
    }

    [Theory]
    [InlineData(3.5, true, 3)]
    [InlineData(4.0, true, 4)]
    [InlineData(0.3, true, 0)]
    [InlineData(0.5, true, 1)]
    [InlineData(3.5, false, 2)]
    [InlineData(1.0, false, 1)]
    public void Profiled_integer_bits_are_the_fewest_that_hold_the_largest_magnitude(double max, bool signed, int integer)
    {
        var t = PtqJob.IntegerBitsFor(max, new FixedType(signed, 16, 6))!.Value;
        Assert.Equal(integer, t.IntegerBits);
        Assert.Equal(16, t.Width);
        Assert.True(max <= t.MaxValue + t.Step && max < Math.ScaleB(1.0, signed ? integer - 1 : integer));
    }

    [Fact]
    public void Profiling_fits_each_result_to_its_range_and_the_model_still_emulates_exactly()
    {
        var data = RandomData(100, 5, 7);
        var r = PtqJob.Run(FloatMlp(2, (16, "relu"), (5, "softmax")), new PtqOptions(Ap16, Profile: data));
        // Fresh biases are all zero: they keep the default type; everything else is fitted.
        Assert.All(r.Tensors.Where(t => t.Role != "bias"), t => Assert.Equal("profile", t.Source));
        // The inputs lie in [-3, 3): 3 integer bits including the sign.
        Assert.Equal("ap_fixed<16,3,TRN,WRAP>", r.Model.InputQuantizer!.Spec);
        Assert.Equal(0, EvalJob.Run(r.Model, "m", data).Mismatches);
    }

    [Fact]
    public void The_float_Keras_jet_tagger_quantizes_at_ap_fixed_16_6_and_with_profiling()
    {
        string json = Requires.Shared("data/models/keras/KERAS_3layer.json");
        string h5 = Requires.Shared("data/models/keras/KERAS_3layer_weights.h5");
        string f = Requires.Shared("data/jets/jets100_features.dat");
        string l = Requires.Shared("data/jets/jets100_labels_onehot.dat");
        var (model, _) = KerasImporter.Import(json, h5);
        var data = JetsReader.ReadDat(f, l);
        var plain = EvalJob.Run(PtqJob.Run(model, new PtqOptions(Ap16)).Model, "jets", data);
        var profiled = EvalJob.Run(PtqJob.Run(model, new PtqOptions(Ap16, Profile: data)).Model, "jets", data);
        output.WriteLine($"ap_fixed<16,6>: emulated {plain.AccuracyEmulated:P0}; profiled: {profiled.AccuracyEmulated:P0}");
        Assert.Equal(0, plain.Mismatches);
        Assert.Equal(0, profiled.Mismatches);
        Assert.Equal(0.26, plain.AccuracyEmulated);
        Assert.Equal(0.23, profiled.AccuracyEmulated);
    }
}
