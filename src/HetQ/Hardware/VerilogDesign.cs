using System.Text.Json;
using System.Text.Json.Serialization;

namespace HetQ.Hardware;

/// <summary>How <see cref="VerilogWriter"/> builds the design.</summary>
/// <param name="Stages">Register stages from input to output (the latency in cycles): null puts one register after
/// each layer; 0 gives combinational logic; N spreads N registers evenly over the logic depth, the last at the output.</param>
/// <param name="Argmax">Output the index of the largest logit (the first one on ties) instead of the logits.</param>
/// <param name="Top">Top module name (default hetq_ and the graph's name).</param>
/// <param name="Sharing">How the sums of each constant weight matrix (dense, convolution) are built: partial sums shared
/// across its outputs (<see cref="Sharing.Cse"/>, the default) or each output on its own.</param>
/// <param name="SharingDepth">Adder levels that sharing may add to a layer's plain adder trees (0: the same depth).</param>
public sealed record HardwareOptions(int? Stages = null, bool Argmax = false, string? Top = null, Sharing Sharing = Sharing.Cse, int SharingDepth = 0);

/// <summary>One generated file.</summary>
public sealed record VerilogFile(string Name, string Text);

/// <summary>A port of the top module: <see cref="Elements"/> codes of <see cref="Type"/>, element i at bits
/// [(i+1)·W-1 : i·W] with W = <see cref="ElementWidth"/>.</summary>
public sealed record HardwarePort(string Name, int Elements, string Type, int ElementWidth, bool Signed, int FractionalBits)
{
    [JsonIgnore] public int Bits => Elements * ElementWidth;
}

/// <summary>A layer of the design and the clock cycles (counted from the input) its logic works in.</summary>
public sealed record HardwareLayer(string Name, string Op, int FirstCycle, int LastCycle);

/// <summary>What the generated design is: ports, latency and pipelining; saved as manifest.json beside the Verilog.</summary>
public sealed record HardwareManifest(
    string Top, string Clock, IReadOnlyList<string> Files, HardwarePort Input, HardwarePort Output, bool Argmax,
    int LatencyCycles, int Stages, string Pipelining, int InitiationInterval, int Levels, long RegisterBits,
    IReadOnlyList<HardwareLayer> Layers, string GraphName, string Sharing = "none")
{
    public const string Format = "hetq-hardware";
    public const string FileName = "manifest.json";

    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private sealed record ManifestFile(string Format, int Version, HardwareManifest Design);

    public string ToJson() => JsonSerializer.Serialize(new ManifestFile(Format, 1, this), Options).Replace("\r\n", "\n") + "\n";

    public static HardwareManifest Load(string file)
    {
        if (!File.Exists(file)) throw new HetQException($"{file}: hardware manifest not found (write the design with hetq hw MODEL --out DIR)");
        try
        {
            var f = JsonSerializer.Deserialize<ManifestFile>(File.ReadAllText(file), Options) ?? throw new HetQException($"{file}: empty manifest");
            if (f.Format != Format) throw new HetQException($"{file}: not a HetQ hardware manifest (format '{f.Format}')");
            if (f.Version != 1) throw new HetQException($"{file}: manifest version {f.Version} is not supported");
            return f.Design;
        }
        catch (JsonException e)
        {
            throw new HetQException($"{file}: bad hardware manifest: {e.Message}");
        }
    }
}

/// <summary>The generated design: its Verilog files and manifest.</summary>
public sealed record VerilogDesign(HardwareManifest Manifest, IReadOnlyList<VerilogFile> Files)
{
    /// <summary>The top module's text.</summary>
    public string TopText => Files[0].Text;

    /// <summary>Writes every file and manifest.json into <paramref name="directory"/> (created when missing).</summary>
    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        foreach (var f in Files) File.WriteAllText(Path.Combine(directory, f.Name), f.Text);
        File.WriteAllText(Path.Combine(directory, HardwareManifest.FileName), Manifest.ToJson());
    }
}
