using HetQ.Interop;
using HetQ.Nn;

namespace HetQ.Tests.Interop;

/// <summary>A Functional Keras model with a residual Add, written by the test: architecture JSON in the
/// Keras 2 layout, weights written in Keras's HDF5 layout with PureHDF's writer.</summary>
public class KerasFunctionalImportTests
{
    internal const string ResidualJson = """
    {"class_name": "Functional", "keras_version": "2.4.0", "backend": "tensorflow", "config": {"name": "tiny_residual",
     "layers": [
      {"class_name": "InputLayer", "name": "input_1", "inbound_nodes": [],
       "config": {"batch_input_shape": [null, 8], "dtype": "float32", "sparse": false, "name": "input_1"}},
      {"class_name": "Dense", "name": "d1", "inbound_nodes": [[["input_1", 0, 0, {}]]],
       "config": {"name": "d1", "units": 8, "activation": "relu", "use_bias": true,
                  "kernel_regularizer": {"class_name": "L2", "config": {"l2": 0.001}}, "bias_regularizer": null}},
      {"class_name": "BatchNormalization", "name": "bn", "inbound_nodes": [[["d1", 0, 0, {}]]],
       "config": {"name": "bn", "axis": [1], "momentum": 0.9, "epsilon": 0.001, "center": true, "scale": true}},
      {"class_name": "QDense", "name": "qd", "inbound_nodes": [[["bn", 0, 0, {}]]],
       "config": {"name": "qd", "units": 8, "activation": "linear", "use_bias": true,
                  "kernel_quantizer": {"class_name": "quantized_bits", "config": {"bits": 4, "integer": 0, "symmetric": 0, "alpha": 1,
                                       "keep_negative": true, "use_stochastic_rounding": false, "qnoise_factor": 1.0}},
                  "bias_quantizer": "quantized_bits(4,0,alpha=1)",
                  "kernel_constraint": {"class_name": "Clip", "config": {"min_value": -1, "max_value": 1}}}},
      {"class_name": "Add", "name": "res", "inbound_nodes": [[["qd", 0, 0, {}], ["input_1", 0, 0, {}]]], "config": {"name": "res"}},
      {"class_name": "QActivation", "name": "act", "inbound_nodes": [[["res", 0, 0, {}]]],
       "config": {"name": "act", "activation": "quantized_relu(4,2)"}},
      {"class_name": "Dense", "name": "out", "inbound_nodes": [[["act", 0, 0, {}]]],
       "config": {"name": "out", "units": 3, "activation": "softmax", "use_bias": true}}
     ],
     "input_layers": [["input_1", 0, 0]], "output_layers": [["out", 0, 0]]}}
    """;

    /// <summary>The weights of <see cref="ResidualJson"/>, in Keras's order within each layer.</summary>
    internal static (string Layer, KerasWeight[] Weights)[] ResidualWeights() =>
    [
        ("input_1", []),
        ("d1", [new("d1/kernel:0", KerasTestFiles.Values(64, 1, 0.5), 8, 8), new("d1/bias:0", KerasTestFiles.Values(8, 2, 0.1), 8)]),
        ("bn", [new("bn/gamma:0", KerasTestFiles.Values(8, 3, 0.3).Select(v => v + 1).ToArray(), 8), new("bn/beta:0", KerasTestFiles.Values(8, 4, 0.2), 8),
                new("bn/moving_mean:0", KerasTestFiles.Values(8, 5, 0.5).Select(v => v + 0.5f).ToArray(), 8),
                new("bn/moving_variance:0", KerasTestFiles.Values(8, 6, 0.5).Select(v => v + 1).ToArray(), 8)]),
        ("qd", [new("qd/kernel:0", KerasTestFiles.Values(64, 7, 0.9), 8, 8), new("qd/bias:0", KerasTestFiles.Values(8, 8, 0.5), 8)]),
        ("res", []),
        ("act", []),
        ("out", [new("out/kernel:0", KerasTestFiles.Values(24, 9), 8, 3), new("out/bias:0", KerasTestFiles.Values(3, 10, 0.1), 3)]),
    ];

    /// <summary>The model computed in double from the raw weights, with QKeras's quantizers written out.</summary>
    private static double[] Reference(float[] x, (string Layer, KerasWeight[] Weights)[] w)
    {
        float[] W(int layer, int k) => w[layer].Weights[k].Values;
        static float[] Q4(float[] v) => v.Select(a => (float)(Math.Clamp(Math.Round(a * 8.0), -8, 7) / 8)).ToArray(); // quantized_bits(4,0,alpha=1)
        var input = x.Select(v => (double)v).ToArray();
        var h = KerasTestFiles.Relu(KerasTestFiles.Affine(input, W(1, 0), W(1, 1)));
        h = h.Select((v, j) => W(2, 0)[j] * (v - W(2, 2)[j]) / Math.Sqrt(W(2, 3)[j] + 1e-3) + W(2, 1)[j]).ToArray();
        h = KerasTestFiles.Affine(h, Q4(W(3, 0)), Q4(W(3, 1)));
        h = h.Select((v, j) => v + input[j]).ToArray();
        h = h.Select(v => Math.Clamp(Math.Round(v * 4) / 4, 0, 3.75)).ToArray(); // quantized_relu(4,2)
        return KerasTestFiles.Softmax(KerasTestFiles.Affine(h, W(6, 0), W(6, 1)));
    }

    private static void AssertMatchesReference(Model model, (string Layer, KerasWeight[] Weights)[] weights)
    {
        const int n = 64;
        var x = new Tensor([n, 8], KerasTestFiles.Values(n * 8, 11, 2));
        var y = model.Forward(x, new ForwardContext { Training = false });
        double maxError = 0;
        for (int i = 0; i < n; i++)
        {
            var expected = Reference(x.Row(i).ToArray(), weights);
            for (int j = 0; j < 3; j++) maxError = Math.Max(maxError, Math.Abs(y.Row(i)[j] - expected[j]));
        }
        Assert.True(maxError <= 1e-6, $"max abs error {maxError:E3}");
    }

    [Fact]
    public void A_functional_model_with_a_residual_add_imports_from_JSON_and_HDF5_weights_and_matches_a_reference_pass()
    {
        using var dir = new TempDir();
        var weights = ResidualWeights();
        KerasTestFiles.WriteWeights(dir.File("w.h5"), weights);
        var imported = KerasImporter.Import(dir.Write("m.json", ResidualJson), dir.File("w.h5"));
        var model = imported.Model;

        Assert.Equal(["d1", "bn", "qd", "res", "act", "out"], model.Nodes.Select(n => n.Layer.Name));
        Assert.Equal([2, -1], model.Nodes[3].Inputs);
        Assert.Equal("quantized_bits(4,0,0,alpha=1)", model.Nodes[2].Layer.Quantizers!.Kernel!.Spec);
        Assert.Equal("quantized_bits(4,0,0,alpha=1)", model.Nodes[2].Layer.Quantizers!.Bias!.Spec);
        Assert.Equal("quantized_relu(4,2)", model.Nodes[4].Layer.Quantizers!.Activation!.Spec);
        Assert.Equal(0.001, ((HetQ.Nn.Layers.Dense)model.Nodes[0].Layer).KernelRegularizer!.L2);
        Assert.Equal(0.9, ((HetQ.Nn.Layers.BatchNorm)model.Nodes[1].Layer).Momentum);
        Assert.Contains(imported.Warnings, w => w.Contains("'qd'", StringComparison.Ordinal) && w.Contains("kernel_constraint", StringComparison.Ordinal));
        AssertMatchesReference(model, weights);
    }

    [Fact]
    public void A_full_h5_with_model_config_in_fixed_length_strings_imports_architecture_and_weights_from_the_one_file()
    {
        using var dir = new TempDir();
        var weights = ResidualWeights();
        KerasTestFiles.WriteWeights(dir.File("full.h5"), weights, modelConfig: ResidualJson, fixedLengthStrings: true);
        var (model, meta) = KerasImporter.Import(dir.File("full.h5"), null);
        Assert.Equal("full", meta.Name);
        Assert.Equal(3, meta.NumClasses);
        AssertMatchesReference(model, weights);
    }

    [Fact]
    public void The_architecture_alone_imports_with_a_warning_that_the_weights_are_fresh()
    {
        using var dir = new TempDir();
        var imported = KerasImporter.Import(dir.Write("m.json", ResidualJson), null);
        Assert.Equal([3], imported.Model.OutputShape);
        Assert.Contains(imported.Warnings, w => w.Contains("no weights", StringComparison.Ordinal));
    }

    [Fact]
    public void A_weight_of_the_wrong_shape_names_the_file_the_layer_and_both_shapes()
    {
        using var dir = new TempDir();
        var weights = ResidualWeights();
        weights[6] = ("out", [new("out/kernel:0", new float[32], 8, 4), new("out/bias:0", new float[3], 3)]);
        KerasTestFiles.WriteWeights(dir.File("w.h5"), weights);
        var e = Assert.Throws<HetQException>(() => KerasImporter.Import(dir.Write("m.json", ResidualJson), dir.File("w.h5")));
        Assert.Contains(dir.File("w.h5"), e.Message);
        Assert.Contains("layer 'out'", e.Message);
        Assert.Contains("[8,4]", e.Message);
        Assert.Contains("[8,3]", e.Message);
    }

    [Fact]
    public void A_missing_weight_names_the_file_the_layer_and_the_weight()
    {
        using var dir = new TempDir();
        var weights = ResidualWeights();
        weights[2] = ("bn", weights[2].Weights.Take(3).ToArray());
        KerasTestFiles.WriteWeights(dir.File("w.h5"), weights);
        var e = Assert.Throws<HetQException>(() => KerasImporter.Import(dir.Write("m.json", ResidualJson), dir.File("w.h5")));
        Assert.Contains(dir.File("w.h5"), e.Message);
        Assert.Contains("layer 'bn'", e.Message);
        Assert.Contains("'moving_variance'", e.Message);
    }

    [Fact]
    public void A_layer_missing_from_the_weights_file_is_named()
    {
        using var dir = new TempDir();
        KerasTestFiles.WriteWeights(dir.File("w.h5"), ResidualWeights().Where(l => l.Layer != "qd").ToArray());
        var e = Assert.Throws<HetQException>(() => KerasImporter.Import(dir.Write("m.json", ResidualJson), dir.File("w.h5")));
        Assert.Contains("no weights for layer 'qd' (QDense)", e.Message);
    }

    [Fact]
    public void A_weights_file_that_is_not_HDF5_is_named()
    {
        using var dir = new TempDir();
        string json = dir.Write("m.json", ResidualJson);
        var e = Assert.Throws<HetQException>(() => KerasImporter.Import(json, json));
        Assert.StartsWith($"{json}: not a readable HDF5 file", e.Message);
        var missing = Assert.Throws<HetQException>(() => KerasImporter.Import(json, dir.File("nope.h5")));
        Assert.Equal($"{dir.File("nope.h5")}: file not found", missing.Message);
    }

    [Fact]
    public void A_weights_file_given_as_the_model_says_it_has_no_architecture()
    {
        using var dir = new TempDir();
        KerasTestFiles.WriteWeights(dir.File("w.h5"), ResidualWeights());
        var e = Assert.Throws<HetQException>(() => KerasImporter.Import(dir.File("w.h5"), null));
        Assert.Contains("no 'model_config' attribute", e.Message);
    }
}
