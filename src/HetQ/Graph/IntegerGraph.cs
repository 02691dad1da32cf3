using System.Text.Json;
using System.Text.Json.Serialization;
using HetQ.Quantization;

namespace HetQ.Graph;

/// <summary>A tensor of the integer graph: sample shape (channels last) and fixed-point type of every element.</summary>
public sealed record TensorType(int[] Shape, FixedType Type)
{
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

    public string ToJson() => JsonSerializer.Serialize(new GraphFile(Format, 1, this), Options).Replace("\r\n", "\n") + "\n";

    public static IntegerGraph FromJson(string json, string source)
    {
        try
        {
            var f = JsonSerializer.Deserialize<GraphFile>(json, Options) ?? throw new HetQException($"{source}: empty graph file");
            if (f.Format != Format) throw new HetQException($"{source}: not a HetQ integer graph (format '{f.Format}')");
            if (f.Version != 1) throw new HetQException($"{source}: graph version {f.Version} is not supported");
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
