using System.Text.Json;

namespace HetQ.Nn;

/// <summary>Typed access to one JSON object of a configuration, with errors that name the file,
/// the key path and what was expected; <see cref="RejectUnknown"/> lists the accepted keys.</summary>
public sealed class JsonSpec
{
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    public JsonElement Element { get; }
    public string Path { get; }
    public string Source { get; }

    public JsonSpec(JsonElement element, string path, string source)
    {
        if (element.ValueKind != JsonValueKind.Object)
            throw new HetQException($"{source}: '{path}' must be a JSON object, found {element.ValueKind}");
        Element = element;
        Path = path;
        Source = source;
    }

    public static JsonSpec Parse(string json, string source)
    {
        try
        {
            using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true, AllowDuplicateProperties = false, MaxDepth = 64 });
            return new JsonSpec(doc.RootElement.Clone(), "$", source);
        }
        catch (JsonException e)
        {
            throw new HetQException($"{source}: not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}): {e.Message}");
        }
    }

    /// <summary>The largest JSON file read as a configuration or model description.</summary>
    public const long MaxBytes = 64L << 20;

    public static JsonSpec Load(string file)
    {
        if (Directory.Exists(file)) throw new HetQException($"{file}: is a directory, a JSON file is expected");
        if (!File.Exists(file)) throw new HetQException($"{file}: file not found");
        if (!Files.SafeOutput.IsReadable(file)) throw new HetQException($"{file}: not a regular file");
        if (new FileInfo(file).Length > MaxBytes) throw new HetQException($"{file}: larger than {MaxBytes >> 20} MiB; not a configuration");
        return Parse(File.ReadAllText(file), file);
    }

    public HetQException Error(string key, string what) => new($"{Source}: {Path}.{key}: {what}");

    public bool Has(string key) => Element.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null;

    private bool TryGet(string key, out JsonElement value)
    {
        _read.Add(key);
        return Element.TryGetProperty(key, out value) && value.ValueKind != JsonValueKind.Null;
    }

    public string? String(string key)
    {
        if (!TryGet(key, out var v)) return null;
        if (v.ValueKind != JsonValueKind.String) throw Error(key, $"expected a string, found {v.ValueKind}");
        return v.GetString();
    }

    public string String(string key, string fallback) => String(key) ?? fallback;

    public string RequireString(string key) => String(key) ?? throw Error(key, "is required (a string)");

    public double? Double(string key)
    {
        if (!TryGet(key, out var v)) return null;
        if (v.ValueKind != JsonValueKind.Number) throw Error(key, $"expected a number, found {v.ValueKind}");
        return v.GetDouble();
    }

    public double Double(string key, double fallback) => Double(key) ?? fallback;

    /// <summary>A number in [lo, hi] (an open end where <paramref name="loOpen"/> or <paramref name="hiOpen"/>);
    /// anything else, NaN and infinities included, is an error naming the key and the range.</summary>
    public double DoubleIn(string key, double fallback, double lo, double hi, bool loOpen = false, bool hiOpen = false) =>
        DoubleIn(key, lo, hi, loOpen, hiOpen) ?? fallback;

    public double? DoubleIn(string key, double lo, double hi, bool loOpen = false, bool hiOpen = false)
    {
        if (Double(key) is not double v) return null;
        bool ok = double.IsFinite(v) && (loOpen ? v > lo : v >= lo) && (hiOpen ? v < hi : v <= hi);
        if (!ok)
            throw Error(key, string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"must be in {(loOpen ? "(" : "[")}{lo}, {hi}{(hiOpen ? ")" : "]")}, given {v}"));
        return v;
    }

    /// <summary>An integer in [lo, hi].</summary>
    public int IntIn(string key, int fallback, int lo, int hi)
    {
        int v = Int(key) ?? fallback;
        if (v < lo || v > hi) throw Error(key, $"must be {lo} to {hi}, given {v}");
        return v;
    }

    public int? Int(string key)
    {
        if (!TryGet(key, out var v)) return null;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out int i)) throw Error(key, $"expected an integer, found {v}");
        return i;
    }

    public int Int(string key, int fallback) => Int(key) ?? fallback;

    public int RequireInt(string key) => Int(key) ?? throw Error(key, "is required (an integer)");

    public bool Bool(string key, bool fallback)
    {
        if (!TryGet(key, out var v)) return fallback;
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Error(key, $"expected true or false, found {v}"),
        };
    }

    /// <summary>An integer list; a single integer n stands for [n, n, ...] of <paramref name="rank"/> entries.</summary>
    public int[]? Ints(string key, int rank = 0)
    {
        if (!TryGet(key, out var v)) return null;
        if (v.ValueKind == JsonValueKind.Number && rank > 0 && v.TryGetInt32(out int single))
            return Enumerable.Repeat(single, rank).ToArray();
        if (v.ValueKind != JsonValueKind.Array) throw Error(key, $"expected a list of integers, found {v.ValueKind}");
        var list = new List<int>();
        foreach (var e in v.EnumerateArray())
        {
            if (e.ValueKind != JsonValueKind.Number || !e.TryGetInt32(out int i)) throw Error(key, $"expected integers, found {e}");
            list.Add(i);
        }
        if (rank > 0 && list.Count != rank) throw Error(key, $"expected {rank} integers, found {list.Count}");
        return list.ToArray();
    }

    public string[]? Strings(string key)
    {
        if (!TryGet(key, out var v)) return null;
        if (v.ValueKind == JsonValueKind.String) return new[] { v.GetString()! };
        if (v.ValueKind != JsonValueKind.Array) throw Error(key, "expected a list of strings");
        return v.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString()! : throw Error(key, $"expected strings, found {e}")).ToArray();
    }

    public JsonSpec? Object(string key)
    {
        if (!TryGet(key, out var v)) return null;
        return new JsonSpec(v, $"{Path}.{key}", Source);
    }

    /// <summary>An object, or a plain string standing for {"type": string}.</summary>
    public JsonSpec? ObjectOrType(string key)
    {
        if (!TryGet(key, out var v)) return null;
        if (v.ValueKind == JsonValueKind.String)
        {
            using var doc = JsonDocument.Parse(JsonSerializer.Serialize(new Dictionary<string, string> { ["type"] = v.GetString()! }));
            return new JsonSpec(doc.RootElement.Clone(), $"{Path}.{key}", Source);
        }
        return new JsonSpec(v, $"{Path}.{key}", Source);
    }

    public IReadOnlyList<JsonSpec> Objects(string key)
    {
        if (!TryGet(key, out var v)) return Array.Empty<JsonSpec>();
        if (v.ValueKind != JsonValueKind.Array) throw Error(key, "expected a list of objects");
        return v.EnumerateArray().Select((e, i) => new JsonSpec(e, $"{Path}.{key}[{i}]", Source)).ToList();
    }

    public JsonElement? Raw(string key) => TryGet(key, out var v) ? v : null;

    /// <summary>Marks keys as known without reading them.</summary>
    public void Allow(params string[] keys)
    {
        foreach (var k in keys) _read.Add(k);
    }

    /// <summary>The key a configuration file may name its JSON Schema with (schemas/*.schema.json); accepted at the top only.</summary>
    public const string SchemaKey = "$schema";

    /// <summary>Throws when the object has a key that no accessor asked for (`$schema` at the top is always accepted).</summary>
    public void RejectUnknown()
    {
        foreach (var p in Element.EnumerateObject())
            if (!_read.Contains(p.Name) && !(p.Name == SchemaKey && Path == "$"))
                throw new HetQException($"{Source}: {Path}: unknown key '{p.Name}' (known: {string.Join(", ", _read.Order())})");
    }
}
