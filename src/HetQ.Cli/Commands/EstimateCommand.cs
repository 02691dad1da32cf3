using System.CommandLine;
using System.Globalization;
using HetQ.Cost;
using HetQ.Graph;
using HetQ.Nn;
using HetQ.Quantization;

namespace HetQ.Cli.Commands;

/// <summary>`hetq estimate MODEL [--json] [--input-type T] [--weights-on M] [--activations-on M] [--resources [--target T] [--stages N]]`.</summary>
internal static class EstimateCommand
{
    private static readonly string[] Memories = ["fixed", "sram", "dram"];

    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "model directory (frozen on the fly)" };
        var json = new Option<bool>("--json") { Description = "print one JSON object: layers (name, op, types, parameters, parameter_bits, activation_bits, multiplications, additions, bops, ebops, energy_pj, ...) and total" };
        var input = new Option<string?>("--input-type") { Description = "fixed-point type of the input when the model has no input quantizer (default ap_fixed<16,6,RND_CONV,SAT>)" };
        var weights = new Option<string>("--weights-on") { Description = "where weights are stored: fixed (in the logic), sram or dram", DefaultValueFactory = _ => "fixed" };
        var activations = new Option<string>("--activations-on") { Description = "where activations are stored: fixed (in the logic), sram or dram", DefaultValueFactory = _ => "fixed" };
        var resources = new Option<bool>("--resources") { Description = "estimate the FPGA resources (LUT, FF, carry cells, DSP) of the design hetq hw writes, in a fraction of a second, from the primitives the writer builds priced by coefficients fitted to Yosys (an estimate, not a synthesis: hetq hw synth measures); with --json: {\"model\", \"target\", \"kind\": \"estimate\", \"lut\", \"ff\", \"carry\", \"dsp\", \"resource_model\", ...}" };
        var target = new Option<string>("--target") { Description = "FPGA family of the resource estimate: xilinx (UltraScale+ LUT6, CARRY4), ecp5 (LUT4, CCU2C) or ice40 (SB_LUT4, SB_CARRY)", DefaultValueFactory = _ => "xilinx" };
        target.AcceptOnlyFromAmong("xilinx", "ecp5", "ice40");
        var progressOption = CliProgress.Option();
        var stages = new Option<int?>("--stages") { Description = "with --resources: register stages of the design (as hetq hw --stages; default one after each layer)" };
        var device = DeviceOption.Create("with --resources: sets the family; default none for xilinx (no fit), the flow's part for ecp5 and ice40");
        var reuse = new ReuseOption();
        var io = new Option<string>("--io") { Description = "with --resources: the design's io, as hetq hw write --io: parallel, stream, or auto (streams a model with a convolution or pooling layer when it can). Default: auto", DefaultValueFactory = _ => "auto" };
        io.AcceptOnlyFromAmong(HetQ.Hardware.HardwareIoChoice.Names);
        weights.AcceptOnlyFromAmong(Memories);
        activations.AcceptOnlyFromAmong(Memories);
        var cmd = new Command("estimate", "Cost of a quantized model, layer by layer: parameter and activation bits, multiplications and additions, BOPs, EBOPs and energy (QTools's Horowitz 45 nm model); with --resources, an estimate of the LUTs, FFs and carry cells of its Verilog design instead.")
        {
            model, json, input, weights, activations, resources, target, stages, device, progressOption, io,
        };
        foreach (var o in reuse.All) cmd.Options.Add(o);
        cmd.SetAction(parse =>
        {
            if (!parse.GetValue(resources) && (parse.GetResult(target) is { Implicit: false } || parse.GetValue(stages) is not null || parse.GetValue(device) is not null
                                               || parse.GetResult(io) is { Implicit: false } || parse.GetValue(reuse.Reuse) is not null || parse.GetValue(reuse.Config) is not null || parse.GetValue(reuse.Dsp)))
                throw new HetQException("--target, --stages, --device, --io, --reuse, --hw-config and --dsp apply to the resource estimate: add --resources");
            string dir = parse.GetValue(model)!;
            var graph = Freezer.FreezeDirectory(dir, parse.GetValue(input) is { } t ? FixedFormat.Parse(t) : null);
            if (parse.GetValue(resources))
            {
                var (family, part) = HetQ.Hardware.FpgaDevice.Resolve(Enum.Parse<HetQ.Hardware.SynthesisTarget>(parse.GetValue(target)!, ignoreCase: true),
                    parse.GetResult(target) is { Implicit: false }, parse.GetValue(device));
                var sw = System.Diagnostics.Stopwatch.StartNew();
                HetQ.Hardware.ResourceEstimate e;
                using (var step = CliProgress.Steps(parse.GetValue(json), parse.GetValue(progressOption))
                           ?.QuietStep($"estimate: the resources of {graph.WeightCount:N0} weights", TimeSpan.FromSeconds(2)))
                {
                    var plan = reuse.Plan(parse);
                    if (plan is not null) plan.Factors(graph, reuse.Source(parse));
                    e = HetQ.Hardware.ResourceModel.Estimate(graph, family, new HetQ.Hardware.HardwareOptions(parse.GetValue(stages),
                        Io: HwCommand.Io(parse.GetValue(io)!, graph, parse.GetValue(stages) is not null ? "--stages" : null, "estimate"), Reuse: plan, Dsp: parse.GetValue(reuse.Dsp)));
                    step?.Done();
                }
                double ms = sw.Elapsed.TotalMilliseconds;
                var fit = part is null ? null : HetQ.Hardware.DeviceFit.Of(part, e, HetQ.Hardware.DeviceFit.PortBits(graph, argmax: false));
                PrintResources(graph.Name, e, ms, parse.GetValue(json), fit);
                return 0;
            }
            var placement = new Placement(Parse(parse.GetValue(weights)!), Parse(parse.GetValue(activations)!));
            var report = CostModel.Estimate(graph, EnergyModel.Horowitz45nm, placement);
            if (parse.GetValue(json))
            {
                Console.WriteLine(report.ToJson());
                return 0;
            }
            Print(report);
            foreach (var note in graph.Notes) Console.WriteLine($"note: {note}");
            return 0;
        });
        return cmd;
    }

    private static void PrintResources(string name, HetQ.Hardware.ResourceEstimate e, double ms, bool json, HetQ.Hardware.DeviceFit? fit)
    {
        string target = HetQ.Hardware.Synthesis.Name(e.Target);
        string carry = e.Target switch { HetQ.Hardware.SynthesisTarget.Xilinx => "CARRY4", HetQ.Hardware.SynthesisTarget.Ecp5 => "CCU2C", _ => "SB_CARRY" };
        if (json)
        {
            Console.WriteLine(DeviceOption.Json(new
            {
                model = name, target, kind = "estimate", lut = e.Lut, ff = e.Ff, carry = e.Carry, dsp = e.Dsp,
                resource_model = e.Model, milliseconds = Math.Round(ms, 2), features = e.Features,
            }, fit));
            return;
        }
        Console.WriteLine($"resources of {name} for {target} (estimate, not synthesis): {e.Lut} LUT, {e.Ff} FF, {e.Carry} {carry}, {e.Dsp} DSP");
        Console.WriteLine($"model: {e.Model}; computed in {ms.ToString("F1", CultureInfo.InvariantCulture)} ms; hetq hw synth measures it");
        DeviceOption.Print(fit);
    }

    private static Memory Parse(string name) => Enum.Parse<Memory>(name, ignoreCase: true);

    private static void Print(CostReport report)
    {
        var rows = report.Layers.Append(report.Total).Select(l => new[]
        {
            l.Name, l.Op == "total" ? "" : l.Op, l.InputType ?? "", l.WeightType ?? "", l.OutputType ?? "",
            Int(l.Parameters), Int(l.ZeroWeights), Int(l.ParameterBits), Int(l.ActivationBits), Int(l.Multiplications), Int(l.Additions),
            l.Bops.ToString("F0", CultureInfo.InvariantCulture), Int(l.Ebops), l.Energy.ToString("F2", CultureInfo.InvariantCulture),
        }).ToList();
        string[] header = ["layer", "op", "input", "weight", "output", "params", "zeros", "param bits", "act bits", "mults", "adds", "BOPs", "EBOPs", "energy pJ"];
        var widths = header.Select((h, c) => Math.Max(h.Length, rows.Max(r => r[c].Length))).ToArray();
        Console.WriteLine(Line(header, widths));
        for (int i = 0; i < rows.Count; i++)
        {
            if (i == rows.Count - 1) Console.WriteLine(new string('-', widths.Sum() + 2 * (widths.Length - 1)));
            Console.WriteLine(Line(rows[i], widths));
        }
        var p = report.Placement;
        Console.WriteLine($"energy: QTools horowitz 45 nm; weights {p.Weights.ToString().ToLowerInvariant()}, activations {p.Activations.ToString().ToLowerInvariant()}, model input and output through {(p.ReadWriteOnIo ? "DRAM" : "SRAM")}");
    }

    private static string Int(long v) => v.ToString(CultureInfo.InvariantCulture);

    // Text columns left-aligned, numbers (from "params" on) right-aligned.
    private static string Line(string[] cells, int[] widths) =>
        string.Join("  ", cells.Select((c, i) => i < 5 ? c.PadRight(widths[i]) : c.PadLeft(widths[i]))).TrimEnd();
}
