using System.Text.Json;
using HetQ.Interop;
using HetQ.Nn;
using HetQ.Tests.Cli;

namespace HetQ.Tests.Interop;

[Collection("Console")]
public class ImportCommandTests
{
    [Fact]
    public void Import_writes_a_model_directory_that_loads_and_computes_what_the_import_computes()
    {
        using var dir = new TempDir();
        string json = dir.Write("m.json", KerasFunctionalImportTests.ResidualJson);
        KerasTestFiles.WriteWeights(dir.File("w.h5"), KerasFunctionalImportTests.ResidualWeights());

        var (code, stdout, stderr) = CliRunner.Run("import", json, "--weights", dir.File("w.h5"), "--out", dir.File("model"), "--json");
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout.Trim());
        var root = doc.RootElement;
        Assert.Equal(dir.File("model"), root.GetProperty("model").GetString());
        Assert.Equal(6, root.GetProperty("layers").GetInt32());
        Assert.Equal(8 * 8 + 8 + 8 + 8 + 8 * 8 + 8 + 8 * 3 + 3, root.GetProperty("parameters").GetInt32());
        Assert.Contains("kernel_constraint", stderr);

        var (loaded, meta) = ModelIO.Load(dir.File("model"));
        var (imported, _) = KerasImporter.Import(json, dir.File("w.h5"));
        Assert.Equal("m", meta.Name);
        var x = new Tensor([16, 8], KerasTestFiles.Values(128, 3, 2));
        var expected = imported.Forward(x, new ForwardContext()).Data.ToArray();
        Assert.Equal(expected, loaded.Forward(x, new ForwardContext()).Data);
    }

    [Fact]
    public void Import_prints_a_layer_table_with_the_quantizers()
    {
        using var dir = new TempDir();
        KerasTestFiles.WriteWeights(dir.File("full.h5"), KerasFunctionalImportTests.ResidualWeights(), KerasFunctionalImportTests.ResidualJson);
        var (code, stdout, stderr) = CliRunner.Run("import", dir.File("full.h5"), "--out", dir.File("model"));
        Assert.True(code == 0, stderr);
        var lines = stdout.Split('\n');
        Assert.StartsWith("layer", lines[0]);
        Assert.Contains(lines, l => l.StartsWith("qd ", StringComparison.Ordinal) && l.Contains("[8]", StringComparison.Ordinal)
            && l.Contains("kernel=quantized_bits(4,0,0,alpha=1) bias=quantized_bits(4,0,0,alpha=1)", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("act ", StringComparison.Ordinal) && l.Contains("activation=quantized_relu(4,2)", StringComparison.Ordinal));
        Assert.Contains("6 layers", stdout);
        Assert.True(File.Exists(Path.Combine(dir.File("model"), "weights.bin")));
    }

    [Fact]
    public void Import_of_an_unsupported_layer_is_one_line_naming_it_and_exit_code_2()
    {
        using var dir = new TempDir();
        string json = dir.Write("m.json", """
            {"class_name": "Sequential", "config": {"name": "s", "layers": [
              {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 5, 3], "name": "in"}},
              {"class_name": "LSTM", "config": {"name": "lstm_1", "units": 4}}]}}
            """);
        var (code, stdout, stderr) = CliRunner.Run("import", json, "--out", dir.File("model"));
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Contains("layer 'lstm_1': LSTM is not supported", stderr);
        Assert.False(Directory.Exists(dir.File("model")));
    }
}
