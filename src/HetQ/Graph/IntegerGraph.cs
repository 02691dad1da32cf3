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
            AllowDuplicateProperties = false,
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
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException or NotSupportedException or OverflowException)
        {
            throw new HetQException($"{source}: bad integer graph: {e.Message}");
        }
    }

    /// <summary>Writes the graph through a temporary file renamed over <paramref name="file"/> (never through a link or
    /// over a directory or device).</summary>
    public void Save(string file, string what = "graph file") => Files.SafeOutput.WriteText(file, ToJson(), what, Format);

    /// <summary>The largest graph file read.</summary>
    public const long MaxBytes = 512L << 20;

    public static IntegerGraph Load(string file)
    {
        if (!File.Exists(file)) throw new HetQException($"{file}: integer graph not found");
        if (!Files.SafeOutput.IsReadable(file)) throw new HetQException($"{file}: not a regular file");
        if (new FileInfo(file).Length > MaxBytes) throw new HetQException($"{file}: larger than {MaxBytes >> 20} MiB");
        var g = FromJson(File.ReadAllText(file), file);
        g.Validate(file);
        return g;
    }

    /// <summary>Checks what the writers and the emulator rely on: node names are identifiers and unique, the graph's name
    /// is printable text, node 0 is the input and every node reads earlier nodes only, shapes are positive.</summary>
    public void Validate(string source)
    {
        if (!Nn.Names.IsText(Name)) throw new HetQException($"{source}: graph.name must be printable text without control characters, at most {Nn.Names.MaxText} characters");
        if (Nodes is null || Nodes.Count < 2) throw new HetQException($"{source}: graph.nodes must hold the input and at least one layer");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < Nodes.Count; i++)
        {
            var n = Nodes[i];
            string where = $"{source}: graph.nodes[{i}]";
            if (n is null || n.Op is null || n.Output is null || n.Inputs is null || n.Output.Shape is null)
                throw new HetQException($"{where}: name, op, inputs and output are required");
            if (!Nn.Names.IsIdentifier(n.Name)) throw new HetQException($"{where}.name '{Files.SafeOutput.Printable(n.Name ?? "")}' {Nn.Names.IdentifierRule}");
            if (!seen.Add(n.Name)) throw new HetQException($"{where}.name '{n.Name}' is used twice");
            if ((i == 0) != (n.Op is InputOp)) throw new HetQException($"{where}: {(i == 0 ? "the first node must be the input" : "only the first node may be an input")}");
            foreach (int k in n.Inputs)
                if (k < 0 || k >= i) throw new HetQException($"{where}.inputs: {k} is not an earlier node");
            if (i > 0 && n.Inputs.Length == 0) throw new HetQException($"{where}.inputs: a layer reads at least one node");
            CheckWeights(n.Op, where);
            if (n.Output.Shape.Length is < 1 or > 4 || n.Output.Shape.Any(d => d < 1) || n.Output.Shape.Aggregate(1L, (a, d) => a * d) > 1L << 26)
                throw new HetQException($"{where}.output.shape [{string.Join(",", n.Output.Shape)}] is not a tensor shape");
        }
    }

    /// <summary>The number of constant weights (kernels and biases) of the graph.</summary>
    [JsonIgnore] public long WeightCount => Nodes.Sum(n => n.Op switch
    {
        DenseOp d => (long)d.Weights.Length + (d.Bias?.Length ?? 0),
        ConvOp c => (long)c.Weights.Length + (c.Bias?.Length ?? 0),
        DepthwiseConvOp d => (long)d.Weights.Length + (d.Bias?.Length ?? 0),
        _ => 0L,
    });

    private static void CheckWeights(Op op, string where)
    {
        var (weights, bias, expected, outputs) = op switch
        {
            DenseOp d => (d.Weights, d.Bias, (long)d.In * d.Out, (long)d.Out),
            ConvOp c => (c.Weights, c.Bias, (long)c.Window.KH * c.Window.KW * c.Window.Channels * c.Filters, (long)c.Filters),
            DepthwiseConvOp d => (d.Weights, d.Bias, (long)d.Window.KH * d.Window.KW * d.Window.Channels * d.Multiplier, (long)d.Window.Channels * d.Multiplier),
            _ => (null, null, 0L, 0L),
        };
        if (weights is null && expected == 0) return;
        if (weights is null || weights.Length != expected) throw new HetQException($"{where}.op.weights: {weights?.Length ?? 0} values, the op's dimensions need {expected}");
        if (bias is not null && bias.Length != outputs) throw new HetQException($"{where}.op.bias: {bias.Length} values for {outputs} outputs");
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
