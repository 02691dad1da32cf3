using System.Globalization;
using System.Text.Json;
using HetQ.Data;
using HetQ.Nn;
using HetQ.Training;

namespace HetQ.Tests.Cli;

/// <summary>`hetq score`: the emulated anomaly score per sample of a learned-width autoencoder, as CSV.</summary>
[Collection("Console")]
public class ScoreCommandTests
{
    private const string Autoencoder = """
    {
      "name": "ae-learned", "seed": 2,
      "task": { "type": "autoencoder", "metric": "auc" },
      "data": { "name": "digits", "downsample": 2, "anomaly_classes": [1], "targets": "input" },
      "model": { "layers": [ { "type": "dense", "units": 3, "activation": "relu", "name": "enc" }, { "type": "dense", "units": 16, "name": "output" } ] },
      "loss": "mse", "optimizer": { "type": "adam", "learning_rate": 0.01 }, "epochs": 3, "batch_size": 32,
      "bitwidths": { "input": { "init": 4 }, "kernel": { "init": 5 }, "activation": { "init": 4 }, "beta": 1e-6 }
    }
    """;

    private static double[] Column(string csv) =>
        File.ReadAllLines(csv).Skip(1).Select(l => double.Parse(l.Split(',')[1], CultureInfo.InvariantCulture)).ToArray();

    [Fact]
    public void Score_writes_the_emulated_anomaly_score_of_every_sample_and_keeps_an_existing_file()
    {
        using var dir = new TempDir();
        var cfg = dir.Write("ae.json", Autoencoder);
        var (code, _, stderr) = CliRunner.Run("train", cfg, "--out", dir.File("m"));
        Assert.True(code == 0, stderr);
        string csv = dir.File("scores.csv");
        (code, var stdout, stderr) = CliRunner.Run("score", dir.File("m"), "--data", cfg, "--out", csv);
        Assert.True(code == 0, stderr + stdout);
        var lines = File.ReadAllLines(csv);
        Assert.Equal("sample,anomaly_score", lines[0]);
        var scores = Column(csv);
        var test = EvalJob.LoadData(cfg).Test;
        Assert.Equal(test.Count, scores.Length);
        // The AUC of these scores is the emulated AUC that eval reports (and eval checks emulation against fake quantization).
        (code, stdout, stderr) = CliRunner.Run("eval", dir.File("m"), "--data", cfg, "--json");
        Assert.True(code == 0, stderr + stdout);
        using (var doc = JsonDocument.Parse(stdout))
        {
            Assert.Equal(0, doc.RootElement.GetProperty("mismatches").GetInt32());
            Assert.Equal(doc.RootElement.GetProperty("auc_emulated").GetDouble(), TaskMetrics.RocAuc(scores, test.Labels));
        }
        // An unlabelled .npy of the first 20 samples scores the same.
        string npy = dir.File("x.npy");
        NpyWriter.Write(npy, test.Features.Take(20 * test.SampleSize).Select(v => (double)v).ToArray(), [20, test.SampleSize]);
        string csv2 = dir.File("first.csv");
        (code, stdout, stderr) = CliRunner.Run("score", dir.File("m"), "--data", npy, "--out", csv2);
        Assert.True(code == 0, stderr + stdout);
        Assert.Equal(scores.Take(20), Column(csv2));
        // An existing file is kept unless --force.
        string before = File.ReadAllText(csv2);
        (code, _, stderr) = CliRunner.Run("score", dir.File("m"), "--data", cfg, "--out", csv2);
        Assert.Equal(2, code);
        Assert.Contains("--force", stderr);
        Assert.Equal(before, File.ReadAllText(csv2));
        (code, _, stderr) = CliRunner.Run("score", dir.File("m"), "--data", cfg, "--out", csv2, "--force");
        Assert.True(code == 0, stderr);
        Assert.Equal(File.ReadAllText(csv), File.ReadAllText(csv2));
    }
}
