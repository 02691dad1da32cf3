using HetQ.Interop;
using HetQ.Nn;
using HetQ.Nn.Layers;

namespace HetQ.Tests.Interop;

/// <summary>Keras and QKeras layer configs mapped to HetQ layers, and the errors for what does not map.</summary>
public class KerasLayerMappingTests
{
    /// <summary>A Sequential model of the given layer entries after an InputLayer of <paramref name="inputShape"/>.</summary>
    private static string Sequential(string inputShape, params string[] layers) =>
        $$$"""{"class_name": "Sequential", "keras_version": "2.4.0", "config": {"name": "s", "layers": [{"class_name": "InputLayer", "config": {"batch_input_shape": [null, {{{inputShape}}}], "name": "in"}}, {{{string.Join(", ", layers)}}}]}}""";

    private static KerasImport Import(string json)
    {
        using var dir = new TempDir();
        return KerasImporter.Import(dir.Write("model.json", json), null);
    }

    private static HetQException ImportFails(string json)
    {
        using var dir = new TempDir();
        string path = dir.Write("model.json", json);
        var e = Assert.Throws<HetQException>(() => KerasImporter.Import(path, null));
        Assert.StartsWith(path, e.Message);
        return e;
    }

    [Fact]
    public void An_unsupported_layer_is_an_error_naming_the_layer_and_its_class()
    {
        var e = ImportFails(Sequential("10, 4", """{"class_name": "LSTM", "config": {"name": "lstm_1", "units": 8}}"""));
        Assert.Contains("layer 'lstm_1': LSTM is not supported (supported: ", e.Message);
        Assert.Contains("QDense", e.Message);
    }

    [Fact]
    public void A_small_QKeras_CNN_maps_every_layer_with_its_settings_and_shapes()
    {
        string json = Sequential("8, 8, 2",
            """{"class_name": "QConv2D", "config": {"name": "c1", "filters": 4, "kernel_size": [3, 3], "strides": [1, 1], "padding": "same", "data_format": "channels_last", "dilation_rate": [1, 1], "groups": 1, "activation": {"class_name": "quantized_relu", "config": {"bits": 8, "integer": 3}}, "use_bias": true, "kernel_quantizer": "quantized_bits(8,0,alpha=1)", "bias_quantizer": null}}""",
            """{"class_name": "QDepthwiseConv2D", "config": {"name": "dw", "kernel_size": [3, 3], "strides": [2, 2], "padding": "valid", "depth_multiplier": 2, "activation": "relu", "use_bias": false, "depthwise_quantizer": {"class_name": "quantized_bits", "config": {"bits": 6, "integer": 1, "symmetric": 1, "alpha": "auto_po2"}}, "depthwise_regularizer": {"class_name": "L1L2", "config": {"l1": 0.01, "l2": 0.0}}}}""",
            """{"class_name": "QBatchNormalization", "config": {"name": "qbn", "axis": -1, "momentum": 0.99, "epsilon": 0.001, "center": true, "scale": false, "gamma_quantizer": null, "beta_quantizer": "quantized_bits(8,3)"}}""",
            """{"class_name": "ReLU", "config": {"name": "relu6", "max_value": 6.0, "negative_slope": 0.0, "threshold": 0.0}}""",
            """{"class_name": "MaxPooling2D", "config": {"name": "mp", "pool_size": [2, 2], "strides": null, "padding": "valid", "data_format": "channels_last"}}""",
            """{"class_name": "Conv2D", "config": {"name": "c2", "filters": 3, "kernel_size": 1, "padding": "valid", "activation": "linear"}}""",
            """{"class_name": "GlobalAveragePooling2D", "config": {"name": "gap", "data_format": "channels_last", "keepdims": false}}""",
            """{"class_name": "Dropout", "config": {"name": "drop", "rate": 0.25}}""",
            """{"class_name": "LeakyReLU", "config": {"name": "lrelu", "alpha": 0.1}}""",
            """{"class_name": "Activation", "config": {"name": "sm", "activation": "softmax"}}""");
        var imported = Import(json);
        var nodes = imported.Model.Nodes;
        Assert.Equal(["c1", "dw", "qbn", "relu6", "mp", "c2", "gap", "drop", "lrelu", "sm"], nodes.Select(n => n.Layer.Name));
        Assert.Equal(["conv2d", "depthwise_conv2d", "batch_norm", "hard_tanh", "max_pool2d", "conv2d", "global_avg_pool", "dropout", "leaky_relu", "softmax"],
            nodes.Select(n => n.Layer.Type));
        Assert.Equal([3, 3, 8], nodes[1].Layer.OutputShape);
        Assert.Equal([3], imported.Model.OutputShape);
        var c1 = (Conv)nodes[0].Layer;
        Assert.Equal(ActivationKind.Linear, c1.Activation.Kind);
        Assert.Equal("quantized_relu(8,3)", c1.Quantizers!.Activation!.Spec);
        Assert.Equal("quantized_bits(8,0,0,alpha=1)", c1.Quantizers.Kernel!.Spec);
        Assert.Null(c1.Quantizers.Bias);
        var dw = (DepthwiseConv2D)nodes[1].Layer;
        Assert.Equal("quantized_bits(6,1,1,alpha='auto_po2')", dw.Quantizers!.Kernel!.Spec);
        Assert.Equal(0.01, dw.KernelRegularizer!.L1);
        Assert.Null(dw.Bias);
        var relu6 = ((ActivationLayer)nodes[3].Layer).Activation;
        Assert.Equal((0f, 6f), (relu6.Min, relu6.Max));
        Assert.Equal(0.1f, ((ActivationLayer)nodes[8].Layer).Activation.Alpha, 6);
        Assert.Contains(imported.Warnings, w => w.StartsWith("layer 'qbn' (QBatchNormalization): imported as a float batch_norm; its quantizers are not applied", StringComparison.Ordinal)
            && w.Contains("beta_quantizer", StringComparison.Ordinal));
    }

    [Fact]
    public void Conv_and_depthwise_weights_load_from_their_Keras_names()
    {
        string json = Sequential("6, 6, 2",
            """{"class_name": "Conv2D", "config": {"name": "c", "filters": 3, "kernel_size": [3, 3], "padding": "same", "activation": "relu"}}""",
            """{"class_name": "DepthwiseConv2D", "config": {"name": "dw", "kernel_size": [3, 3], "depth_multiplier": 1, "padding": "valid", "use_bias": true}}""",
            """{"class_name": "BatchNormalization", "config": {"name": "bn", "axis": 3, "center": false, "scale": true}}""");
        using var dir = new TempDir();
        var ck = KerasTestFiles.Values(54, 1);
        var dk = KerasTestFiles.Values(27, 2);
        KerasTestFiles.WriteWeights(dir.File("w.h5"),
        [
            ("c", [new("c/kernel:0", ck, 3, 3, 2, 3), new("c/bias:0", [1, 2, 3], 3)]),
            ("dw", [new("dw/depthwise_kernel:0", dk, 3, 3, 3, 1), new("dw/bias:0", [4, 5, 6], 3)]),
            ("bn", [new("bn/gamma:0", [2, 2, 2], 3), new("bn/moving_mean:0", [0, 1, 0], 3), new("bn/moving_variance:0", [1, 1, 4], 3)]),
        ]);
        var (model, _) = KerasImporter.Import(dir.Write("m.json", json), dir.File("w.h5"));
        var p = model.Parameters.ToDictionary(x => x.Name, x => x.Value);
        Assert.Equal(ck, p["c/kernel"]);
        Assert.Equal(dk, p["dw/kernel"]);
        Assert.Equal([4f, 5, 6], p["dw/bias"]);
        Assert.Equal([0f, 0, 0], p["bn/beta"]);
        Assert.Equal([1f, 1, 4], p["bn/moving_variance"]);
    }

    [Fact]
    public void The_Keras_2_0_Sequential_layout_takes_the_input_shape_from_the_first_layer()
    {
        var (model, _) = Import("""
            {"class_name": "Sequential", "keras_version": "2.0.8", "config": [
              {"class_name": "Dense", "config": {"name": "a", "units": 4, "activation": "tanh", "batch_input_shape": [null, 3],
               "kernel_regularizer": {"class_name": "L1L2", "config": {"l1": 0.0, "l2": 0.0}}}},
              {"class_name": "Dense", "config": {"name": "b", "units": 2, "activation": "sigmoid", "use_bias": false}}]}
            """);
        Assert.Equal([3], model.InputShape);
        Assert.Null(((Dense)model.Nodes[0].Layer).KernelRegularizer);
        Assert.Equal(ActivationKind.Sigmoid, ((Dense)model.Nodes[1].Layer).Activation.Kind);
    }

    [Theory]
    [InlineData("""{"class_name": "Conv2D", "config": {"name": "c", "filters": 2, "kernel_size": 3, "data_format": "channels_first"}}""", "layer 'c' (Conv2D): data_format 'channels_first' is not supported")]
    [InlineData("""{"class_name": "Conv2D", "config": {"name": "c", "filters": 2, "kernel_size": 3, "dilation_rate": [2, 2]}}""", "layer 'c' (Conv2D): dilation_rate [2,2] is not supported")]
    [InlineData("""{"class_name": "Dense", "config": {"name": "d", "units": 2, "activation": "elu"}}""", "layer 'd' (Dense): activation \"elu\" is not supported")]
    [InlineData("""{"class_name": "QDense", "config": {"name": "q", "units": 2, "kernel_quantizer": {"class_name": "quantized_bits", "config": {"bits": 4, "alpha": [1, 2]}}}}""", "layer 'q' (QDense): kernel_quantizer.alpha: [1, 2] is not supported")]
    [InlineData("""{"class_name": "QActivation", "config": {"name": "qa", "activation": "swish"}}""", "layer 'qa' (QActivation): activation: 'swish' is neither a supported activation")]
    [InlineData("""{"class_name": "Dense", "config": {"name": "d", "units": 2, "kernel_regularizer": {"class_name": "OrthogonalRegularizer", "config": {}}}}""", "layer 'd' (Dense): kernel_regularizer: regularizer 'OrthogonalRegularizer' is not supported")]
    public void Settings_HetQ_lacks_are_errors_naming_the_layer(string layer, string message)
    {
        var e = ImportFails(Sequential("4, 4, 2", layer));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void A_non_default_quantizer_option_is_reported_with_the_parser_message()
    {
        var e = ImportFails(Sequential("4", """{"class_name": "QDense", "config": {"name": "q", "units": 2, "kernel_quantizer": {"class_name": "quantized_bits", "config": {"bits": 4, "use_stochastic_rounding": true}}}}"""));
        Assert.Contains("use_stochastic_rounding", e.Message);
    }

    [Fact]
    public void QActivation_with_a_plain_activation_name_is_that_activation()
    {
        var (model, _) = Import(Sequential("4", """{"class_name": "QActivation", "config": {"name": "a", "activation": "relu"}}""",
            """{"class_name": "QActivation", "config": {"name": "b", "activation": "quantized_bits(8,2)"}}"""));
        Assert.Equal(ActivationKind.Relu, ((ActivationLayer)model.Nodes[0].Layer).Activation.Kind);
        Assert.Null(model.Nodes[0].Layer.Quantizers);
        Assert.Equal(ActivationKind.Linear, ((ActivationLayer)model.Nodes[1].Layer).Activation.Kind);
        Assert.Equal("quantized_bits(8,2,0)", model.Nodes[1].Layer.Quantizers!.Activation!.Spec);
    }

    [Fact]
    public void Keras_3_JSON_is_refused_with_the_reason_and_the_archive_to_use_instead()
    {
        var e = ImportFails("""{"class_name": "Sequential", "keras_version": "3.3.3", "config": {"name": "s", "layers": []}}""");
        Assert.Contains("Keras 3.3.3", e.Message);
    }

    [Fact]
    public void A_layer_called_twice_is_refused_as_a_shared_layer()
    {
        var e = ImportFails("""
            {"class_name": "Model", "config": {"name": "m", "input_layers": [["x", 0, 0]], "output_layers": [["d", 1, 0]], "layers": [
              {"class_name": "InputLayer", "name": "x", "inbound_nodes": [], "config": {"name": "x", "batch_input_shape": [null, 4]}},
              {"class_name": "Dense", "name": "d", "config": {"name": "d", "units": 4}, "inbound_nodes": [[["x", 0, 0, {}]], [["d", 0, 0, {}]]]}]}}
            """);
        Assert.Contains("layer 'd' (Dense) is called 2 times; shared layers are not supported", e.Message);
    }
}
