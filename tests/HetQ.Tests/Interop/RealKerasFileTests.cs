using HetQ.Interop;

namespace HetQ.Tests.Interop;

/// <summary>Keras files that Keras itself saved (Golden/keras3/real, with their sources and licences in its README):
/// the importer must read what users' files hold, not only what HetQ's own golden scripts write.</summary>
public class RealKerasFileTests(ITestOutputHelper output)
{
    private static string File(string name) => Keras3ImportTests.File(Path.Combine("real", name));

    [Fact]
    public void A_Keras_3_9_archive_from_a_users_repository_computes_what_Keras_predicted()
    {
        var import = KerasImporter.Import(File("flownet.keras"));
        var model = import.Model;
        Assert.Equal([2], model.InputShape);
        Assert.Equal(["dense", "dropout", "dense_1", "leaky_re_lu", "dense_2", "leaky_re_lu_1", "dense_3"],
            model.Nodes.Select(n => n.Layer.Name).ToArray());
        Assert.Equal(10_786, model.Nodes.Sum(n => n.Layer.Parameters.Sum(p => p.Value.Length)));
        var g = Keras3ImportTests.Read(Path.Combine("real", "flownet"));
        var y = Keras3ImportTests.Forward(model, g.Input, g.Samples);
        Assert.Equal(g.Output.Length, y.Length);
        double max = y.Zip(g.Output, (a, b) => Math.Abs(a - b)).Max();
        output.WriteLine($"flownet.keras (Keras 3.9.2): max |HetQ - Keras model.predict| = {max:E2} over {g.Samples} rows");
        // Keras's float32 outputs went through the author's inverse MinMax scaling and Excel's decimal text, and back.
        Assert.True(max < 2e-6, $"max abs difference {max}");
    }

    [Fact]
    public void A_tf_keras_HDF5_model_saved_under_a_keras_name_is_read_as_the_Keras_2_file_it_is()
    {
        var import = KerasImporter.Import(File("hls4ml_mlp_streaming.keras"));
        Assert.Contains(import.Warnings, w => w.Contains("is an HDF5 file", StringComparison.Ordinal));
        Assert.Equal(["fc1", "relu1", "fc2", "relu2"], import.Model.Nodes.Select(n => n.Layer.Name).ToArray());
        var g = Keras3ImportTests.Read(Path.Combine("real", "hls4ml_mlp_streaming"));
        var y = Keras3ImportTests.Forward(import.Model, g.Input, g.Samples);
        double max = y.Zip(g.Output, (a, b) => Math.Abs(a - b)).Max();
        output.WriteLine($"hls4ml mlp_streaming (tf.keras 2.11 HDF5 as .keras): max |HetQ - NumPy float64| = {max:E2}");
        Assert.True(max < 1e-5, $"max abs difference {max}");
    }

    [Fact]
    public void A_keras_file_that_is_neither_a_zip_nor_HDF5_is_one_clear_error()
    {
        using var dir = new TempDir();
        string bad = Path.Combine(dir.Path, "m.keras");
        System.IO.File.WriteAllText(bad, "not a model");
        var e = Assert.Throws<HetQException>(() => KerasImporter.Import(bad));
        Assert.Contains("m.keras: not a Keras 3 archive", e.Message, StringComparison.Ordinal);
    }
}
