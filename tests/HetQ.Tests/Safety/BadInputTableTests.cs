using System.Diagnostics;
using System.Text;

namespace HetQ.Tests.Safety;

/// <summary>A table of bad inputs and outputs for the CLI. Each case must end with exit code 2 and one line on stderr
/// that names the file, layer, field or option, without a stack trace or a hang; the case's files, the shared model and
/// its design must be unchanged afterwards (nothing written, nothing lost), and no injected command may have run
/// (no PWNED file). With HETQ_SAFETY_REPORT set, the table of outcomes is written to that file.</summary>
[Collection("Console")]
public sealed class BadInputTableTests(SafetyFixture fixture) : IClassFixture<SafetyFixture>
{
    /// <summary>One case: its name, what it sets up in its own directory (returning the CLI arguments), and a text the
    /// error line must hold.</summary>
    public sealed record Case(string Name, Func<string, SafetyFixture, string[]> Setup, string Expect);

    private const string Injection = "fc1\\n$system(\\\"touch PWNED\\\");";

    private static string Config(string dir, string from, string to, string name = "c.json")
    {
        string text = SafetyFixture.DigitsQat;
        if (from.Length > 0)
        {
            if (!text.Contains(from, StringComparison.Ordinal)) throw new InvalidOperationException($"'{from}' not in the config");
            text = text.Replace(from, to, StringComparison.Ordinal);
        }
        string file = Path.Combine(dir, name);
        File.WriteAllText(file, text);
        return file;
    }

    private static string[] Train(string dir, string from, string to) => new[] { "train", Config(dir, from, to), "--out", Path.Combine(dir, "out") };

    private static string ModelCopy(string dir, SafetyFixture f) => SafetyFixture.Copy(f.Model, Path.Combine(dir, "m"));

    private static string DesignCopy(string dir, SafetyFixture f) => SafetyFixture.Copy(f.Design, Path.Combine(dir, "d"));

    private static string Keep(string dir)
    {
        string keep = Path.Combine(dir, "keep");
        Directory.CreateDirectory(keep);
        File.WriteAllText(Path.Combine(keep, "thesis.tex"), "years of work");
        return keep;
    }

    public static readonly Case[] Cases =
    {
        // output paths: nothing HetQ did not write is replaced, checked before any work starts
        new("train --out a non-model directory", (d, _) => new[] { "train", Config(d, "", ""), "--out", Keep(d) }, "is not a HetQ model directory"),
        new("train --out .", (d, _) => new[] { "train", Config(d, "", ""), "--out", "." }, "--out ."),
        new("train --out ..", (d, _) => new[] { "train", Config(d, "", ""), "--out", ".." }, "--out .."),
        new("train --out the working directory", (d, _) => new[] { "train", Config(d, "", ""), "--out", Directory.GetCurrentDirectory() }, "working directory"),
        new("train --out a parent of the working directory", (d, _) => new[] { "train", Config(d, "", ""), "--out", Path.GetDirectoryName(Directory.GetCurrentDirectory())! }, "--out"),
        new("train --out /", (d, _) => new[] { "train", Config(d, "", ""), "--out", "/" }, "--out /"),
        new("train --out an existing file", (d, _) => { File.WriteAllText(Path.Combine(d, "f.txt"), "x"); return new[] { "train", Config(d, "", ""), "--out", Path.Combine(d, "f.txt") }; }, "not a directory"),
        new("train --out a symbolic link", (d, _) => { Directory.CreateSymbolicLink(Path.Combine(d, "link"), Keep(d)); return new[] { "train", Config(d, "", ""), "--out", Path.Combine(d, "link") }; }, "symbolic link"),
        new("train --out with a newline", (d, _) => new[] { "train", Config(d, "", ""), "--out", Path.Combine(d, "a\nb") }, "control characters"),
        new("config output: a non-model directory", (d, _) => { Keep(d); return new[] { "train", Config(d, "\"epochs\": 1,", $"\"epochs\": 1, \"output\": {System.Text.Json.JsonSerializer.Serialize(Path.Combine(d, "keep"))},") }; }, "output"),
        new("config checkpoint_dir: a non-model directory", (d, _) => { Keep(d); return Train(d, "\"epochs\": 1,", $"\"epochs\": 1, \"checkpoint_dir\": {System.Text.Json.JsonSerializer.Serialize(Path.Combine(d, "keep"))},"); }, "checkpoint_dir"),
        new("import --out a non-model directory", (d, _) => new[] { "import", Path.Combine(Data, "models/keras/KERAS_3layer.json"), "--weights", Path.Combine(Data, "models/keras/KERAS_3layer_weights.h5"), "--out", Keep(d) }, "is not a HetQ model directory"),
        new("freeze --out a file that is not a graph", (d, f) => { File.WriteAllText(Path.Combine(d, "notes.txt"), "mine"); return new[] { "freeze", f.Model, "--out", Path.Combine(d, "notes.txt") }; }, "not a hetq-integer-graph"),
        new("freeze --out a directory", (d, f) => new[] { "freeze", f.Model, "--out", Keep(d) }, "is a directory"),
        new("hw --out a non-design directory", (d, f) => new[] { "hw", f.Model, "--out", Keep(d) }, "is not a HetQ design directory"),
        new("hw --out the model directory", (d, f) => new[] { "hw", ModelCopy(d, f), "--out", Path.Combine(d, "m") }, "would replace the input"),
        new("hw --out a parent of the model", (d, f) => { ModelCopy(d, f); return new[] { "hw", Path.Combine(d, "m"), "--out", d }; }, "--out"),
        // configuration values
        new("duplicate JSON key", (d, _) => Train(d, "\"epochs\": 1,", "\"epochs\": 1, \"epochs\": 2,"), "c.json"),
        new("negative learning rate", (d, _) => Train(d, "0.003", "-0.1"), "learning_rate"),
        new("learning rate 1e30", (d, _) => Train(d, "0.003", "1e30"), "learning_rate"),
        new("clip_norm 0", (d, _) => Train(d, "\"epochs\": 1,", "\"epochs\": 1, \"clip_norm\": 0,"), "clip_norm"),
        new("label_smoothing 2", (d, _) => Train(d, "\"type\": \"softmax_cross_entropy\"", "\"type\": \"softmax_cross_entropy\", \"label_smoothing\": 2"), "label_smoothing"),
        new("patience -1", (d, _) => Train(d, "\"epochs\": 1,", "\"epochs\": 1, \"early_stopping\": { \"patience\": -1 },"), "patience"),
        new("Adam beta1 = 1", (d, _) => Train(d, "\"learning_rate\": 0.003", "\"learning_rate\": 0.003, \"beta1\": 1"), "beta1"),
        new("Adam epsilon 0", (d, _) => Train(d, "\"learning_rate\": 0.003", "\"learning_rate\": 0.003, \"epsilon\": 0"), "epsilon"),
        new("SGD momentum 1", (d, _) => Train(d, "\"type\": \"adam\"", "\"type\": \"sgd\", \"momentum\": 1"), "momentum"),
        new("ternary(alpha=-1)", (d, _) => Train(d, "\"kernel\": \"quantized_bits(6,0,alpha=1)\"", "\"kernel\": \"ternary(alpha=-1)\""), "alpha"),
        new("units 1000000", (d, _) => Train(d, "\"units\": 16", "\"units\": 1000000"), "units"),
        new("epochs 0", (d, _) => Train(d, "\"epochs\": 1", "\"epochs\": 0"), "epochs"),
        new("layer name with a newline (Verilog injection)", (d, _) => Train(d, "\"name\": \"fc1\"", $"\"name\": \"{Injection}\""), "name"),
        new("unsupported regular expression", (d, _) => Train(d, "\"default\":", "\"layers\": { \"(fc)\\\\1\": { \"kernel\": \"quantized_bits(4,0,alpha=1)\" } }, \"default\":"), "regular expression"),
        new("--epochs not a number", (d, _) => new[] { "train", Config(d, "", ""), "--epochs", "abc" }, "--epochs"),
        new("unknown option", (d, _) => new[] { "train", Config(d, "", ""), "--bogus" }, "--bogus"),
        new("config is a directory", (d, _) => new[] { "train", Keep(d) }, "is a directory"),
        new("config missing", (d, _) => new[] { "train", Path.Combine(d, "none.json") }, "none.json"),
        // model.json against its weights
        new("model.json: weights file ../", (d, f) => { var m = ModelCopy(d, f); SafetyFixture.Edit(Path.Combine(m, "model.json"), "\"file\": \"weights.bin\"", "\"file\": \"../weights.bin\""); return new[] { "hw", m, "--out", Path.Combine(d, "hw") }; }, "weights.file"),
        new("model.json: weights file absolute", (d, f) => { var m = ModelCopy(d, f); SafetyFixture.Edit(Path.Combine(m, "model.json"), "\"file\": \"weights.bin\"", "\"file\": \"/etc/passwd\""); return new[] { "hw", m, "--out", Path.Combine(d, "hw") }; }, "weights.file"),
        new("model.json: weights file a link outside", (d, f) => { var m = ModelCopy(d, f); File.Delete(Path.Combine(m, "weights.bin")); File.CreateSymbolicLink(Path.Combine(m, "weights.bin"), "/etc/passwd"); return new[] { "hw", m, "--out", Path.Combine(d, "hw") }; }, "weights.bin"),
        new("model.json: units edited", (d, f) => { var m = ModelCopy(d, f); SafetyFixture.Edit(Path.Combine(m, "model.json"), "\"units\": 16", "\"units\": 17"); return new[] { "hw", m, "--out", Path.Combine(d, "hw") }; }, "weights.bin"),
        new("model.json: dtype", (d, f) => { var m = ModelCopy(d, f); SafetyFixture.Edit(Path.Combine(m, "model.json"), "\"float32-le\"", "\"float16\""); return new[] { "hw", m, "--out", Path.Combine(d, "hw") }; }, "dtype"),
        new("model.json: parameter shape", (d, f) => { var m = ModelCopy(d, f); SafetyFixture.Edit(Path.Combine(m, "model.json"), "\"shape\": [", "\"shape\": [2, "); return new[] { "hw", m, "--out", Path.Combine(d, "hw") }; }, "shape"),
        new("model.json: num_classes", (d, f) => { var m = ModelCopy(d, f); SafetyFixture.Edit(Path.Combine(m, "model.json"), "\"num_classes\": 10", "\"num_classes\": 7"); return new[] { "hw", m, "--out", Path.Combine(d, "hw") }; }, "num_classes"),
        new("model.json: duplicate key", (d, f) => { var m = ModelCopy(d, f); SafetyFixture.Edit(Path.Combine(m, "model.json"), "\"version\": 1,", "\"version\": 1, \"version\": 1,"); return new[] { "hw", m, "--out", Path.Combine(d, "hw") }; }, "model.json"),
        new("model.json: layer name injection", (d, f) => { var m = ModelCopy(d, f); SafetyFixture.Edit(Path.Combine(m, "model.json"), "\"name\": \"fc1\"", $"\"name\": \"{Injection}\""); return new[] { "hw", m, "--out", Path.Combine(d, "hw") }; }, "name"),
        new("model.json: model name with a newline", (d, f) => { var m = ModelCopy(d, f); SafetyFixture.Edit(Path.Combine(m, "model.json"), "\"name\": \"digits-qat\"", "\"name\": \"x\\n`define y\""); return new[] { "hw", m, "--out", Path.Combine(d, "hw") }; }, "name"),
        new("weights.bin truncated", (d, f) => { var m = ModelCopy(d, f); var w = Path.Combine(m, "weights.bin"); File.WriteAllBytes(w, File.ReadAllBytes(w)[..100]); return new[] { "hw", m, "--out", Path.Combine(d, "hw") }; }, "weights.bin"),
        new("model directory is a file", (d, _) => { File.WriteAllText(Path.Combine(d, "m"), "x"); return new[] { "hw", Path.Combine(d, "m") }; }, "is a file"),
        // hardware names and manifests
        new("hw --top like the testbench", (d, f) => new[] { "hw", f.Model, "--out", Path.Combine(d, "hw"), "--top", "hetq_tb" }, "hetq_tb"),
        new("hw --top not an identifier", (d, f) => new[] { "hw", f.Model, "--out", Path.Combine(d, "hw"), "--top", "a;b" }, "--top"),
        new("hw --top a keyword", (d, f) => new[] { "hw", f.Model, "--out", Path.Combine(d, "hw"), "--top", "module" }, "--top"),
        new("hw over --max-weights", (d, f) => new[] { "hw", f.Model, "--out", Path.Combine(d, "hw"), "--max-weights", "10" }, "--max-weights"),
        new("manifest top injection (hw sim)", (d, f) => { var m = DesignCopy(d, f); SafetyFixture.Edit(Path.Combine(m, "manifest.json"), "\"top\": \"hetq_digits_qat\"", "\"top\": \"x();initial $system(\\\"touch PWNED\\\");endmodule module y\""); return new[] { "hw", "sim", m, "--random", "4", "--simulator", "icarus" }; }, "design.top"),
        new("manifest top injection (hw synth)", (d, f) => { var m = DesignCopy(d, f); SafetyFixture.Edit(Path.Combine(m, "manifest.json"), "\"top\": \"hetq_digits_qat\"", "\"top\": \"x\\n!touch PWNED\""); return new[] { "hw", "synth", m, "--target", "ice40", "--no-pnr" }; }, "design.top"),
        new("manifest files outside the design", (d, f) => { var m = DesignCopy(d, f); SafetyFixture.Edit(Path.Combine(m, "manifest.json"), "\"hetq_digits_qat.v\"", "\"../../etc/x.v\""); return new[] { "hw", "sim", m, "--random", "4" }; }, "design.files"),
        new("manifest port width", (d, f) => { var m = DesignCopy(d, f); SafetyFixture.Edit(Path.Combine(m, "manifest.json"), "\"element_width\": ", "\"element_width\": 9999"); return new[] { "hw", "sim", m, "--random", "4" }; }, "element_width"),
        new("graph.json node name injection", (d, f) => { var m = DesignCopy(d, f); SafetyFixture.Edit(Path.Combine(m, "graph.json"), "\"name\": \"fc1\"", $"\"name\": \"{Injection}\""); return new[] { "hw", "sim", m, "--random", "4" }; }, "name"),
        new("graph.json and manifest of different designs", (d, f) => { var m = DesignCopy(d, f); SafetyFixture.Edit(Path.Combine(m, "manifest.json"), "\"elements\": 64", "\"elements\": 65"); return new[] { "hw", "sim", m, "--random", "4" }; }, "not the same design"),
        new("hw sim --timeout 0", (d, f) => new[] { "hw", "sim", DesignCopy(d, f), "--random", "4", "--timeout", "0" }, "--timeout"),
        // studies and imports
        new("study show of a missing database", (d, _) => new[] { "study", "show", Path.Combine(d, "none.sqlite") }, "none.sqlite"),
        new("study show --name of a missing study", (d, _) => { var db = Path.Combine(d, "s.sqlite"); using (var s = HetQ.Search.StudyStore.Open(db, "a")) s.Initialize("{}"); return new[] { "study", "show", db, "--name", "b" }; }, "no study named 'b'"),
        new("study show of a corrupt database", (d, _) => { var db = Path.Combine(d, "s.sqlite"); File.WriteAllBytes(db, Enumerable.Range(0, 4096).Select(i => (byte)(i * 37 % 251)).ToArray()); return new[] { "study", "show", db }; }, "s.sqlite"),
        new("import a truncated .h5", (d, _) => { var h5 = Path.Combine(d, "w.h5"); File.WriteAllBytes(h5, File.ReadAllBytes(Path.Combine(Data, "models/keras/KERAS_3layer_weights.h5"))[..700]); return new[] { "import", Path.Combine(Data, "models/keras/KERAS_3layer.json"), "--weights", h5, "--out", Path.Combine(d, "imp") }; }, "w.h5"),
    };

    /// <summary>The shared reference data (data/models/keras).</summary>
    internal static string Data
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                string p = Path.Combine(dir.FullName, "..", "shared", "data");
                if (File.Exists(Path.Combine(dir.FullName, "HetQ.slnx")) && Directory.Exists(p)) return Path.GetFullPath(p);
            }
            return "/work/shared/data";
        }
    }

    public static IEnumerable<object[]> CaseNames() => Cases.Select(c => new object[] { c.Name });

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void A_bad_input_is_one_line_exit_2_and_nothing_is_written_or_lost(string name)
    {
        var outcome = RunCase(Cases.Single(c => c.Name == name), fixture);
        Assert.True(outcome.Clear, $"{name}: exit {outcome.Code}, stderr: {outcome.Err}");
        Assert.False(outcome.Lost, $"{name}: files changed: {outcome.Err}");
        Assert.False(outcome.Executed, $"{name}: an injected command ran");
    }

    /// <summary>All cases once, counted as the issue's table asks; written to HETQ_SAFETY_REPORT when set.</summary>
    [Fact]
    public void The_table_of_outcomes_has_no_stack_trace_hang_loss_or_execution()
    {
        var rows = Cases.Select(c => (c.Name, Outcome: RunCase(c, fixture))).ToList();
        if (Environment.GetEnvironmentVariable("HETQ_SAFETY_REPORT") is { Length: > 0 } file)
        {
            var sb = new StringBuilder();
            foreach (var (n, o) in rows)
                sb.Append($"case\t{n}\t{o.Code}\t{(o.Clear ? "clear" : "unclear")}\t{(o.Stack ? "stack" : "-")}\t{(o.Hung ? "hang" : "-")}\t{(o.Lost ? "lost" : "-")}\t{(o.Executed ? "executed" : "-")}\t{o.Err.Trim()}\n");
            File.AppendAllText(file, sb.ToString());
        }
        Assert.Equal(0, rows.Count(r => r.Outcome.Stack));
        Assert.Equal(0, rows.Count(r => r.Outcome.Hung));
        Assert.Equal(0, rows.Count(r => r.Outcome.Lost));
        Assert.Equal(0, rows.Count(r => r.Outcome.Executed));
        Assert.Equal(rows.Count, rows.Count(r => r.Outcome.Clear));
    }

    internal sealed record Outcome(int Code, string Err, bool Clear, bool Stack, bool Hung, bool Lost, bool Executed);

    internal static Outcome RunCase(Case c, SafetyFixture f)
    {
        string dir = Path.Combine(f.Root, "case-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        var args = c.Setup(dir, f);
        var before = SafetyFixture.Snapshot(dir);
        var shared = SafetyFixture.Snapshot(f.Model);
        var run = Task.Run(() => SafetyFixture.Run(args));
        bool hung = !run.Wait(TimeSpan.FromSeconds(120));
        if (hung) return new Outcome(-1, "(hang)", false, false, true, false, false);
        var (code, _, err) = run.Result;
        var lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        // a quantizer-spec error may add the spec and a caret under the column (the CLI's one exception to one line)
        if (lines.Length == 3 && lines[2].Trim() == "^") lines = lines[..1];
        bool stack = err.Contains("   at ", StringComparison.Ordinal) || code is 70 or 134;
        bool clear = code == 2 && lines.Length == 1 && lines[0].StartsWith("hetq: error: ", StringComparison.Ordinal)
                     && lines[0].Contains(c.Expect, StringComparison.Ordinal);
        bool lost = !SafetyFixture.Snapshot(dir).SequenceEqual(before) || !SafetyFixture.Snapshot(f.Model).SequenceEqual(shared);
        bool executed = File.Exists(Path.Combine(dir, "PWNED")) || Directory.EnumerateFiles(dir, "PWNED", SearchOption.AllDirectories).Any()
                        || File.Exists("PWNED");
        return new Outcome(code, err, clear, stack, false, lost, executed);
    }
}
