using System.Text.Json;
using System.Text.Json.Serialization;
using HetQ.Quantization;

namespace HetQ.Graph;

/// <summary>A tensor of the integer graph: sample shape (channels last) and fixed-point type of every element.
/// With <see cref="Elements"/> (graph version 2, learned bit widths) each element has its own type, null where its
/// width is 0 (always 0); the codes are then stored on <see cref="Type"/>, the finest step and widest range of them.</summary>
public sealed record TensorType(int[] Shape, FixedType Type, IReadOnlyList<FixedType?>? Elements = null)
{
    /// <summary>The width of element e (its own type's, 0 when pruned; <see cref="Type"/>'s without per-element types).</summary>
    public int ElementWidth(int e) => Elements is null ? Type.Width : Elements[e]?.Width ?? 0;

    [JsonIgnore] public int Size => Numerics.Tensor.Size(Shape);
}

/// <summary>A node: its op, the nodes it reads (earlier nodes, by index), and its output type.</summary>
public sealed record GraphNode(string Name, Op Op, int[] Inputs, TensorType Output);

/// <summary>The frozen model: integer weights, a fixed-point type on every tensor. Node 0 is the input;
/// the last node is the output (raw logits). The single source of truth for emulation, cost and hardware.</summary>
public sealed record IntegerGraph(string Name, IReadOnlyList<GraphNode> Nodes, IReadOnlyList<string> Notes)
{
    public const string Format = "hetq-integer-graph";

    [JsonIgnore] public GraphNode Input => Nodes[0];
    [JsonIgnore] public GraphNode Output => Nodes[^1];

    private static readonly JsonSerializerOptions Options = CreateOptions();

    private static JsonSerializerOptions CreateOptions()
    {
        var o = new JsonSerializerOptions
        {
            WriteIndented = true,
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        };
        o.Converters.Add(new FixedTypeConverter());
        o.Converters.Add(new FixedFormatConverter());
        return o;
    }

    /// <summary>True when some tensor has per-element types (written as version 2; otherwise version 1).</summary>
    [JsonIgnore] public bool HasElementTypes => Nodes.Any(n => n.Output.Elements is not null);

    public string ToJson() => JsonSerializer.Serialize(new GraphFile(Format, HasElementTypes ? 2 : 1, this), Options).Replace("\r\n", "\n") + "\n";

    public static IntegerGraph FromJson(string json, string source)
    {
        try
        {
            var f = JsonSerializer.Deserialize<GraphFile>(json, Options) ?? throw new HetQException($"{source}: empty graph file");
            if (f.Format != Format) throw new HetQException($"{source}: not a HetQ integer graph (format '{f.Format}')");
            if (f.Version is not (1 or 2)) throw new HetQException($"{source}: graph version {f.Version} is not supported");
            return f.Graph;
        }
        catch (JsonException e)
        {
            throw new HetQException($"{source}: bad integer graph: {e.Message}");
        }
    }

    public void Save(string file)
    {
        string tmp = file + ".tmp-" + Environment.ProcessId;
        File.WriteAllText(tmp, ToJson());
        File.Move(tmp, file, overwrite: true);
    }

    public static IntegerGraph Load(string file)
    {
        if (!File.Exists(file)) throw new HetQException($"{file}: integer graph not found");
        return FromJson(File.ReadAllText(file), file);
    }

    private sealed record GraphFile(string Format, int Version, IntegerGraph Graph);

    private sealed class FixedTypeConverter : JsonConverter<FixedType>
    {
        public override FixedType Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            FixedFormat.Parse(reader.GetString() ?? throw new JsonException("fixed type expected")).Type;

        public override void Write(Utf8JsonWriter writer, FixedType value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToString());
    }

    private sealed class FixedFormatConverter : JsonConverter<FixedFormat>
    {
        public override FixedFormat Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            FixedFormat.Parse(reader.GetString() ?? throw new JsonException("fixed format expected"));

        public override void Write(Utf8JsonWriter writer, FixedFormat value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToString());
    }
}
