using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using HetQ.Search;
using HetQ.Training;
using Json.Schema;

namespace HetQ.Tests.Cli;

/// <summary>The JSON Schemas in schemas/ (draft 2020-12) against the examples, validated with JsonSchema.Net, and against the
/// parsers: a key the parser knows is in the schema, and a key the schema lists is one the parser knows.</summary>
public partial class ConfigSchemaTests
{
    private static readonly string Root = Graph.GoldenGraphTests.RepoRoot();
    private static string Schemas => Path.Combine(Root, "schemas");
    private static string Examples => Path.Combine(Root, "examples");

    private static readonly Lazy<Dictionary<string, JsonSchema>> Built = new(() =>
    {
        var options = new BuildOptions { SchemaRegistry = new SchemaRegistry() };
        // the data schema first: the training schema refers to it
        return new[] { "data", "train", "search" }.ToDictionary(k => k, k => JsonSchema.FromFile(Path.Combine(Schemas, $"{k}.schema.json"), options));
    });

    /// <summary>Which schema a configuration follows: a search names `train` and `space`, a training config has a `model`.</summary>
    private static string KindOf(JsonElement e) =>
        e.TryGetProperty("space", out _) && e.TryGetProperty("train", out _) ? "search" : e.TryGetProperty("model", out _) ? "train" : "data";

    public static TheoryData<string> ExampleFiles()
    {
        var data = new TheoryData<string>();
        foreach (var f in Directory.GetFiles(Path.Combine(Graph.GoldenGraphTests.RepoRoot(), "examples"), "*.json").Order(StringComparer.Ordinal))
            data.Add(Path.GetFileName(f));
        return data;
    }

    [Theory]
    [MemberData(nameof(ExampleFiles))]
    public void Every_example_names_its_schema_and_is_valid_against_it(string name)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Examples, name)));
        string kind = KindOf(doc.RootElement);
        Assert.True(doc.RootElement.TryGetProperty("$schema", out var s), $"{name}: no $schema");
        Assert.Equal($"../schemas/{kind}.schema.json", s.GetString());
        var result = Built.Value[kind].Evaluate(doc.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        Assert.True(result.IsValid, $"{name} against {kind}.schema.json: " + string.Join("; ", Errors(result)));
    }

    private static IEnumerable<string> Errors(EvaluationResults r) =>
        (r.Details ?? []).Where(d => d.Errors is { Count: > 0 })
            .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation} ({d.EvaluationPath}): {e.Value}"));

    [Fact]
    public void The_schemas_reject_an_unknown_key_and_a_wrong_type_as_the_parser_does()
    {
        var train = JsonNode.Parse(File.ReadAllText(Path.Combine(Examples, "digits-qat.json")))!.AsObject();
        train["epochs"] = "sixty";
        Assert.False(Built.Value["train"].Evaluate(JsonSerializer.SerializeToElement(train)).IsValid);
        train["epochs"] = 60;
        Assert.True(Built.Value["train"].Evaluate(JsonSerializer.SerializeToElement(train)).IsValid);
        train["epoch"] = 60;
        Assert.False(Built.Value["train"].Evaluate(JsonSerializer.SerializeToElement(train)).IsValid);
    }

    [Fact]
    public void Schema_keys_are_accepted_by_the_parsers_at_the_top_of_each_config()
    {
        using var dir = new TempDir();
        // train: the example already names its schema; a copy next to the examples' runs/ resolves the same
        var cfg = TrainConfig.Load(Path.Combine(Examples, "digits-qat.json"));
        Assert.Equal("digits-qat", cfg.Name);
        // data-set file
        var data = JsonNode.Parse(File.ReadAllText(Path.Combine(Examples, "jets100.json")))!.AsObject();
        data["name"] = "digits";
        data.Remove("features");
        data.Remove("labels");
        string file = dir.Write("d.json", data.ToJsonString());
        Assert.True(EvalJob.LoadData(file).Test.Count > 0);
        // $schema nested (not at the top) is still an unknown key
        var nested = JsonNode.Parse(File.ReadAllText(Path.Combine(Examples, "digits-qat.json")))!.AsObject();
        nested["model"]!["$schema"] = "x";
        nested["output"] = dir.File("o");
        var e = Assert.Throws<HetQException>(() => TrainConfig.Load(dir.Write("n.json", nested.ToJsonString())));
        Assert.Contains("'$schema'", e.Message);
    }

    // ---- the parser's key sets, read from its own "unknown key" error (it lists every key it knows there) ----

    private const string Probe = "zz_not_a_key";

    [GeneratedRegex(@"known(?: keys)?: ([a-z0-9_, ]+)")]
    private static partial Regex KnownList();

    private static SortedSet<string> ParserKeys(string example, Action<JsonObject> inject, Func<string, object> load)
    {
        using var dir = new TempDir();
        var node = JsonNode.Parse(File.ReadAllText(Path.Combine(Examples, example)))!.AsObject();
        if (node["train"] is JsonValue t) node["train"] = Path.Combine(Examples, t.GetValue<string>());
        if (node.ContainsKey("output")) node["output"] = dir.File("out");
        if (node.ContainsKey("study")) node["study"] = dir.File("study.sqlite");
        node.Remove("initial_weights");
        inject(node);
        string file = dir.Write("c.json", node.ToJsonString());
        var e = Assert.Throws<HetQException>(() => load(file));
        Assert.Contains(Probe, e.Message);
        var m = KnownList().Match(e.Message);
        Assert.True(m.Success, e.Message);
        return new SortedSet<string>(m.Groups[1].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries), StringComparer.Ordinal);
    }

    /// <summary>The property names of the schema object at a JSON pointer-like path of property names.</summary>
    private static SortedSet<string> SchemaKeys(string schema, params string[] path)
    {
        var node = JsonNode.Parse(File.ReadAllText(Path.Combine(Schemas, $"{schema}.schema.json")))!;
        foreach (var p in path) node = node is JsonArray a ? a[int.Parse(p, System.Globalization.CultureInfo.InvariantCulture)]! : node[p]!;
        return new SortedSet<string>(node.AsObject().Select(kv => kv.Key).Where(k => k != "$schema"), StringComparer.Ordinal);
    }

    private static object LoadTrain(string f) => TrainConfig.Load(f);
    private static object LoadSearch(string f) => SearchConfig.Load(f);
    private static object LoadData(string f) => EvalJob.LoadData(f);

    public static TheoryData<string, string, string[], string[], bool> KeySets => new()
    {
        // name, example, path in the config (empty: the top), path in the schema to its "properties", both ways?
        { "training config", "digits-qat.json", [], ["properties"], true },
        { "search config", "digits-search.json", [], ["properties"], true },
        { "data-set file", "jets100.json", [], ["$defs", "object", "properties"], true },
        { "training data", "digits-qat.json", ["data"], ["$defs", "object", "properties"], true },
        { "model", "digits-qat.json", ["model"], ["properties", "model", "properties"], true },
        { "quantization", "digits-qat.json", ["quantization"], ["properties", "quantization", "properties"], true },
        { "early_stopping", "digits-qat.json", ["early_stopping"], ["properties", "early_stopping", "properties"], true },
        { "task", "digits-qat.json", ["task"], ["properties", "task", "oneOf", "1", "properties"], true },
        { "adam optimizer", "digits-qat.json", ["optimizer"], ["properties", "optimizer", "oneOf", "1", "properties"], false },
        { "cosine schedule", "digits-qat.json", ["schedule"], ["properties", "schedule", "oneOf", "1", "properties"], false },
        { "tpe strategy", "digits-search.json", ["strategy"], ["properties", "strategy", "oneOf", "1", "properties"], false },
        { "hyperband strategy", "fashion-search.json", ["strategy"], ["properties", "strategy", "oneOf", "1", "properties"], false },
        { "forgiving objective", "digits-search.json", ["objective"], ["properties", "objective", "properties"], false },
        { "baseline", "digits-search.json", ["baselines", "0"], ["properties", "baselines", "items", "properties"], true },
    };

    [Theory]
    [MemberData(nameof(KeySets))]
    public void The_schema_and_the_parser_know_the_same_keys(string what, string example, string[] at, string[] schemaPath, bool bothWays)
    {
        string schema = at.Length == 0 && example == "jets100.json" ? "data" : at is ["data"] ? "data" : example.Contains("search", StringComparison.Ordinal) ? "search" : "train";
        Func<string, object> load = schema == "data" && at.Length == 0 ? LoadData : example.Contains("search", StringComparison.Ordinal) ? LoadSearch : LoadTrain;
        var parser = ParserKeys(example, root =>
        {
            JsonNode target = root;
            foreach (var p in at)
            {
                var next = int.TryParse(p, out int i) ? target[i] : target[p];
                if (next is null || next is JsonValue) { next = new JsonObject(); target[p] = next; }
                target = next;
            }
            target[Probe] = 1;
        }, load);
        var keys = SchemaKeys(schema, schemaPath);
        var missing = parser.Except(keys).ToList();
        Assert.True(missing.Count == 0, $"{what}: the parser knows keys the schema lacks: {string.Join(", ", missing)}");
        if (bothWays)
        {
            var extra = keys.Except(parser).ToList();
            Assert.True(extra.Count == 0, $"{what}: the schema lists keys the parser rejects: {string.Join(", ", extra)}");
        }
    }
}
