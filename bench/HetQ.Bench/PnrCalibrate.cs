using System.Globalization;
using HetQ.Graph;
using HetQ.Hardware;
using HetQ.Nn;
using HetQ.Nn.Layers;
using HetQ.Quantization;

namespace HetQ.Bench;

/// <summary>`pnr-calibrate [--family ecp5|ice40|both] [--timeout S]`: writes small quantized dense designs (single
/// layers and a two-layer MLP at several register-stage counts), synthesizes each with Yosys, counts its worst stage's
/// LUT levels and carry bits, places and routes it with nextpnr, fits delay = a + b·levels + c·carry bits and writes
/// the models to src/HetQ/Hardware/fmax-model.json (the family's entry replaced). Work files in runs/pnr-calibrate.</summary>
internal static class PnrCalibrate
{
    public const string Command = "dotnet run -c Release --project bench/HetQ.Bench -- pnr-calibrate";

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

    public static async Task<int> Run(string repo, string[] families, double timeoutSeconds)
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
            foreach (var d in Designs)
            {
                string dir = Path.Combine(repo, "runs", "pnr-calibrate", family, d.Name);
                if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
                var graph = Build(d);
                var design = VerilogWriter.Write(graph, new HardwareOptions(d.Stages, Top: "hetq_" + d.Name.Replace('-', '_')));
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
            var model = FmaxModel.Fit(family, family == "ecp5" ? "LFE5U-85F" : "iCE40 HX8K", points, $"{Command} --family {family}");
            Console.WriteLine(model.Describe());
            models.RemoveAll(m => m.Family == family);
            models.Add(model);
        }
        File.WriteAllText(modelFile, FmaxModel.ToJson(models.OrderBy(m => m.Family, StringComparer.Ordinal).ToList()));
        Console.WriteLine($"wrote {modelFile}");
        return 0;
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
