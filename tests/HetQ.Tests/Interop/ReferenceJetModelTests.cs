using HetQ.Data;
using HetQ.Interop;
using HetQ.Nn;
using HetQ.Tests.Data;
using PureHDF;

namespace HetQ.Tests.Interop;

/// <summary>The hls4ml reference jet taggers of ../shared/data/models/keras, run on the 100 reference jets
/// of ../shared/data/jets. Each test is skipped, saying so, when the shared folder is absent.</summary>
public class ReferenceJetModelTests(ITestOutputHelper output)
{
    private sealed record Jets(Tensor X, int[] Labels);

    private static Jets LoadJets()
    {
        string f = Requires.Shared("data/jets/jets100_features.dat");
        string l = Requires.Shared("data/jets/jets100_labels_onehot.dat");
        var d = JetsReader.ReadDat(f, l);
        return new Jets(new Tensor([d.Count, 16], d.Features), d.Labels);
    }

    [Fact]
    public void The_frozen_QKeras_jet_tagger_gives_QKeras_class_on_all_100_jets()
    {
        string json = Requires.Shared("data/models/keras/qkeras_3layer.json");
        string h5 = Requires.Shared("data/models/keras/qkeras_3layer_weights.h5");
        string expectedPath = Requires.Shared("data/jets/jets100_qkeras_3layer_softmax.dat");
        var jets = LoadJets();
        var (model, _) = KerasImporter.Import(json, h5);
        var graph = HetQ.Graph.Freezer.Freeze(model, "qkeras_3layer").Graph!;
        var emu = new HetQ.Emulation.Emulator(graph);
        var values = emu.Values(emu.Run(jets.X.Data));
        var expected = KerasTestFiles.ReadMatrix(expectedPath);
        int same = 0, correct = 0;
        for (int i = 0; i < 100; i++)
        {
            int cls = KerasTestFiles.ArgMax(values.Skip(i * 5).Take(5).Select(v => (float)v).ToArray());
            if (cls == KerasTestFiles.ArgMax(expected[i].Select(v => (float)v).ToArray())) same++;
            if (cls == jets.Labels[i]) correct++;
        }
        output.WriteLine($"frozen integer model: same class as QKeras on {same}/100 jets, accuracy {correct} %");
        Assert.Equal(100, same);
        Assert.Equal(74, correct);
    }

    [Fact]
    public void The_QKeras_jet_tagger_reproduces_the_QKeras_softmax_on_100_jets_and_its_74_percent_accuracy()
    {
        string json = Requires.Shared("data/models/keras/qkeras_3layer.json");
        string h5 = Requires.Shared("data/models/keras/qkeras_3layer_weights.h5");
        string expectedPath = Requires.Shared("data/jets/jets100_qkeras_3layer_softmax.dat");
        var jets = LoadJets();

        var imported = KerasImporter.Import(json, h5);
        var (model, meta) = imported;
        Assert.Equal([16], model.InputShape);
        Assert.Equal(5, meta.NumClasses);
        Assert.Equal(["fc1", "relu1", "fc2", "relu2", "fc3", "relu3", "output", "softmax"], model.Nodes.Select(n => n.Layer.Name));
        var fc1 = model.Nodes[0].Layer.Quantizers!;
        Assert.Equal("quantized_bits(6,0,0,alpha=1)", fc1.Kernel!.Spec);
        Assert.Equal("quantized_bits(6,0,0,alpha=1)", fc1.Bias!.Spec);
        Assert.Equal("quantized_relu(6,0)", model.Nodes[1].Layer.Quantizers!.Activation!.Spec);

        var y = model.Forward(jets.X, new ForwardContext { Training = false });
        var expected = KerasTestFiles.ReadMatrix(expectedPath);
        double maxError = 0;
        int correct = 0;
        for (int i = 0; i < 100; i++)
        {
            for (int j = 0; j < 5; j++) maxError = Math.Max(maxError, Math.Abs(y.Row(i)[j] - expected[i][j]));
            if (KerasTestFiles.ArgMax(y.Row(i)) == jets.Labels[i]) correct++;
        }
        output.WriteLine($"max |HetQ - QKeras| = {maxError:E2}, accuracy {correct} %");
        Assert.True(maxError <= 1e-6, $"max abs error {maxError:E3}");
        Assert.Equal(74, correct);
    }

    [Fact]
    public void The_float_Keras_jet_tagger_matches_a_double_precision_forward_pass_over_its_HDF5_weights()
    {
        string json = Requires.Shared("data/models/keras/KERAS_3layer.json");
        string h5 = Requires.Shared("data/models/keras/KERAS_3layer_weights.h5");
        var jets = LoadJets();

        var (model, _) = KerasImporter.Import(json, h5);
        Assert.Equal(["fc1_relu", "fc2_relu", "fc3_relu", "output_softmax"], model.Nodes.Select(n => n.Layer.Name));
        Assert.All(model.Nodes, n => Assert.Null(n.Layer.Quantizers));

        // The reference reads the weights on its own, straight from the file.
        using var file = H5File.OpenRead(h5);
        (float[] W, float[] B) Weights(string layer) =>
            (file.Group(layer).Dataset($"{layer}/kernel:0").Read<float[]>(), file.Group(layer).Dataset($"{layer}/bias:0").Read<float[]>());
        var layers = new[] { "fc1_relu", "fc2_relu", "fc3_relu", "output_softmax" }.Select(Weights).ToArray();

        var y = model.Forward(jets.X, new ForwardContext { Training = false });
        double maxError = 0;
        for (int i = 0; i < 100; i++)
        {
            double[] h = jets.X.Row(i).ToArray().Select(v => (double)v).ToArray();
            for (int k = 0; k < 3; k++) h = KerasTestFiles.Relu(KerasTestFiles.Affine(h, layers[k].W, layers[k].B));
            double[] p = KerasTestFiles.Softmax(KerasTestFiles.Affine(h, layers[3].W, layers[3].B));
            for (int j = 0; j < 5; j++) maxError = Math.Max(maxError, Math.Abs(y.Row(i)[j] - p[j]));
        }
        output.WriteLine($"max |HetQ float32 - double reference| = {maxError:E2}");
        Assert.True(maxError <= 1e-6, $"max abs error {maxError:E3}");
    }

    [Fact]
    public void An_imported_model_saves_and_loads_with_bit_identical_outputs()
    {
        string json = Requires.Shared("data/models/keras/qkeras_3layer.json");
        string h5 = Requires.Shared("data/models/keras/qkeras_3layer_weights.h5");
        var jets = LoadJets();

        var (model, meta) = KerasImporter.Import(json, h5);
        using var dir = new TempDir();
        ModelIO.Save(model, meta, dir.File("m"));
        var (loaded, _) = ModelIO.Load(dir.File("m"));
        var a = model.Forward(jets.X, new ForwardContext()).Data.ToArray();
        var b = loaded.Forward(jets.X, new ForwardContext()).Data;
        Assert.Equal(a, b);
    }

    [Fact]
    public void The_jets100_example_data_config_gives_the_100_reference_jets_the_tagger_classifies_at_74_percent()
    {
        string json = Requires.Shared("data/models/keras/qkeras_3layer.json");
        string h5 = Requires.Shared("data/models/keras/qkeras_3layer_weights.h5");
        LoadJets();

        string example = Path.Combine(RepositoryRoot(), "examples", "jets100.json");
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(example));
        var splits = DatasetLoader.Load(DataConfig.Parse(doc.RootElement, "data set", topLevel: true), Path.GetDirectoryName(example)!);
        Assert.Equal((0, 100), (splits.Train.Count, splits.Test.Count));

        var (model, _) = KerasImporter.Import(json, h5);
        var y = model.Forward(new Tensor([100, 16], splits.Test.Features), new ForwardContext());
        Assert.Equal(74, Enumerable.Range(0, 100).Count(i => KerasTestFiles.ArgMax(y.Row(i)) == splits.Test.Labels[i]));
    }

    private static string RepositoryRoot()
    {
        string? dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "HetQ.slnx")))
            dir = Path.GetDirectoryName(dir.TrimEnd(Path.DirectorySeparatorChar));
        return dir ?? throw new InvalidOperationException("HetQ.slnx not found above the test binaries");
    }
}
