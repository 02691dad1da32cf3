using System.Text.Json;
using HetQ.Graph;
using HetQ.Nn;

namespace HetQ.Hardware;

/// <summary>One rule of a <see cref="ReusePlan"/>: the dense layers named <see cref="Name"/>, or whose whole name
/// matches the regular expression <see cref="Regex"/>, get the reuse factor <see cref="Factor"/>.</summary>
public sealed record ReuseRule(string? Name, string? Regex, int Factor);

/// <summary>The dense layers' reuse factors (hls4ml's ReuseFactor): <see cref="Default"/> for every dense layer, unless
/// the first rule that matches its name says otherwise. Read from a hardware configuration (schemas/hardware.schema.json)
/// or built from --reuse.</summary>
public sealed record ReusePlan(int Default, IReadOnlyList<ReuseRule> Rules)
{
    public static ReusePlan All(int factor) => new(factor, Array.Empty<ReuseRule>());

    /// <summary>The factor of every node of <paramref name="graph"/> (1 for a node that is not a dense layer); a factor
    /// below 1 or above the layer's In·Out products, or a rule that matches no dense layer, is an error naming it.</summary>
    public int[] Factors(IntegerGraph graph, string source = "--reuse")
    {
        ArgumentNullException.ThrowIfNull(graph);
        var factors = new int[graph.Nodes.Count];
        var used = new bool[Rules.Count];
        for (int i = 0; i < factors.Length; i++)
        {
            factors[i] = 1;
            if (graph.Nodes[i].Op is not DenseOp d) continue;
            string name = graph.Nodes[i].Name;
            int f = Default;
            for (int r = 0; r < Rules.Count; r++)
                if (Matches(Rules[r], name, source))
                {
                    f = Rules[r].Factor;
                    used[r] = true;
                    break;
                }
            long products = (long)d.In * d.Out;
            if (f < 1 || f > products)
                throw new HetQException($"{source}: layer '{name}': reuse factor {f} must be 1 to its {products} products ({d.In} x {d.Out})");
            factors[i] = f;
        }
        for (int r = 0; r < Rules.Count; r++)
            if (!used[r]) throw new HetQException($"{source}: layers[{r}] ({Rules[r].Name ?? Rules[r].Regex}) matches no dense layer of '{graph.Name}'");
        return factors;
    }

    private static bool Matches(ReuseRule rule, string name, string source)
    {
        if (rule.Name is not null) return rule.Name == name;
        // the project's layer-pattern rule: anchored, linear-time (non-backtracking), bounded length
        return Names.Matches(name, rule.Regex!, message => new HetQException($"{source}: layer regex: {message}"));
    }

    private sealed record LayerEntry(string? Name, string? Regex, int? Reuse);

    private sealed record ConfigFile(string? Schema, int? Reuse, IReadOnlyList<LayerEntry>? Layers);

    /// <summary>Reads a hardware configuration: {"reuse": R, "layers": [{"name" or "regex": ..., "reuse": R}, ...]};
    /// <paramref name="fallback"/> is the default factor when it gives none. Every problem is one line naming the file
    /// and the field.</summary>
    public static ReusePlan Load(string file, int fallback = 1)
    {
        if (!File.Exists(file)) throw new HetQException($"{file}: hardware configuration not found");
        ConfigFile? c;
        try
        {
            var options = new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow };
            string json = File.ReadAllText(file).Replace("\"$schema\"", "\"schema\"", StringComparison.Ordinal);
            c = JsonSerializer.Deserialize<ConfigFile>(json, options);
        }
        catch (JsonException e)
        {
            throw new HetQException($"{file}: bad hardware configuration: {e.Message}");
        }
        if (c is null) throw new HetQException($"{file}: empty hardware configuration");
        if (c.Reuse is < 1) throw new HetQException($"{file}: reuse must be 1 or more, given {c.Reuse}");
        var rules = new List<ReuseRule>();
        var layers = c.Layers ?? Array.Empty<LayerEntry>();
        for (int i = 0; i < layers.Count; i++)
        {
            var l = layers[i] ?? throw new HetQException($"{file}: layers[{i}] is null");
            if ((l.Name is null) == (l.Regex is null)) throw new HetQException($"{file}: layers[{i}] needs exactly one of name and regex");
            if (l.Reuse is not { } r || r < 1) throw new HetQException($"{file}: layers[{i}].reuse must be 1 or more");
            if (l.Regex is not null)
            {
                int at = i;
                _ = Names.Pattern(l.Regex, message => new HetQException($"{file}: layers[{at}].regex: {message}"));
            }
            rules.Add(new ReuseRule(l.Name, l.Regex, r));
        }
        return new ReusePlan(c.Reuse ?? fallback, rules);
    }
}
