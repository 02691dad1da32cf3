using System.Text.Json;
using HetQ.Hardware;
using HetQ.Nn;
using HetQ.Tests.Cli;
using Json.Schema;

namespace HetQ.Tests.Hardware;

/// <summary>`hw write --reuse/--hw-config/--dsp`, `hw sim` of a folded design and `estimate --resources --reuse`.</summary>
[Collection("Console")]
public class FoldedCommandTests
{
    [Fact]
    public void Hw_reuse_writes_a_folded_design_that_hw_sim_finds_equal_to_the_emulator()
    {
        using var dir = new TempDir();
        string model = dir.File("mlp");
        ModelIO.Save(FoldedDesignTests.MlpModel(), new ModelMetadata("mlp", 10), model);
        var (code, stdout, err) = CliRunner.Run("hw", "write", model, "--out", dir.File("hw"), "--reuse", "8", "--json");
        Assert.True(code == 0, err + stdout);
        var r = JsonDocument.Parse(stdout.Trim()).RootElement;
        Assert.Equal(8, r.GetProperty("initiation_interval").GetInt32());
        Assert.Equal(16, r.GetProperty("latency_cycles").GetInt32());
        Assert.Equal(8, r.GetProperty("reuse_factors").GetProperty("fc1").GetInt32());
        Assert.Contains("in_ready", r.GetProperty("ports").EnumerateArray().Select(p => p.GetString()));

        // a configuration file: per layer; a rule that matches nothing is one line naming the file, exit 2
        string cfg = dir.Write("hw.json", """{ "reuse": 4, "layers": [ { "name": "out", "reuse": 2 } ] }""");
        (code, stdout, err) = CliRunner.Run("hw", "write", model, "--out", dir.File("cfg"), "--hw-config", cfg, "--json");
        Assert.True(code == 0, err + stdout);
        Assert.Equal(4, JsonDocument.Parse(stdout.Trim()).RootElement.GetProperty("initiation_interval").GetInt32());
        string bad = dir.Write("bad.json", """{ "layers": [ { "regex": "conv.*", "reuse": 2 } ] }""");
        (code, _, err) = CliRunner.Run("hw", "write", model, "--out", dir.File("bad"), "--hw-config", bad);
        Assert.Equal(2, code);
        Assert.Contains("bad.json: layers[0] (conv.*) matches no dense layer", err);
        Assert.False(Directory.Exists(dir.File("bad")));

        // the estimate takes the same options and prices the folded design's multipliers (not the parallel design's constants)
        (code, stdout, err) = CliRunner.Run("estimate", model, "--resources", "--json");
        Assert.True(code == 0, err + stdout);
        Assert.Equal(0, JsonDocument.Parse(stdout.Trim()).RootElement.GetProperty("features").GetProperty("multiplier_bits").GetDouble());
        (code, stdout, err) = CliRunner.Run("estimate", model, "--resources", "--reuse", "16", "--json");
        Assert.True(code == 0, err + stdout);
        var folded = JsonDocument.Parse(stdout.Trim()).RootElement;
        Assert.True(folded.GetProperty("features").GetProperty("multiplier_bits").GetDouble() > 0);
        Assert.True(folded.GetProperty("lut").GetInt64() > 0);
        (code, stdout, err) = CliRunner.Run("estimate", model, "--resources", "--reuse", "16", "--dsp", "--json");
        Assert.True(code == 0, err + stdout);
        Assert.True(JsonDocument.Parse(stdout.Trim()).RootElement.GetProperty("dsp").GetInt64() > 0);
        (code, _, err) = CliRunner.Run("estimate", model, "--reuse", "4");
        Assert.Equal(2, code);
        Assert.Contains("add --resources", err);

        Requires.Simulator(SimulatorKind.Icarus);
        (code, stdout, err) = CliRunner.Run("hw", "sim", dir.File("hw"), "--random", "25", "--simulator", "icarus", "--json");
        Assert.True(code == 0, err + stdout);
        r = JsonDocument.Parse(stdout.Trim()).RootElement;
        Assert.Equal(25, r.GetProperty("vectors").GetInt32());
        Assert.Equal(0, r.GetProperty("mismatches").GetInt32());
    }

    [Fact]
    public void The_hardware_schema_accepts_the_example_and_rejects_what_the_reader_rejects()
    {
        string root = Graph.GoldenGraphTests.RepoRoot();
        var schema = JsonSchema.FromFile(Path.Combine(root, "schemas", "hardware.schema.json"));
        string example = Path.Combine(root, "examples", "hardware", "digits-mlp-reuse.json");
        Assert.True(schema.Evaluate(JsonDocument.Parse(File.ReadAllText(example)).RootElement).IsValid);
        var plan = ReusePlan.Load(example);
        Assert.Equal(4, plan.Default);
        Assert.Equal(2, plan.Rules.Count);
        foreach (var wrong in new[] { """{ "reuse": 0 }""", """{ "layer": [] }""", """{ "layers": [ { "name": "a", "regex": "b", "reuse": 2 } ] }""", """{ "layers": [ { "name": "a" } ] }""" })
        {
            Assert.False(schema.Evaluate(JsonDocument.Parse(wrong).RootElement).IsValid, wrong);
            using var dir = new TempDir();
            Assert.Throws<HetQException>(() => ReusePlan.Load(dir.Write("c.json", wrong)));
        }
    }
}
