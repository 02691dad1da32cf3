using System.Text.Json;
using System.Text.Json.Serialization;
using HetQ.Graph;

namespace HetQ.Hardware;

/// <summary>How <see cref="VerilogWriter"/> builds the design.</summary>
/// <param name="Stages">Register stages from input to output (the latency in cycles): null puts one register after
/// each layer; 0 gives combinational logic; N spreads N registers evenly over the logic depth, the last at the output.</param>
/// <param name="Argmax">Output the index of the largest logit (the first one on ties) instead of the logits.</param>
/// <param name="Top">Top module name (default hetq_ and the graph's name).</param>
/// <param name="Sharing">How the sums of each constant weight matrix (dense, convolution) are built: partial sums shared
/// across its outputs (<see cref="Sharing.Cse"/>, the default) or each output on its own.</param>
/// <param name="SharingDepth">Adder levels that sharing may add to a layer's plain adder trees (0: the same depth).</param>
/// <param name="Io">How the input arrives: the whole vector every clock (<see cref="HardwareIo.Parallel"/>) or an image one
/// pixel per clock (<see cref="HardwareIo.Stream"/>, hls4ml's io_stream; see <see cref="VerilogWriter"/>).</param>
/// <param name="Reuse">The dense layers' reuse factors (hls4ml's ReuseFactor; null: 1 for every layer, the fully parallel
/// design); a layer with a factor R &gt; 1 is folded: R clock cycles per vector (see <see cref="VerilogWriter"/>).</param>
/// <param name="Dsp">Let synthesis put a folded layer's multipliers into DSP slices (default: LUTs only).</param>
public sealed record HardwareOptions(int? Stages = null, bool Argmax = false, string? Top = null, Sharing Sharing = Sharing.Cse, int SharingDepth = 0,
    HardwareIo Io = HardwareIo.Parallel, ReusePlan? Reuse = null, bool Dsp = false);

/// <summary>The design's input interface, named as hls4ml's IOType: every input element every clock, or one pixel (all
/// its channels) per clock with a valid signal.</summary>
public enum HardwareIo { Parallel, Stream }

/// <summary>The io that <c>--io auto</c> (the default of <c>hw write</c>, <c>estimate --resources</c> and a search's
/// <c>lut</c> metric) gives a graph: streaming for a graph with a convolution or pooling layer that the streaming writer
/// takes, else parallel.</summary>
public static class HardwareIoChoice
{
    /// <summary>The names of the choices, as the options and configurations spell them.</summary>
    public static readonly string[] Names = ["parallel", "stream", "auto"];

    /// <summary>The io for <paramref name="option"/> (parallel, stream or auto) and, when auto gives parallel for a graph
    /// with a convolution or pooling layer, why (a graph without one needs no reason). <paramref name="parallelOption"/>
    /// names a given option that only a parallel design has (auto then writes parallel).</summary>
    public static (HardwareIo Io, string? Why) Choose(string option, IntegerGraph graph, string? parallelOption = null)
    {
        switch (option)
        {
            case "stream": return (HardwareIo.Stream, null);
            case "parallel": return (HardwareIo.Parallel, null);
            case "auto": break;
            default: throw new HetQException($"io must be one of {string.Join(", ", Names)}, given '{option}'");
        }
        bool spatial = graph.Nodes.Any(n => n.Op is ConvOp or DepthwiseConvOp or MaxPoolOp or AvgPoolOp);
        if (!spatial) return (HardwareIo.Parallel, null);
        if (parallelOption is not null) return (HardwareIo.Parallel, $"{parallelOption} is given (it takes a parallel design in this version)");
        if (VerilogWriter.StreamingProblem(graph) is { } why) return (HardwareIo.Parallel, why);
        return (HardwareIo.Stream, null);
    }
}

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

/// <summary>What the generated design is: ports, latency and pipelining; saved as manifest.json beside the Verilog.
/// <see cref="Io"/> is "stream" for a streaming design (absent: parallel), whose <see cref="Image"/> is [H, W, C], whose
/// input port carries one pixel and whose <see cref="InitiationInterval"/> counts pixel clocks per image; it has no
/// in_ready port (<see cref="NeverStalls"/> true): every part keeps up with one pixel per clock by construction, so
/// in_valid may be 1 in any clock but the gap the initiation interval asks for after an image's last pixel.</summary>
public sealed record HardwareManifest(
    string Top, string Clock, IReadOnlyList<string> Files, HardwarePort Input, HardwarePort Output, bool Argmax,
    int LatencyCycles, int Stages, string Pipelining, int InitiationInterval, int Levels, long RegisterBits,
    IReadOnlyList<HardwareLayer> Layers, string GraphName, string Sharing = "none",
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Io = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<int>? Image = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyDictionary<string, int>? ReuseFactors = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Ports = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] bool? Dsp = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] bool? NeverStalls = null)
{

    public const string Streaming = "stream";

    /// <summary>Whether dense layers are folded (<see cref="ReuseFactors"/>): ports rst, in_valid, in_ready and out_valid
    /// besides clk, x and y; one vector every <see cref="InitiationInterval"/> clocks. A streaming design with folded dense
    /// layers after flatten (<see cref="ReuseFactors"/> set) keeps the streaming ports and is not this.</summary>
    [JsonIgnore] public bool IsFolded => ReuseFactors is { Count: > 0 } && !IsStreaming;

    /// <summary>Whether the design takes its input one pixel per clock (ports rst, in_valid, out_valid besides clk, x, y).</summary>
    [JsonIgnore] public bool IsStreaming => Io == Streaming;

    /// <summary>Input elements of one sample: the port's elements, or for a streaming design the image's H·W·C.</summary>
    [JsonIgnore] public int SampleElements => IsStreaming && Image is { Count: 3 } i ? i[0] * i[1] * i[2] : Input.Elements;

    /// <summary>The writer's options that give this design from its graph (pipelining, argmax, top, sharing, io, reuse
    /// factors, DSPs): what `hw sim` checks the Verilog against, and what `hw synth` estimates.</summary>
    public HardwareOptions WriterOptions()
    {
        int? stages = IsStreaming || IsFolded ? null : Pipelining switch { "layer" => null, "none" => 0, _ => Stages };
        var plan = ReuseFactors is { Count: > 0 } ? new ReusePlan(1, ReuseFactors.Select(p => new ReuseRule(p.Key, null, p.Value)).ToArray()) : null;
        return new HardwareOptions(stages, Argmax, Top, Sharing == "none" ? HetQ.Hardware.Sharing.None : HetQ.Hardware.Sharing.Cse,
            Io: IsStreaming ? HardwareIo.Stream : HardwareIo.Parallel, Reuse: plan, Dsp: Dsp == true);
    }

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
        if (!File.Exists(file)) throw new HetQException($"{file}: hardware manifest not found (write the design with hetq hw write MODEL --out DIR)");
        try
        {
            var f = JsonSerializer.Deserialize<ManifestFile>(File.ReadAllText(file), Options) ?? throw new HetQException($"{file}: empty manifest");
            if (f.Format != Format) throw new HetQException($"{file}: not a HetQ hardware manifest (format '{f.Format}')");
            if (f.Version != 1) throw new HetQException($"{file}: manifest version {f.Version} is not supported");
            (f.Design ?? throw new HetQException($"{file}: design is required")).Validate(file);
            return f.Design;
        }
        catch (JsonException e)
        {
            throw new HetQException($"{file}: bad hardware manifest: {e.Message}");
        }
    }

    /// <summary>Checks every field that reaches the testbench, the Yosys and nextpnr scripts or a command line: module,
    /// clock and port names are Verilog identifiers, files are plain *.v names in the design directory, widths and counts
    /// are in range.</summary>
    public void Validate(string file)
    {
        VerilogNames.CheckModule(Top, $"{file}: design.top");
        VerilogNames.CheckPort(Clock, $"{file}: design.clock");
        if (Input is null || Output is null) throw new HetQException($"{file}: design.input and design.output are required");
        VerilogNames.CheckPort(Input.Name, $"{file}: design.input.name");
        VerilogNames.CheckPort(Output.Name, $"{file}: design.output.name");
        if (new[] { Clock, Input.Name, Output.Name }.Distinct(StringComparer.Ordinal).Count() != 3)
            throw new HetQException($"{file}: design.clock, design.input.name and design.output.name must differ");
        if (Files is null || Files.Count == 0) throw new HetQException($"{file}: design.files must list the Verilog files");
        foreach (var f in Files)
            if (!VerilogNames.IsSourceFile(f)) throw new HetQException($"{file}: design.files: '{HetQ.Files.SafeOutput.Printable(f ?? "")}' is not a plain NAME.v file of the design directory");
        CheckPort(Input, "input", file);
        CheckPort(Output, "output", file);
        if (LatencyCycles is < 0 or > 1_000_000) throw new HetQException($"{file}: design.latency_cycles must be 0 to 1000000, given {LatencyCycles}");
        if (Stages < 0 || Levels < 0 || RegisterBits < 0) throw new HetQException($"{file}: design.stages, levels and register_bits must not be negative");
        if (InitiationInterval < 1) throw new HetQException($"{file}: design.initiation_interval must be 1 or more");
        if (Io is not (null or "parallel" or Streaming)) throw new HetQException($"{file}: design.io must be \"parallel\" or \"stream\"");
        if (IsStreaming && (Image is not { Count: 3 } im || im.Any(v => v is < 1 or > 1 << 16) || (long)im[0] * im[1] * im[2] > 1 << 24 || im[2] != Input.Elements))
            throw new HetQException($"{file}: design.image must be [height, width, channels] (1 to 65536 each, channels equal to design.input.elements) for a streaming design");
        if (ReuseFactors is { Count: > 0 } rf && rf.Any(p => !Nn.Names.IsText(p.Key) || p.Value is < 2 or > 1 << 24))
            throw new HetQException($"{file}: design.reuse_factors must name layers with factors 2 to 16777216");
        foreach (var p in Ports ?? Array.Empty<string>()) VerilogNames.CheckPort(p, $"{file}: design.ports");
        foreach (var t in new[] { GraphName, Pipelining, Sharing })
            if (!Nn.Names.IsText(t)) throw new HetQException($"{file}: design.graph_name, pipelining and sharing must be printable text");
        foreach (var l in Layers ?? Array.Empty<HardwareLayer>())
            if (l is null || !Nn.Names.IsText(l.Name) || !Nn.Names.IsText(l.Op)) throw new HetQException($"{file}: design.layers: names must be printable text");
    }

    private static void CheckPort(HardwarePort p, string which, string file)
    {
        if (p.Elements is < 1 or > 1 << 24) throw new HetQException($"{file}: design.{which}.elements must be 1 to 16777216, given {p.Elements}");
        if (p.ElementWidth is < 1 or > 64) throw new HetQException($"{file}: design.{which}.element_width must be 1 to 64, given {p.ElementWidth}");
        if ((long)p.Elements * p.ElementWidth > 1 << 26) throw new HetQException($"{file}: design.{which}: {(long)p.Elements * p.ElementWidth} bits is too wide a port");
        if (!Nn.Names.IsText(p.Type)) throw new HetQException($"{file}: design.{which}.type must be printable text");
    }
}

/// <summary>The generated design: its Verilog files and manifest.</summary>
public sealed record VerilogDesign(HardwareManifest Manifest, IReadOnlyList<VerilogFile> Files)
{
    /// <summary>The typed netlist the files were printed from (null for a design loaded from files).</summary>
    internal Netlist? Netlist { get; init; }

    /// <summary>The top module's text.</summary>
    public string TopText => Files[0].Text;

    /// <summary>Writes every file, manifest.json and what <paramref name="alsoWrite"/> adds into a new directory and swaps
    /// it in for <paramref name="directory"/> (<see cref="HetQ.Files.SafeOutput.ReplaceDirectory"/>): an existing directory
    /// that is not a HetQ design is an error; an old design, with its sim/ and synth/ results, is replaced as a whole, so
    /// new Verilog never sits beside an old graph. <paramref name="protect"/> are inputs the output may not replace.</summary>
    public string Save(string directory, Action<string>? alsoWrite = null, string what = "design directory", params string?[] protect) =>
        HetQ.Files.SafeOutput.ReplaceDirectory(directory, HetQ.Files.ArtefactKind.Design, tmp =>
        {
            foreach (var f in Files)
            {
                if (!VerilogNames.IsSourceFile(f.Name)) throw new HetQException($"design file name '{HetQ.Files.SafeOutput.Printable(f.Name)}' is not a plain NAME.v");
                File.WriteAllText(Path.Combine(tmp, f.Name), f.Text);
            }
            File.WriteAllText(Path.Combine(tmp, HardwareManifest.FileName), Manifest.ToJson());
            alsoWrite?.Invoke(tmp);
        }, what, protect);
}
