using System.IO.Compression;
using System.Text.Json;
using HetQ.Data;
using HetQ.Interop;
using HetQ.Nn;
using HetQ.Training;
using PureHDF;

namespace HetQ.Tests.Interop;

/// <summary>Keras 3 .keras archives against the archives and golden outputs of Golden/keras3 (written by
/// scripts/keras3-golden.py in saving_lib's layout, golden outputs from a float64 NumPy forward pass).</summary>
public class Keras3ImportTests(ITestOutputHelper output)
{
    internal static string File(string name) => Path.Combine(AppContext.BaseDirectory, "Golden", "keras3", name);

    internal sealed record Golden(float[] Input, double[] Output, int Samples);

    internal static Golden Read(string name)
    {
        var root = JsonDocument.Parse(System.IO.File.ReadAllText(File(name + ".json"))).RootElement;
        static void Flatten(JsonElement e, List<double> into)
        {
            if (e.ValueKind == JsonValueKind.Number) { into.Add(e.GetDouble()); return; }
            foreach (var c in e.EnumerateArray()) Flatten(c, into);
        }
        var x = new List<double>();
        Flatten(root.GetProperty("input"), x);
        var y = new List<double>();
        Flatten(root.GetProperty("output"), y);
        return new Golden(x.Select(v => (float)v).ToArray(), [.. y], root.GetProperty("input").GetArrayLength());
    }

    internal static double[] Forward(Model model, float[] x, int n)
    {
        var shape = new[] { n }.Concat(model.InputShape).ToArray();
        var y = model.Forward(new Tensor(shape, x), new ForwardContext { Training = false });
        return y.Data.Take(n * Tensor.Size(model.OutputShape)).Select(v => (double)v).ToArray();
    }

    [Theory]
    [InlineData("keras3_mlp", new[] { 16 }, 3)]
    [InlineData("keras3_cnn", new[] { 8, 8, 2 }, 11)]
    [InlineData("keras3_conv1d", new[] { 10, 3 }, 5)]
    [InlineData("qkeras3_mlp", new[] { 8 }, 3)]
    public void A_Keras_3_archive_imports_and_computes_what_the_reference_pass_computes(string name, int[] inputShape, int layers)
    {
        var (model, _) = KerasImporter.Import(File(name + ".keras"));
        Assert.Equal(inputShape, model.InputShape);
        Assert.Equal(layers, model.Nodes.Count);
        var g = Read(name);
        var y = Forward(model, g.Input, g.Samples);
        Assert.Equal(g.Output.Length, y.Length);
        double max = y.Zip(g.Output, (a, b) => Math.Abs(a - b)).Max();
        output.WriteLine($"{name}: {model.Nodes.Count} layers, max |HetQ - reference| = {max:E2} over {g.Samples} samples");
        Assert.True(max < 1e-5, $"max abs difference {max}");
    }

    [Fact]
    public void QKeras_v3_layers_keep_their_quantizers_and_the_frozen_graph_emulates_the_model_exactly()
    {
        var (model, _) = KerasImporter.Import(File("qkeras3_mlp.keras"));
        var q = model.Nodes[0].Layer.Quantizers!;
        Assert.Equal("quantized_bits(6,0,0,alpha=1)", q.Kernel!.Spec);
        Assert.Equal("quantized_bits(6,0,0,alpha=1)", q.Bias!.Spec);
        Assert.Equal("quantized_relu(4,2)", model.Nodes[1].Layer.Quantizers!.Activation!.Spec);
        var g = Read("qkeras3_mlp");
        var data = new Dataset("qkeras3", model.InputShape, g.Input, new int[g.Samples], 4);
        Assert.Equal(0, EvalJob.Run(model, "qkeras3", data).Mismatches);
    }

    [Fact]
    public void An_HGQ2_model_maps_its_quantizers_per_element_and_emulates_HGQ2s_semantics_bit_for_bit()
    {
        var import = KerasImporter.Import(File("hgq2_mlp.keras"));
        var model = import.Model;
        Assert.Contains(import.Warnings, w => w.Contains("HGQ: 3 quantizers imported (3 with per-element widths)", StringComparison.Ordinal));
        Assert.NotNull(model.InputQuantizer!.Learned); // q_dense's input quantizer
        Assert.Equal(["q_dense", "q_dense_1_iq", "q_dense_1", "quantizer"], model.Nodes.Select(n => n.Layer.Name).ToArray());
        var g = Read("hgq2_mlp");
        var y = Forward(model, g.Input, g.Samples);
        Assert.Equal(g.Output, y); // fixed-point codes: equal, not close
        var freeze = HetQ.Graph.Freezer.Freeze(model, "hgq2");
        Assert.True(freeze.Graph is not null, string.Join("; ", freeze.Problems));
        var emu = new HetQ.Emulation.Emulator(freeze.Graph!);
        Assert.Equal(g.Output, emu.Values(emu.Run(g.Input)));
        var data = new Dataset("hgq2", model.InputShape, g.Input, new int[g.Samples], 3);
        Assert.Equal(0, EvalJob.Run(model, "hgq2", data).Mismatches);
        output.WriteLine($"hgq2_mlp: {g.Samples} samples equal to the HGQ2 reference (fake-quant and emulated)");
    }

    [Fact]
    public void A_functional_HGQ2_CNN_gets_its_dense_input_quantizer_after_the_flatten_and_emulates_exactly()
    {
        var (model, _) = KerasImporter.Import(File("hgq2_cnn.keras"));
        Assert.NotNull(model.InputQuantizer!.Learned); // q_conv2d's input quantizer, per element over [6, 6, 2]
        Assert.Equal(["q_conv2d", "flatten", "q_dense_iq", "q_dense"], model.Nodes.Select(n => n.Layer.Name).ToArray());
        Assert.Equal([1], model.Nodes[2].Inputs);
        var g = Read("hgq2_cnn");
        Assert.Equal(g.Output, Forward(model, g.Input, g.Samples));
        var freeze = HetQ.Graph.Freezer.Freeze(model, "hgq2_cnn");
        Assert.True(freeze.Graph is not null, string.Join("; ", freeze.Problems));
        var emu = new HetQ.Emulation.Emulator(freeze.Graph!);
        Assert.Equal(g.Output, emu.Values(emu.Run(g.Input)));
    }

    [Theory]
    [InlineData("hgq2_mlp")]
    [InlineData("hgq2_cnn")]
    public async Task The_imported_HGQ2_model_in_Verilog_equals_the_emulator(string name)
    {
        Requires.Simulator(HetQ.Hardware.SimulatorKind.Icarus);
        using var dir = new TempDir();
        var (model, _) = KerasImporter.Import(File(name + ".keras"));
        var freeze = HetQ.Graph.Freezer.Freeze(model, "hgq2");
        Assert.True(freeze.Graph is not null, string.Join("; ", freeze.Problems));
        await HetQ.Tests.Hardware.TestDesigns.Simulate(output, dir.File("hw"), freeze.Graph!, new HetQ.Hardware.HardwareOptions(),
            HetQ.Hardware.SimulatorKind.Icarus, Read(name).Input, 500);
    }

    [Fact]
    public void An_HGQ2_quantizer_with_no_exact_HetQ_form_is_an_error_naming_the_layer()
    {
        using var dir = new TempDir();
        string sym = Variant(dir, "hgq2_mlp", c => c.Replace("\"round_mode\": \"TRN\", \"overflow_mode\": \"SAT\"", "\"round_mode\": \"TRN\", \"overflow_mode\": \"SAT_SYM\"", StringComparison.Ordinal));
        var e = Assert.Throws<HetQException>(() => KerasImporter.Import(sym));
        Assert.Contains("layer 'q_dense_1_iq'", e.Message);
        Assert.Contains("overflow SAT_SYM cannot be mapped exactly", e.Message);
        string einsum = Variant(dir, "hgq2_mlp", c => c.Replace("\"class_name\": \"QDense\"", "\"class_name\": \"QEinsumDense\"", StringComparison.Ordinal));
        Assert.Contains("layer 'q_dense' (QEinsumDense): HGQ2 layer (module hgq.layers.core.dense) is not supported", Assert.Throws<HetQException>(() => KerasImporter.Import(einsum)).Message);
    }

    [Fact]
    public void Separate_weights_in_Keras_2_13s_checkpoint_layout_load_through_weights()
    {
        using var dir = new TempDir();
        // The archive's own weights, rewritten as a .weights.h5 under _layer_checkpoint_dependencies (Keras 2.13).
        var (_, _, h5) = KerasArchive.Open(File("keras3_mlp.keras"));
        var root = new PureHDF.H5Group();
        using (h5)
        {
            foreach (string layer in new[] { "dense", "dense_1" })
            {
                var vars = new PureHDF.H5Group();
                for (int i = 0; i < 2; i++)
                {
                    var ds = h5.Group("layers").Group(layer).Group("vars").Dataset(i.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    vars[i.ToString(System.Globalization.CultureInfo.InvariantCulture)] = new PureHDF.H5Dataset(ds.Read<float[]>(), fileDims: ds.Space.Dimensions);
                }
                root[layer] = new PureHDF.H5Group { ["vars"] = vars };
            }
        }
        string weights = dir.File("model.weights.h5");
        new PureHDF.H5File { ["_layer_checkpoint_dependencies"] = root }.Write(weights);
        var (model, _) = KerasImporter.Import(File("keras3_mlp.keras"), weights);
        var g = Read("keras3_mlp");
        var (reference, _) = KerasImporter.Import(File("keras3_mlp.keras"));
        Assert.Equal(Forward(reference, g.Input, g.Samples), Forward(model, g.Input, g.Samples));
    }

    [Fact]
    public void Weights_are_found_by_class_and_count_not_by_layer_name()
    {
        Assert.Equal("q_dense", KerasArchive.SnakeCase("QDense"));
        Assert.Equal("depthwise_conv2d", KerasArchive.SnakeCase("DepthwiseConv2D"));
        Assert.Equal("q_batch_normalization", KerasArchive.SnakeCase("QBatchNormalization"));
        Assert.Equal("re_lu", KerasArchive.SnakeCase("ReLU"));
        var paths = KerasArchive.Paths([("Dense", "fc1"), ("ReLU", "r"), ("Dense", "out"), ("Dense", "x")]);
        Assert.Equal(["layers/dense", "layers/re_lu", "layers/dense_1", "layers/dense_2"], new[] { paths["fc1"], paths["r"], paths["out"], paths["x"] });
    }

    private static int _variants;

    /// <summary>A copy of a golden archive with config.json changed by <paramref name="edit"/> (and optionally without the weights).</summary>
    private static string Variant(TempDir dir, string name, Func<string, string> edit, bool dropWeights = false)
    {
        string path = dir.File($"{name}_variant{Interlocked.Increment(ref _variants)}.keras");
        using (var src = ZipFile.OpenRead(File(name + ".keras")))
        using (var dst = ZipFile.Open(path, ZipArchiveMode.Create))
        {
            foreach (var e in src.Entries)
            {
                if (dropWeights && e.Name == "model.weights.h5") continue;
                var entry = dst.CreateEntry(e.FullName);
                using var r = e.Open();
                using var w = entry.Open();
                if (e.Name == "config.json")
                {
                    using var sr = new StreamReader(r);
                    using var sw = new StreamWriter(w);
                    sw.Write(edit(sr.ReadToEnd()));
                }
                else
                {
                    r.CopyTo(w);
                }
            }
        }
        return path;
    }

    [Fact]
    public void An_unsupported_layer_in_an_archive_is_an_error_naming_it()
    {
        using var dir = new TempDir();
        string path = Variant(dir, "keras3_mlp", c => c.Replace("\"class_name\": \"Dropout\"", "\"class_name\": \"GaussianNoise\"", StringComparison.Ordinal));
        var e = Assert.Throws<HetQException>(() => KerasImporter.Import(path));
        Assert.StartsWith(path, e.Message);
        Assert.Contains("layer 'dropout': GaussianNoise is not supported", e.Message);
    }

    [Fact]
    public void Missing_or_mismatched_weights_are_errors_naming_the_layer()
    {
        using var dir = new TempDir();
        string noWeights = Variant(dir, "keras3_mlp", c => c, dropWeights: true);
        Assert.Contains("has no model.weights.h5", Assert.Throws<HetQException>(() => KerasImporter.Import(noWeights)).Message);
        string noBias = Variant(dir, "keras3_mlp", c => c.Replace("\"units\": 5, \"activation\": \"softmax\", \"use_bias\": true", "\"units\": 5, \"activation\": \"softmax\", \"use_bias\": false", StringComparison.Ordinal));
        var e = Assert.Throws<HetQException>(() => KerasImporter.Import(noBias));
        Assert.Contains("layer 'dense_1' (Dense): the weights file has 2 variables in 'layers/dense_1/vars'; the layer takes 1 (kernel)", e.Message);
        string wide = Variant(dir, "keras3_mlp", c => c.Replace("\"units\": 12", "\"units\": 13", StringComparison.Ordinal));
        Assert.Contains("has shape [16,12], the model expects [16,13]", Assert.Throws<HetQException>(() => KerasImporter.Import(wide)).Message);
        System.IO.File.WriteAllText(dir.File("text.keras"), "not a zip");
        Assert.Contains("not a Keras 3 archive", Assert.Throws<HetQException>(() => KerasImporter.Import(dir.File("text.keras"))).Message);
    }

    [Fact]
    public void Keras_3_settings_that_change_the_computation_are_refused()
    {
        using var dir = new TempDir();
        string lora = Variant(dir, "keras3_mlp", c => c.Replace("\"units\": 12,", "\"units\": 12, \"lora_rank\": 4,", StringComparison.Ordinal));
        Assert.Contains("layer 'dense' (Dense): lora_rank 4 is not supported", Assert.Throws<HetQException>(() => KerasImporter.Import(lora)).Message);
        string int8 = Variant(dir, "keras3_mlp", c => c.Replace("{\"name\": \"float32\"}", "{\"name\": \"int8_from_float32\"}", StringComparison.Ordinal));
        Assert.Contains("dtype policy 'int8_from_float32'", Assert.Throws<HetQException>(() => KerasImporter.Import(int8)).Message);
    }
}

[Collection("Console")]
public class Keras3ImportCommandTests
{
    [Fact]
    public void The_import_command_takes_a_keras_archive_and_refuses_a_bad_one_with_exit_code_2()
    {
        using var dir = new TempDir();
        var (code, stdout, err) = HetQ.Tests.Cli.CliRunner.Run("import", Keras3ImportTests.File("keras3_cnn.keras"), "--out", dir.File("m"));
        Assert.True(code == 0, err);
        Assert.Contains("depthwise_conv2d", stdout);
        Assert.True(System.IO.File.Exists(Path.Combine(dir.File("m"), "model.json")));
        System.IO.File.WriteAllText(dir.File("bad.keras"), "not a zip");
        var (code2, stdout2, err2) = HetQ.Tests.Cli.CliRunner.Run("import", dir.File("bad.keras"), "--out", dir.File("m2"));
        Assert.Equal(2, code2);
        Assert.Equal("", stdout2);
        Assert.Single(err2.Trim().Split('\n'));
        Assert.False(Directory.Exists(dir.File("m2")));
    }
}
