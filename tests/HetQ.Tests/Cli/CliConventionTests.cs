using System.Text.Json;
using HetQ.Hardware;
using HetQ.Nn;

namespace HetQ.Tests.Cli;

/// <summary>The command-line conventions of the README: `hetq hw write|sim|synth` (old spellings kept), the exit-code table,
/// and one JSON writer that prints `&lt;`, `&gt;`, `'` and `&amp;` as themselves on every `--json` verb.</summary>
[Collection("Console")]
public class CliConventionTests
{
    private static string TinyModel(TempDir dir)
    {
        string model = dir.File("tiny");
        ModelIO.Save(Graph.GoldenGraphTests.Tiny(), new ModelMetadata("tiny", 2), model);
        return model;
    }

    [Fact]
    public void Hw_help_shows_the_three_verbs_and_no_model_argument()
    {
        var (code, stdout, _) = CliRunner.Run("hw", "--help");
        Assert.Equal(0, code);
        Assert.Contains("hetq hw [command]", stdout);
        Assert.Contains("write <model>", stdout);
        Assert.Contains("sim <dir>", stdout);
        Assert.Contains("synth <dir>", stdout);
        Assert.DoesNotContain("<model> sim", stdout);
        (code, stdout, _) = CliRunner.Run("hw", "sim", "--help");
        Assert.Equal(0, code);
        Assert.Contains("hetq hw sim <dir> [options]", stdout);
        (code, stdout, _) = CliRunner.Run("hw", "write", "--help");
        Assert.Equal(0, code);
        Assert.Contains("hetq hw write <model> [options]", stdout);
        Assert.Contains("--max-weights", stdout);
    }

    [Fact]
    public void Hw_write_and_the_old_spelling_hw_MODEL_write_the_same_design_and_print_the_same()
    {
        using var dir = new TempDir();
        string model = TinyModel(dir);
        var (code, stdout, err) = CliRunner.Run("hw", "write", model, "--out", dir.File("new"), "--json");
        Assert.True(code == 0, err);
        Assert.Equal("", err);
        var (oldCode, oldOut, oldErr) = CliRunner.Run("hw", model, "--out", dir.File("old"), "--json");
        Assert.True(oldCode == 0, oldErr);
        Assert.Equal("", oldErr);
        Assert.Equal(stdout.Replace(dir.File("new"), "D", StringComparison.Ordinal), oldOut.Replace(dir.File("old"), "D", StringComparison.Ordinal));
        foreach (var f in new[] { "hetq_tiny.v", "manifest.json", "graph.json" })
            Assert.Equal(File.ReadAllText(Path.Combine(dir.File("new"), f)), File.ReadAllText(Path.Combine(dir.File("old"), f)));
        // options before the model also still mean `write`
        (code, _, err) = CliRunner.Run("hw", "--out", dir.File("opt"), model);
        Assert.True(code == 0, err);
        Assert.True(File.Exists(Path.Combine(dir.File("opt"), "hetq_tiny.v")));
    }

    [Fact]
    public void The_old_spelling_hw_MODEL_sim_DIR_simulates_DIR_and_a_changed_design_exits_1()
    {
        using var dir = new TempDir();
        string model = TinyModel(dir);
        Assert.Equal(0, CliRunner.Run("hw", "write", model, "--out", dir.File("hw")).Code);
        Requires.Simulator(SimulatorKind.Icarus);
        var (code, stdout, err) = CliRunner.Run("hw", "/no/such/model", "sim", dir.File("hw"), "--random", "20", "--simulator", "icarus", "--json");
        Assert.True(code == 0, err + stdout);
        Assert.Equal(0, JsonDocument.Parse(stdout.Trim()).RootElement.GetProperty("mismatches").GetInt32());

        // a hand-edited Verilog output: the check fails, exit code 1 (not 2: the command line and files are fine)
        string v = Path.Combine(dir.File("hw"), "hetq_tiny.v");
        string text = File.ReadAllText(v);
        Assert.Contains("assign y[6:0] = out_s1_r2;", text);
        File.WriteAllText(v, text.Replace("assign y[6:0] = out_s1_r2;", "assign y[6:0] = out_s1_r2 ^ 7'h1;", StringComparison.Ordinal));
        (code, stdout, err) = CliRunner.Run("hw", "sim", dir.File("hw"), "--random", "20", "--simulator", "icarus");
        Assert.True(code == 1, $"exit {code}: {err}{stdout}");
        Assert.Contains("MISMATCH", stdout);
    }

    public static TheoryData<string, string[]> UsageErrors => new()
    {
        { "an unknown verb", ["frobnicate"] },
        { "an unknown option", ["quantize", "ternary", "--values", "1", "--no-such-option"] },
        { "a missing argument", ["hw", "write"] },
        { "a verb group without its verb", ["hw"] },
        { "a value outside the choices", ["hw", "sim", "d", "--simulator", "modelsim"] },
        { "a number that is not one", ["hw", "sim", "d", "--random", "many"] },
        { "a missing input file", ["eval", "/no/such/model/dir"] },
    };

    [Theory]
    [MemberData(nameof(UsageErrors))]
    public void A_usage_or_input_error_is_one_line_and_exit_code_2(string what, string[] args)
    {
        var (code, stdout, err) = CliRunner.Run(args);
        Assert.True(code == 2, $"{what}: exit {code}, stderr {err}");
        Assert.Equal("", stdout);
        Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("hetq: error: ", err, StringComparison.Ordinal);
    }

    [Fact]
    public void A_parse_error_names_the_sub_verb_whose_help_explains_it()
    {
        var (code, _, err) = CliRunner.Run("hw", "sim", "d", "--simulator", "modelsim");
        Assert.Equal(2, code);
        Assert.Contains("(see hetq hw sim --help)", err);
    }

    [Fact]
    public void An_internal_error_maps_to_70_and_user_errors_to_2()
    {
        Assert.False(HetQ.Cli.Cli.Describe(new NullReferenceException("x")).User);
        Assert.True(HetQ.Cli.Cli.Describe(new HetQException("x")).User);
        Assert.Equal(0, HetQ.Cli.ExitCodes.Ok);
        Assert.Equal(1, HetQ.Cli.ExitCodes.CheckFailed);
        Assert.Equal(2, HetQ.Cli.ExitCodes.BadInput);
        Assert.Equal(70, HetQ.Cli.ExitCodes.Internal);
    }

    private const string TrainConfig = """
    {
      "name": "json",
      "seed": 1,
      "data": { "name": "digits", "validation_fraction": 0.1, "test_fraction": 0.2 },
      "model": { "layers": [
          { "type": "dense", "units": 8, "activation": "relu", "name": "fc1" },
          { "type": "dense", "units": 10, "name": "output" } ] },
      "quantization": {
        "input": "ap_ufixed<5,1,RND_CONV,SAT>",
        "default": { "kernel": "quantized_bits(6,0,alpha=1)", "bias": "quantized_bits(6,0,alpha=1)", "activation": "quantized_relu(6,1)" }
      },
      "optimizer": { "type": "adam", "learning_rate": 0.003 },
      "epochs": 1, "batch_size": 64, "threads": 1
    }
    """;

    [Fact]
    [Trait("Category", "Slow")]
    public void Every_json_verb_prints_angle_brackets_quotes_and_ampersands_as_themselves()
    {
        using var root = new TempDir();
        // a folder whose name holds the characters a JSON encoder may escape: every path printed shows them as they are
        var dir = new Sub(Path.Combine(root.Path, "it's a&b"));
        string cfg = dir.Write("train.json", TrainConfig);
        string m = dir.File("m");
        var outputs = new List<(string Verb, string Out)>();
        void Run(string verb, params string[] args)
        {
            var (code, stdout, err) = CliRunner.Run(args);
            Assert.True(code == 0, $"{verb}: exit {code}: {err}");
            string last = stdout.TrimEnd().Split('\n')[^1];
            using var _ = JsonDocument.Parse(last);
            outputs.Add((verb, last));
        }
        Run("train", "train", cfg, "--out", m, "--json");
        Run("quantize", "quantize", "quantized_bits(4,0,alpha=1)", "--values", "0.3,-0.7", "--json");
        Run("freeze", "freeze", m, "--out", dir.File("g.json"), "--json");
        Run("eval", "eval", m, "--data", cfg, "--json");
        Run("estimate", "estimate", m, "--json");
        Run("estimate --resources", "estimate", m, "--resources", "--json");
        Run("ptq", "ptq", m, "--precision", "ap_fixed<12,5,RND,SAT>", "--out", dir.File("q"), "--json");
        Run("hw write", "hw", "write", m, "--out", dir.File("hw"), "--json");
        string keras = dir.Write("k.json", Interop.KerasFunctionalImportTests.ResidualJson);
        Interop.KerasTestFiles.WriteWeights(dir.File("w.h5"), Interop.KerasFunctionalImportTests.ResidualWeights());
        Run("import", "import", keras, "--weights", dir.File("w.h5"), "--out", dir.File("imported"), "--json");
        string search = dir.Write("search.json", $$"""
        {
          "name": "s", "train": "train.json", "input": "ap_ufixed<5,1,RND_CONV,SAT>", "trials": 2, "epochs": 1,
          "strategy": { "type": "random", "seed": 1 },
          "space": { "default": { "kernel": ["quantized_bits(3,0,1,alpha=1)", "quantized_bits(6,0,1,alpha=1)"],
                                  "bias": ["quantized_bits(6,2,1,alpha=1)"], "activation": ["quantized_relu(4,2)"] } },
          "study": "study.sqlite", "output": "out"
        }
        """);
        Run("search", "search", search, "--json");
        Run("study show", "study", "show", dir.File("study.sqlite"), "--json");
        if (Simulation.Unavailable(SimulatorKind.Icarus) is null)
            Run("hw sim", "hw", "sim", dir.File("hw"), "--data", cfg, "--limit", "20", "--simulator", "icarus", "--json");

        foreach (var (verb, text) in outputs)
            foreach (var escape in new[] { "\\u003C", "\\u003E", "\\u0027", "\\u0026", "\\u002B" })
                Assert.False(text.Contains(escape, StringComparison.OrdinalIgnoreCase), $"{verb} prints {escape}: {text}");
        Assert.Contains(outputs, o => o.Verb == "freeze" && o.Out.Contains("ap_ufixed<5,1", StringComparison.Ordinal));
        Assert.Contains(outputs, o => o.Verb == "hw write" && o.Out.Contains("ap_ufixed<5,1", StringComparison.Ordinal));
        Assert.Contains(outputs, o => o.Verb == "ptq" && o.Out.Contains("ap_fixed<12,5", StringComparison.Ordinal));
        Assert.Contains(outputs, o => o.Verb == "train" && o.Out.Contains("it's a&b", StringComparison.Ordinal));
        Assert.Contains(outputs, o => o.Verb == "search" && o.Out.Contains("it's a&b", StringComparison.Ordinal));
    }

    private sealed class Sub(string path)
    {
        public string Path { get; } = Directory.CreateDirectory(path).FullName;
        public string File(string name) => System.IO.Path.Combine(Path, name);
        public string Write(string name, string text) { System.IO.File.WriteAllText(File(name), text); return File(name); }
    }
}
