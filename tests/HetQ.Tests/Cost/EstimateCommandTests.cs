using System.Text.Json;
using HetQ.Tests.Cli;
using HetQ.Training;

namespace HetQ.Tests.Cost;

/// <summary>`hetq estimate` on a tiny quantized model trained in the test.</summary>
[Collection("Console")]
public class EstimateCommandTests
{
    private const string Config = """
    {
      "name": "q", "seed": 3,
      "data": { "name": "digits" },
      "model": { "layers": [ { "type": "dense", "units": 12, "activation": "relu", "name": "fc1" }, { "type": "dense", "units": 10, "name": "out" } ] },
      "quantization": {
        "input": "ap_ufixed<5,1,RND_CONV,SAT>",
        "default": { "kernel": "quantized_bits(4,0,alpha=1)", "bias": "quantized_bits(6,0,alpha=1)", "activation": "quantized_relu(5,1)" }
      },
      "optimizer": { "type": "adam", "learning_rate": 0.005 },
      "epochs": 1, "batch_size": 64
    }
    """;

    [Fact]
    public void Estimate_prints_a_table_with_totals_and_the_same_numbers_as_JSON()
    {
        using var dir = new TempDir();
        var r = TrainJob.Run(TrainConfig.Load(dir.Write("q.json", Config)), dir.File("m"));

        var (code, stdout, err) = CliRunner.Run("estimate", r.ModelDirectory);
        Assert.True(code == 0, err);
        var lines = stdout.Split('\n');
        Assert.StartsWith("layer", lines[0]);
        Assert.Contains(lines, l => l.StartsWith("fc1 ", StringComparison.Ordinal) && l.Contains("ap_fixed<4,1>", StringComparison.Ordinal));
        var total = lines.Single(l => l.StartsWith("total", StringComparison.Ordinal));
        // 64·12 + 12 + 12·10 + 10 = 910 parameters; kernels 4 bits, biases 6 bits: 888·4 + 22·6 = 3684.
        Assert.Contains(" 910 ", total);
        Assert.Contains(" 3684 ", total);

        (code, stdout, err) = CliRunner.Run("estimate", r.ModelDirectory, "--json");
        Assert.True(code == 0, err);
        var doc = JsonDocument.Parse(stdout).RootElement;
        var t = doc.GetProperty("total");
        Assert.Equal(910, t.GetProperty("parameters").GetInt64());
        Assert.Equal(3684, t.GetProperty("parameter_bits").GetInt64());
        var layers = doc.GetProperty("layers").EnumerateArray().ToList();
        Assert.Equal(["input", "fc1", "out"], layers.Select(l => l.GetProperty("name").GetString()));
        Assert.Equal(layers.Sum(l => l.GetProperty("ebops").GetInt64()), t.GetProperty("ebops").GetInt64());
        Assert.Equal(layers.Sum(l => l.GetProperty("multiplications").GetInt64()), t.GetProperty("multiplications").GetInt64());
        Assert.Equal("ap_ufixed<5,1>", layers[1].GetProperty("input_type").GetString());
        double onChip = t.GetProperty("energy_pj").GetDouble();

        (code, stdout, err) = CliRunner.Run("estimate", r.ModelDirectory, "--json", "--weights-on", "dram", "--activations-on", "sram");
        Assert.True(code == 0, err);
        var dram = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal("dram", dram.GetProperty("placement").GetProperty("weights").GetString());
        // DRAM reads of 3684 parameter bits alone cost 20.3125 pJ each.
        Assert.True(dram.GetProperty("total").GetProperty("energy_pj").GetDouble() > onChip + 20.3125 * 3684 - 1e-6);

        (code, _, err) = CliRunner.Run("estimate", r.ModelDirectory, "--weights-on", "disk");
        Assert.NotEqual(0, code);
    }

    [Fact]
    public void Estimate_of_a_float_model_prints_the_problems_and_exits_2()
    {
        using var dir = new TempDir();
        var cfg = dir.Write("f.json", Training.TrainJobTests.DigitsConfig.Replace("\"epochs\": 15", "\"epochs\": 1"));
        var r = TrainJob.Run(TrainConfig.Load(cfg), dir.File("m"));
        var (code, _, err) = CliRunner.Run("estimate", r.ModelDirectory);
        Assert.Equal(2, code);
        Assert.Contains("not exactly representable", err);
        Assert.Contains("kernel has no quantizer", err);
    }
}
