using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using HetQ.Hardware;

namespace HetQ.Cli.Commands;

/// <summary>`hetq hw synth DIR --target xilinx|ecp5|ice40 [--no-pnr] [--pnr-timeout S] [--pnr-max-luts N] [--json]`.</summary>
internal static class SynthCommand
{
    public static Command Create()
    {
        var dir = new Argument<string>("dir") { Description = "design directory (from hetq hw)" };
        var target = new Option<string>("--target") { Description = "xilinx (UltraScale+, no DSPs), ecp5 or ice40", DefaultValueFactory = _ => "xilinx" };
        target.AcceptOnlyFromAmong("xilinx", "ecp5", "ice40");
        var timeout = new Option<double>("--timeout") { Description = "seconds Yosys may take", DefaultValueFactory = _ => 3600 };
        var noPnr = new Option<bool>("--no-pnr") { Description = "do not place and route: Fmax from the calibrated estimate" };
        var pnrTimeout = new Option<double>("--pnr-timeout") { Description = "seconds nextpnr may take; past it, the Fmax is the estimate", DefaultValueFactory = _ => 900 };
        var pnrMaxLuts = new Option<int>("--pnr-max-luts") { Description = "largest design placed and routed, in LUT equivalents (ECP5 LUT4 + 2 x CCU2C)", DefaultValueFactory = _ => PlaceRoute.DefaultMaxLuts };
        var device = DeviceOption.Create("sets the family; default none for xilinx (no fit), the flow's part for ecp5 (lfe5u-85f) and ice40 (ice40hx8k)");
        var json = new Option<bool>("--json") { Description = "print one JSON object: lut, ff, carry, dsp, bram, cycles, fmax_mhz, fmax_source, latency_ns, lut_levels, carry_bits, stages, cells" };
        var progressOption = CliProgress.Option();
        var cmd = new Command("synth", "Synthesize the design with Yosys and count LUTs, flip-flops, carry cells, DSPs and block RAMs; count the LUT levels "
                                       + "and carry bits of each pipeline stage; place and route ECP5 and iCE40 designs with nextpnr for Fmax (small designs "
                                       + "only; else, and for Xilinx, Fmax is estimated from the stages' depth by a model calibrated on placed-and-routed "
                                       + "designs). Scripts, logs and netlists go to DIR/synth.")
        {
            dir, target, timeout, noPnr, pnrTimeout, pnrMaxLuts, device, json, progressOption,
        };
        cmd.SetAction(async (parse, cancel) =>
        {
            string d = parse.GetValue(dir)!;
            var manifest = HardwareManifest.Load(Path.Combine(d, HardwareManifest.FileName));
            var (t, part) = FpgaDevice.Resolve(Enum.Parse<SynthesisTarget>(parse.GetValue(target)!, ignoreCase: true),
                parse.GetResult(target) is { Implicit: false }, parse.GetValue(device));
            foreach (var (name, value) in new[] { ("--timeout", parse.GetValue(timeout)), ("--pnr-timeout", parse.GetValue(pnrTimeout)) })
                if (!(value > 0 && value <= 7 * 86400)) throw new HetQException($"{name} must be more than 0 and at most 604800 seconds, given {value}");
            if (parse.GetValue(pnrMaxLuts) < 0) throw new HetQException($"--pnr-max-luts must be 0 or more, given {parse.GetValue(pnrMaxLuts)}");
            foreach (var source in manifest.Files)
                if (!Files.SafeOutput.IsRegular(Path.Combine(d, source))) throw new HetQException($"{Path.Combine(d, source)}: design file missing (or not a regular file)");
            bool asJson = parse.GetValue(json);
            var progress = CliProgress.Steps(asJson, parse.GetValue(progressOption));
            var r = await Synthesis.RunAsync(d, manifest, t, TimeSpan.FromSeconds(parse.GetValue(timeout)), cancel, progress);
            int maxLuts = parse.GetValue(pnrMaxLuts);
            if (maxLuts < 0) throw new HetQException($"--pnr-max-luts must be 0 or more, given {maxLuts}");
            var pnr = parse.GetValue(noPnr) ? null : new PlaceRouteOptions(TimeSpan.FromSeconds(parse.GetValue(pnrTimeout)), maxLuts);
            var tm = await Timing.AnalyzeAsync(d, manifest, r, pnr, progress is null ? null : Console.Error.WriteLine, cancel);
            r = r with { FmaxMhz = tm.FmaxMhz, FmaxSource = tm.FmaxSource };
            var fit = part is null ? null : DeviceFit.Of(part, r, manifest);
            if (asJson)
            {
                Console.WriteLine(DeviceOption.Json(new
                {
                    target = Synthesis.Name(t),
                    lut = r.Lut,
                    ff = r.Ff,
                    carry = r.Carry,
                    dsp = r.Dsp,
                    bram = r.Bram,
                    cycles = r.Cycles,
                    fmax_mhz = r.FmaxMhz,
                    fmax_source = r.FmaxSource,
                    latency_ns = tm.LatencyNs(r.Cycles),
                    fmax_note = tm.Note,
                    fmax_model = tm.Model?.Describe(),
                    fmax_estimate_mhz = tm.EstimatedFmaxMhz,
                    pnr = tm.PlaceRoute is { } pr ? new { tool = pr.Tool, device = pr.Device, seconds = Math.Round(pr.Seconds, 2), log = pr.Log, report = pr.Report } : null,
                    lut_levels = tm.Depth.MaxLutLevels,
                    carry_bits = tm.Depth.MaxCarryBits,
                    stages = tm.Depth.Stages.Select(st => new { stage = st.Stage, lut_levels = st.LutLevels, carry_bits = st.CarryBits, endpoints = st.Endpoints }),
                    seconds = Math.Round(r.Seconds, 2),
                    cells = r.Cells,
                    log = r.Log,
                    netlist = r.Netlist,
                }, fit));
                return 0;
            }
            Console.WriteLine($"target   {Synthesis.Name(t)}");
            Console.WriteLine($"LUT      {r.Lut}");
            Console.WriteLine($"FF       {r.Ff}");
            Console.WriteLine($"carry    {r.Carry}");
            Console.WriteLine($"DSP      {r.Dsp}");
            Console.WriteLine($"BRAM     {r.Bram}");
            Console.WriteLine($"depth    {tm.Depth.MaxLutLevels} LUT levels, {tm.Depth.MaxCarryBits} carry bits on the worst stage; per stage (LUT levels/carry bits): "
                              + string.Join(", ", tm.Depth.Stages.Select(st => $"{st.Stage}: {st.LutLevels}/{st.CarryBits}")));
            Console.WriteLine(tm.FmaxMhz is double f
                ? string.Create(CultureInfo.InvariantCulture, $"Fmax     {f:F1} MHz ({(tm.PlaceRoute is { } p ? $"{p.Tool}, {p.Device}, {p.Seconds:F0} s; log {p.Log}" : tm.Model!.Describe())})")
                : "Fmax     unknown (no place and route, no calibrated model)");
            if (tm.Note is not null) Console.WriteLine($"         place and route: {tm.Note}");
            if (tm.PlaceRoute is not null && tm.EstimatedFmaxMhz is double e)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"         (the calibrated model would estimate {e:F1} MHz)"));
            Console.WriteLine(tm.LatencyNs(r.Cycles) is double ns
                ? string.Create(CultureInfo.InvariantCulture, $"latency  {r.Cycles} clock cycles = {ns:F1} ns at {tm.FmaxMhz:F1} MHz ({tm.FmaxSource})")
                : $"latency  {r.Cycles} clock cycles");
            Console.WriteLine($"cells    {string.Join(", ", r.Cells.Select(c => $"{c.Key} {c.Value}"))}");
            DeviceOption.Print(fit);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"yosys took {r.Seconds:F1} s; log {r.Log}"));
            return 0;
        });
        return cmd;
    }
}
