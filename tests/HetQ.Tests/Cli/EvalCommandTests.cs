using System.Text.Json;

namespace HetQ.Tests.Cli;

[Collection("Console")]
public class EvalCommandTests
{
    private const string Config = """
    {
      "name": "q", "seed": 2,
      "data": { "name": "digits" },
      "model": { "layers": [ { "type": "dense", "units": 16, "activation": "relu", "name": "fc1" }, { "type": "dense", "units": 10, "name": "out" } ] },
      "quantization": {
        "input": "ap_ufixed<5,1,RND_CONV,SAT>",
        "default": { "kernel": "quantized_bits(6,0,alpha=1)", "bias": "quantized_bits(6,0,alpha=1)", "activation": "quantized_relu(6,1)" }
      },
      "optimizer": { "type": "adam", "learning_rate": 0.005 },
      "epochs": 4, "batch_size": 32
    }
    """;

    [Fact]
    public void Train_freeze_and_eval_a_quantized_model_from_the_command_line()
    {
        using var dir = new TempDir();
        var cfg = dir.Write("q.json", Config);
        var (code, _, err) = CliRunner.Run("train", cfg, "--out", dir.File("m"), "--json");
        Assert.True(code == 0, err);
        (code, var stdout, err) = CliRunner.Run("eval", dir.File("m"), "--data", cfg, "--json");
        Assert.True(code == 0, err + stdout);
        var r = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]).RootElement;
        Assert.Equal(359, r.GetProperty("samples").GetInt32()); // the stratified 20 % test part of 1797 digits
        Assert.Equal(0, r.GetProperty("mismatches").GetInt32());
        Assert.Equal(r.GetProperty("accuracy_fake_quant").GetDouble(), r.GetProperty("accuracy_emulated").GetDouble());
        Assert.True(r.GetProperty("accuracy_float").GetDouble() > 0.5);
        (code, stdout, err) = CliRunner.Run("freeze", dir.File("m"));
        Assert.True(code == 0, err);
        Assert.Contains("ap_ufixed<6,1>", stdout);
        Assert.True(File.Exists(Path.Combine(dir.File("m"), "graph.json")));
    }

    [Fact]
    public void Eval_of_a_float_model_says_which_layer_is_not_representable()
    {
        using var dir = new TempDir();
        var cfg = dir.Write("f.json", Training.TrainJobTests.DigitsConfig.Replace("\"epochs\": 15", "\"epochs\": 1"));
        Assert.Equal(0, CliRunner.Run("train", cfg, "--out", dir.File("m")).Code);
        var (code, stdout, _) = CliRunner.Run("eval", dir.File("m"), "--data", cfg);
        Assert.Equal(0, code);
        Assert.Contains("not exactly representable", stdout);
        Assert.Contains("kernel has no quantizer", stdout);
    }
}

[Collection("Console")]
public class PtqCommandTests
{
    [Fact]
    public void Ptq_turns_a_float_model_into_one_that_freezes_and_evaluates_without_mismatches()
    {
        using var dir = new TempDir();
        var cfg = dir.Write("f.json", Training.TrainJobTests.DigitsConfig.Replace("\"epochs\": 15", "\"epochs\": 1"));
        Assert.Equal(0, CliRunner.Run("train", cfg, "--out", dir.File("m")).Code);
        var (code, stdout, err) = CliRunner.Run("ptq", dir.File("m"), "--precision", "ap_fixed<12,5,RND,SAT>", "--out", dir.File("q"));
        Assert.True(code == 0, err + stdout);
        Assert.Contains("ap_fixed<12,5,RND,SAT>", stdout);
        (code, stdout, err) = CliRunner.Run("eval", dir.File("q"), "--data", cfg, "--json");
        Assert.True(code == 0, err + stdout);
        Assert.Contains("\"mismatches\":0", stdout);
        (code, _, err) = CliRunner.Run("ptq", dir.File("m"), "--precision", "ap_fixed<12>", "--out", dir.File("r"));
        Assert.Equal(2, code);
        Assert.StartsWith("hetq: error: --precision:", err);
        Assert.False(Directory.Exists(dir.File("r")));
    }
}
