using System.Text.Json;
using HetQ.Nn;
using HetQ.Nn.Layers;
using HetQ.Numerics;

namespace HetQ.Tests.Nn;

/// <summary>A golden file written by tests/golden/make_golden.py (PyTorch as the oracle).</summary>
public sealed class GoldenCase
{
    public JsonElement Root { get; }
    public string File { get; }

    private GoldenCase(string file)
    {
        File = file;
        Root = JsonDocument.Parse(System.IO.File.ReadAllText(file)).RootElement.Clone();
    }

    public static string Directory => Path.Combine(AppContext.BaseDirectory, "Golden");

    public static GoldenCase Load(string name) => new(Path.Combine(Directory, name));

    public static TheoryData<string> Files(string prefix)
    {
        var d = new TheoryData<string>();
        foreach (var f in System.IO.Directory.GetFiles(Directory, prefix + "*.json").Order()) d.Add(Path.GetFileName(f));
        return d;
    }

    public static (int[] Shape, float[] Data) Array(JsonElement e) =>
        (e.GetProperty("shape").EnumerateArray().Select(x => x.GetInt32()).ToArray(),
         e.GetProperty("data").EnumerateArray().Select(x => (float)x.GetDouble()).ToArray());

    public static double[] Doubles(JsonElement e) =>
        (e.ValueKind == JsonValueKind.Object ? e.GetProperty("data") : e).EnumerateArray().Select(x => x.GetDouble()).ToArray();

    public JsonElement Config => Root.GetProperty("config");

    private int[] Ints(string key) => Config.GetProperty(key).EnumerateArray().Select(x => x.GetInt32()).ToArray();
    private bool Bool(string key, bool fallback) => Config.TryGetProperty(key, out var v) ? v.GetBoolean() : fallback;

    private Padding Pad() => Config.GetProperty("padding").GetString() == "same" ? Padding.Same : Padding.Valid;

    /// <summary>Our layer for the file's PyTorch/Keras layer, before Build.</summary>
    public Layer CreateLayer()
    {
        string type = Root.GetProperty("layer").GetString()!;
        return type switch
        {
            "Dense" => new Dense(Config.GetProperty("units").GetInt32(), useBias: Bool("use_bias", true)),
            "Conv1D" => new Conv(1, Config.GetProperty("filters").GetInt32(), Ints("kernel_size"), Ints("strides"), Pad(), useBias: Bool("use_bias", true)),
            "Conv2D" => new Conv(2, Config.GetProperty("filters").GetInt32(), Ints("kernel_size"), Ints("strides"), Pad(), useBias: Bool("use_bias", true)),
            "DepthwiseConv2D" => new DepthwiseConv2D(Ints("kernel_size"), Ints("strides"), Pad(), Config.GetProperty("depth_multiplier").GetInt32(), useBias: Bool("use_bias", true)),
            "BatchNormalization" => new BatchNorm(Config.GetProperty("momentum").GetDouble(), Config.GetProperty("epsilon").GetDouble()),
            "Activation" => new ActivationLayer(ParseActivation()),
            "MaxPool1D" or "AvgPool1D" or "MaxPool2D" or "AvgPool2D" => new Pool(type.StartsWith("Max", StringComparison.Ordinal), type.EndsWith("1D", StringComparison.Ordinal) ? 1 : 2,
                Ints("pool_size"), Ints("strides"), Pad()),
            "GlobalAveragePool1D" or "GlobalAveragePool2D" => new GlobalAveragePool(),
            "Flatten" => new Flatten(),
            "Add" => new Add(),
            _ => throw new InvalidOperationException($"no HetQ layer for golden type {type}"),
        };
    }

    private Activation ParseActivation()
    {
        var a = Activation.Parse(Config.GetProperty("activation").GetString()!);
        if (Config.TryGetProperty("alpha", out var al)) a = a with { Alpha = (float)al.GetDouble() };
        if (Config.TryGetProperty("min", out var mn)) a = a with { Min = (float)mn.GetDouble() };
        if (Config.TryGetProperty("max", out var mx)) a = a with { Max = (float)mx.GetDouble() };
        return a;
    }

    public bool Training => Bool("training", true);

    public Tensor[] Inputs => Root.GetProperty("inputs").EnumerateArray().Select(e => { var (s, d) = Array(e); return new Tensor(s, d); }).ToArray();

    /// <summary>The layer built on the file's input shapes with the file's parameter values.</summary>
    public Layer BuildLayer()
    {
        var layer = CreateLayer();
        layer.Name = Root.GetProperty("case").GetString()!;
        layer.Build(Inputs.Select(t => t.Shape[1..]).ToArray(), new Random(0));
        var ps = Root.GetProperty("params");
        foreach (var p in layer.Parameters)
        {
            string key = p.Name[(p.Name.LastIndexOf('/') + 1)..];
            var (shape, data) = Array(ps.GetProperty(key));
            Assert.Equal(shape, p.Shape);
            data.CopyTo(p.Value, 0);
        }
        return layer;
    }
}
