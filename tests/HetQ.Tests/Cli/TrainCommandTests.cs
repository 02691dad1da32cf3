using System.Text.Json;

namespace HetQ.Tests.Cli;

[Collection("Console")]
public class TrainCommandTests
{
    [Fact]
    public void Train_with_json_ends_with_one_JSON_object_naming_the_model()
    {
        using var dir = new TempDir();
        var cfg = dir.Write("c.json", Training.TrainJobTests.DigitsConfig.Replace("\"epochs\": 15", "\"epochs\": 3"));
        var (code, stdout, stderr) = CliRunner.Run("train", cfg, "--out", dir.File("m"), "--json");
        Assert.True(code == 0, stderr);
        var last = stdout.TrimEnd().Split('\n')[^1];
        using var doc = JsonDocument.Parse(last);
        var root = doc.RootElement;
        Assert.Equal(3, root.GetProperty("epochs").GetInt32());
        Assert.InRange(root.GetProperty("test_accuracy").GetDouble(), 0.5, 1.0);
        Assert.True(root.GetProperty("seconds").GetDouble() > 0);
        Assert.True(File.Exists(Path.Combine(root.GetProperty("model").GetString()!, "model.json")));
        Assert.Contains("epoch   3/3", stderr);
    }

    [Fact]
    public void A_missing_config_is_one_line_on_stderr_and_exit_code_2()
    {
        var (code, stdout, stderr) = CliRunner.Run("train", "/nonexistent/config.json");
        Assert.Equal(2, code);
        Assert.Contains("/nonexistent/config.json", stderr);
        Assert.DoesNotContain("   at ", stderr);
        Assert.Equal("", stdout);
    }

    [Fact]
    public void Help_explains_the_train_verb()
    {
        var (code, stdout, _) = CliRunner.Run("train", "--help");
        Assert.Equal(0, code);
        Assert.Contains("--json", stdout);
        Assert.Contains("configuration", stdout);
    }
}

/// <summary>The per-epoch line shows accuracy only where accuracy means something.</summary>
public class EpochLineTests
{
    private static readonly HetQ.Nn.EpochResult Epoch = new(3, 10, 0.25, 0.1, 0.3, 0.05, 0.2, 1e-3, true);

    [Theory]
    [InlineData(HetQ.Nn.TaskKind.Classification, true)]
    [InlineData(HetQ.Nn.TaskKind.Binary, true)]
    [InlineData(HetQ.Nn.TaskKind.Regression, false)]
    [InlineData(HetQ.Nn.TaskKind.Autoencoder, false)]
    public void Accuracy_is_shown_for_classifiers_and_taggers_only(HetQ.Nn.TaskKind kind, bool shown)
    {
        string line = HetQ.Cli.Commands.TrainCommand.Format(Epoch, DateTime.UtcNow, kind);
        Assert.Contains("loss 0.2500", line, StringComparison.Ordinal);
        Assert.Contains("val_loss 0.3000", line, StringComparison.Ordinal);
        Assert.Equal(shown, line.Contains("acc ", StringComparison.Ordinal));
    }
}
