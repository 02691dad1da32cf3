using System.Text.Json;

namespace HetQ.Tests.Cli;

/// <summary>train, eval and hw sim of an autoencoder and a regression report the task's own metric.</summary>
[Collection("Console")]
public class TaskCommandTests
{
    private const string Autoencoder = """
    {
      "name": "ae", "seed": 1,
      "task": { "type": "autoencoder", "metric": "auc" },
      "data": { "name": "digits", "downsample": 2, "anomaly_classes": [0], "targets": "input" },
      "model": { "layers": [ { "type": "dense", "units": 6, "activation": "relu", "name": "enc" }, { "type": "dense", "units": 16, "name": "output" } ] },
      "loss": "mse", "optimizer": { "type": "adam", "learning_rate": 0.01 }, "epochs": 4, "batch_size": 32,
      "quantization": {
        "input": "quantized_bits(6,0,keep_negative=False)",
        "default": { "kernel": "quantized_bits(5,1,alpha=1)", "bias": "quantized_bits(6,2,alpha=1)", "activation": "quantized_relu(6,2)" },
        "layers": { "output": { "activation": "quantized_bits(6,0,keep_negative=False)" } }
      }
    }
    """;

    [Fact]
    public void An_autoencoder_trains_evaluates_and_simulates_with_its_auc_and_score()
    {
        using var dir = new TempDir();
        var cfg = dir.Write("ae.json", Autoencoder);
        var (code, stdout, stderr) = CliRunner.Run("train", cfg, "--out", dir.File("m"), "--json");
        Assert.True(code == 0, stderr);
        using (var doc = JsonDocument.Parse(stdout.TrimEnd().Split('\n')[^1]))
        {
            var root = doc.RootElement;
            Assert.Equal("autoencoder", root.GetProperty("task").GetString());
            Assert.InRange(root.GetProperty("test_auc").GetDouble(), 0.0, 1.0);
            Assert.True(root.GetProperty("test_mse").GetDouble() > 0);
            Assert.False(root.TryGetProperty("test_accuracy", out _));
        }
        (code, stdout, stderr) = CliRunner.Run("eval", dir.File("m"), "--data", cfg, "--json");
        Assert.True(code == 0, stderr + stdout);
        using (var doc = JsonDocument.Parse(stdout))
        {
            Assert.Equal(0, doc.RootElement.GetProperty("mismatches").GetInt32());
            Assert.Equal(doc.RootElement.GetProperty("auc_fake_quant").GetDouble(), doc.RootElement.GetProperty("auc_emulated").GetDouble());
        }
        (code, stdout, stderr) = CliRunner.Run("hw", "write", dir.File("m"), "--out", dir.File("hw"), "--json");
        Assert.True(code == 0, stderr);
        var manifest = File.ReadAllText(Path.Combine(dir.File("hw"), "manifest.json"));
        Assert.Contains("\"elements\": 1", manifest);
        Requires.Simulator(HetQ.Hardware.SimulatorKind.Icarus);
        (code, stdout, stderr) = CliRunner.Run("hw", "sim", dir.File("hw"), "--data", cfg, "--simulator", "icarus", "--limit", "100", "--json");
        Assert.True(code == 0, stderr + stdout);
        using var sim = JsonDocument.Parse(stdout);
        Assert.Equal(0, sim.RootElement.GetProperty("mismatches").GetInt32());
    }

    [Fact]
    public void A_regression_without_targets_is_one_line_naming_the_key()
    {
        using var dir = new TempDir();
        var cfg = dir.Write("r.json", Autoencoder.Replace("\"type\": \"autoencoder\", \"metric\": \"auc\"", "\"type\": \"regression\"")
            .Replace(", \"targets\": \"input\"", "").Replace("\"anomaly_classes\": [0], ", ""));
        var (code, _, stderr) = CliRunner.Run("train", cfg, "--out", dir.File("m"));
        Assert.Equal(2, code);
        Assert.Contains("target_columns", stderr);
        Assert.DoesNotContain("   at ", stderr);
    }
}
