using System.Globalization;
using HetQ.Graph;
using HetQ.Hardware;
using HetQ.Nn;
using HetQ.Nn.Layers;
using HetQ.Quantization;

namespace HetQ.Bench;

/// <summary>`pnr-calibrate [--family ecp5|ice40|both] [--timeout S] [--reuse] [--designs A,B,...]`: writes small quantized dense designs (single
/// layers and a two-layer MLP at several register-stage counts), synthesizes each with Yosys, counts its worst stage's
/// LUT levels and carry bits, places and routes it with nextpnr, fits delay = a + b·levels + c·carry bits and writes
/// the models to src/HetQ/Hardware/fmax-model.json (the family's entry replaced). Work files in runs/pnr-calibrate;
/// --reuse takes a design's Fmax from an earlier run there when its Verilog is unchanged; --designs picks designs.</summary>
internal static class PnrCalibrate
{
    public const string Command = "dotnet run -c Release --project bench/HetQ.Bench --";

    private sealed record Design(string Name, int[] Units, int Inputs, int? Stages);

    private static readonly Design[] Designs =
    {
        new("dense16x2", new[] { 2 }, 16, null),
        new("dense16x4", new[] { 4 }, 16, null),
        new("dense16x8", new[] { 8 }, 16, null),
        new("dense32x4", new[] { 4 }, 32, null),
        new("mlp16-8-4-s0", new[] { 8, 4 }, 16, 0),
        new("mlp16-8-4-s1", new[] { 8, 4 }, 16, 1),
        new("mlp16-8-4-s2", new[] { 8, 4 }, 16, 2),
        new("mlp16-8-4-s4", new[] { 8, 4 }, 16, 4),
        new("mlp16-8-4-s8", new[] { 8, 4 }, 16, 8),
    };

    public static async Task<int> Run(string repo, string[] families, double timeoutSeconds, bool reuse, string[]? only, string arguments)
    {
        string modelFile = Path.Combine(repo, "src", "HetQ", "Hardware", "fmax-model.json");
        var models = File.Exists(modelFile) ? FmaxModel.Parse(File.ReadAllText(modelFile), modelFile).ToList() : new List<FmaxModel>();
        foreach (string family in families)
        {
            var target = Enum.Parse<SynthesisTarget>(family, ignoreCase: true);
            if (PnrTools.Find(target) is null)
            {
                Console.Error.WriteLine(PnrTools.Missing(target));
                return 1;
            }
            var points = new List<FmaxPoint>();
            foreach (var d in Designs.Where(d => only is null || only.Contains(d.Name)))
            {
                string dir = Path.Combine(repo, "runs", "pnr-calibrate", family, d.Name);
                var graph = Build(d);
                var design = VerilogWriter.Write(graph, new HardwareOptions(d.Stages, Top: "hetq_" + d.Name.Replace('-', '_')));
                if (reuse && Earlier(dir, design, target) is { } earlier)
                {
                    points.Add(earlier);
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{family} {d.Name}: {earlier.LutEquivalents} LUT eq, worst stage {earlier.LutLevels} LUT levels / {earlier.CarryBits} carry bits, Fmax {earlier.FmaxMhz:F2} MHz (earlier run, same Verilog)"));
                    continue;
                }
                if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
                design.Save(dir);
                var timeout = TimeSpan.FromSeconds(timeoutSeconds);
                var synth = await Synthesis.RunAsync(dir, design.Manifest, target, timeout);
                var depth = LogicDepth.FromFile(Synthesis.JsonNetlist(synth), design.Manifest.Top);
                int size = PlaceRoute.LutEquivalents(synth);
                try
                {
                    var pr = await PlaceRoute.RunAsync(dir, design.Manifest, target, new PlaceRouteOptions(timeout));
                    points.Add(new FmaxPoint(d.Name, depth.MaxLutLevels, depth.MaxCarryBits, Math.Round(pr.FmaxMhz, 2), size));
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{family} {d.Name}: {size} LUT eq, {design.Manifest.LatencyCycles} cycles, worst stage {depth.MaxLutLevels} LUT levels / {depth.MaxCarryBits} carry bits, Fmax {pr.FmaxMhz:F2} MHz (P&R {pr.Seconds:F0} s)"));
                }
                catch (ToolException e) when (e.TimedOut)
                {
                    Console.WriteLine($"{family} {d.Name}: place and route timed out after {timeoutSeconds} s; left out");
                }
            }
            var model = FmaxModel.Fit(family, family == "ecp5" ? "LFE5U-85F" : "iCE40 HX8K", points, $"{Command} {arguments}");
            Console.WriteLine(model.Describe());
            models.RemoveAll(m => m.Family == family);
            models.Add(model);
        }
        File.WriteAllText(modelFile, FmaxModel.ToJson(models.OrderBy(m => m.Family, StringComparer.Ordinal).ToList()));
        Console.WriteLine($"wrote {modelFile}");
        return 0;
    }

    /// <summary>The point of an earlier run in <paramref name="dir"/> (--reuse) when its Verilog is the same as
    /// <paramref name="design"/>'s and its Yosys netlist, Yosys log and nextpnr report are all there.</summary>
    private static FmaxPoint? Earlier(string dir, VerilogDesign design, SynthesisTarget target)
    {
        string name = Synthesis.Name(target);
        string verilog = Path.Combine(dir, design.Files[0].Name), synth = Path.Combine(dir, Synthesis.Folder);
        string netlist = Path.Combine(synth, name + "_netlist.json"), log = Path.Combine(synth, name + ".log");
        string report = Path.Combine(synth, name + "_pnr_report.json");
        if (!File.Exists(verilog) || File.ReadAllText(verilog) != design.Files[0].Text) return null;
        if (!File.Exists(netlist) || !File.Exists(log) || !File.Exists(report)) return null;
        var cells = Synthesis.ParseCells(File.ReadAllText(log), design.Manifest.Top);
        double? fmax = PlaceRoute.ParseFmax(report, "");
        if (cells is null || fmax is null) return null;
        int Count(string cell) => cells.TryGetValue(cell, out int n) ? n : 0;
        int size = target == SynthesisTarget.Ecp5 ? Count("LUT4") + 2 * Count("CCU2C") : Count("SB_LUT4");
        var depth = LogicDepth.FromFile(netlist, design.Manifest.Top);
        return new FmaxPoint(Path.GetFileName(dir), depth.MaxLutLevels, depth.MaxCarryBits, Math.Round(fmax.Value, 2), size);
    }

    /// <summary>A dense network with 8-bit inputs, 6-bit weights, 8-bit biases and 8-bit ReLU activations between
    /// layers; weights from the model's seeded initialization (untrained: the arithmetic is what is measured).</summary>
    private static IntegerGraph Build(Design d)
    {
        var layers = new List<(Layer, string[]?)>();
        for (int i = 0; i < d.Units.Length; i++)
        {
            bool last = i == d.Units.Length - 1;
            var q = new LayerQuantizers(QuantizerParser.Parse("quantized_bits(6,0,alpha=1)"), QuantizerParser.Parse("quantized_bits(8,3,alpha=1)"),
                last ? null : QuantizerParser.Parse("quantized_relu(8,3)"));
            layers.Add((new Dense(d.Units[i], last ? default : new Activation(ActivationKind.Relu)) { Name = $"fc{i + 1}", Quantizers = q }, null));
        }
        var model = Model.Build(new[] { d.Inputs }, layers, 7);
        model.InputQuantizer = new FakeQuantizer(QuantizerParser.Parse("ap_fixed<8,3,RND_CONV,SAT>"));
        var r = Freezer.Freeze(model, d.Name.Replace('-', '_'));
        return r.Graph ?? throw new HetQException($"{d.Name}: {string.Join("; ", r.Problems)}");
    }
}
