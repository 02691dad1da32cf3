using System.Text.Json;
using HetQ.Data;

namespace HetQ.Tests.Cli;

[Collection("Console")]
public class PredictCommandTests
{
    private static string Golden(string name) => Path.Combine(AppContext.BaseDirectory, "Golden", "onnx", name);

    [Fact]
    public void Predict_writes_the_emulated_outputs_and_trace_every_node_of_an_imported_QONNX_model()
    {
        using var dir = new TempDir();
        var (code, _, err) = CliRunner.Run("import", Golden("qonnx_mlp.onnx"), "--out", dir.File("m"));
        Assert.True(code == 0, err);
        var g = JsonDocument.Parse(File.ReadAllText(Golden("qonnx_mlp.json"))).RootElement;
        double[] x = g.GetProperty("input").EnumerateArray().SelectMany(r => r.EnumerateArray().Select(v => v.GetDouble())).ToArray();
        double[] y = g.GetProperty("output").EnumerateArray().SelectMany(r => r.EnumerateArray().Select(v => v.GetDouble())).ToArray();
        // float32 inputs, as HetQ reads them.
        NpyWriter.Write(dir.File("x.npy"), x.Select(v => (double)(float)v).ToArray(), [16, 4]);
        (code, var stdout, err) = CliRunner.Run("predict", dir.File("m"), "--data", dir.File("x.npy"), "--out", dir.File("y.npy"));
        Assert.True(code == 0, err + stdout);
        var predicted = NpyReader.Read(dir.File("y.npy"));
        Assert.Equal([16, 3], predicted.Shape);
        Assert.Equal(y.Select(v => (float)v), predicted.Values);
        (code, _, err) = CliRunner.Run("predict", dir.File("m"), "--data", dir.File("x.npy"), "--out", dir.File("raw.npy"), "--raw");
        Assert.True(code == 0, err);
        Assert.Equal("<i8", NpyReader.Read(dir.File("raw.npy")).Dtype);

        (code, stdout, err) = CliRunner.Run("trace", dir.File("m"), "--data", dir.File("x.npy"), "--out", dir.File("t.npz"), "--samples", "3");
        Assert.True(code == 0, err + stdout);
        var arrays = NpyReader.ReadNpz(dir.File("t.npz"));
        Assert.Equal([3, 4], arrays["input"].Shape);
        var last = arrays.Values.Last();
        Assert.Equal(y.Take(9).Select(v => (float)v), last.Values);

        NpyWriter.Write(dir.File("bad.npy"), new double[10], [2, 5]);
        (code, _, err) = CliRunner.Run("predict", dir.File("m"), "--data", dir.File("bad.npy"), "--out", dir.File("z.npy"));
        Assert.Equal(2, code);
        Assert.Contains("bad.npy: shape [2,5]", err);
        Assert.False(File.Exists(dir.File("z.npy")));
    }
}
