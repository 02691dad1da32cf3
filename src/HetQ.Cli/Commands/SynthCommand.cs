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
        var json = new Option<bool>("--json") { Description = "print one JSON object (also written to DIR/synth/TARGET_summary.json): lut, ff, carry, dsp, bram, srl, cycles, initiation_interval, fmax_mhz, fmax_source, latency_ns, interval_ns, lut_levels, carry_bits, sequential, worst_stage, stages, estimate, cells" };
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
            var (check, whyNoEstimate) = EstimateCheck.Of(d, manifest, r, HwCommand.GraphFile);
            int srl = r.Cells.Where(c => c.Key.StartsWith("SRL", StringComparison.Ordinal)).Sum(c => c.Value);
            double? period = tm.FmaxMhz is double mhz && mhz > 0 ? 1000.0 / mhz : null;
            var worst = tm.Depth.Worst;
            string summary = DeviceOption.Json(new
            {
                target = Synthesis.Name(t),
                io = manifest.IsStreaming ? "stream" : manifest.IsFolded ? "folded" : "parallel",
                lut = r.Lut,
                ff = r.Ff,
                carry = r.Carry,
                dsp = r.Dsp,
                bram = r.Bram,
                srl,
                cycles = r.Cycles,
                initiation_interval = manifest.InitiationInterval,
                fmax_mhz = r.FmaxMhz,
                fmax_source = r.FmaxSource,
                latency_ns = tm.LatencyNs(r.Cycles),
                interval_ns = period * manifest.InitiationInterval,
                fmax_note = tm.Note,
                fmax_model = tm.Model?.Describe(),
                fmax_estimate_mhz = tm.EstimatedFmaxMhz,
                pnr = tm.PlaceRoute is { } pr ? new { tool = pr.Tool, device = pr.Device, seconds = Math.Round(pr.Seconds, 2), log = pr.Log, report = pr.Report } : null,
                lut_levels = tm.Depth.MaxLutLevels,
                carry_bits = tm.Depth.MaxCarryBits,
                sequential = tm.Depth.Sequential,
                worst_stage = worst is null ? null : new { stage = worst.Stage, name = worst.Name, lut_levels = worst.LutLevels, carry_bits = worst.CarryBits },
                stages = tm.Depth.Stages.Select(st => new { stage = st.Stage, name = st.Name, lut_levels = st.LutLevels, carry_bits = st.CarryBits, endpoints = st.Endpoints }),
                estimate = check is null ? null : new
                {
                    kind = "estimate",
                    lut = check.Estimate.Lut, ff = check.Estimate.Ff, carry = check.Estimate.Carry, dsp = check.Estimate.Dsp,
                    model = check.Estimate.Model,
                    lut_error_percent = Round(check.LutErrorPercent), ff_error_percent = Round(check.FfErrorPercent), carry_error_percent = Round(check.CarryErrorPercent),
                },
                estimate_note = whyNoEstimate,
                seconds = Math.Round(r.Seconds, 2),
                cells = r.Cells,
                log = r.Log,
                netlist = r.Netlist,
            }, fit);
            string summaryFile = Path.Combine(d, Synthesis.Folder, Synthesis.Name(t) + "_summary.json");
            await File.WriteAllTextAsync(summaryFile, summary + "\n", cancel);
            if (asJson)
            {
                Console.WriteLine(summary);
                return 0;
            }
            Console.WriteLine($"target   {Synthesis.Name(t)}");
            Console.WriteLine($"LUT      {r.Lut}");
            Console.WriteLine($"FF       {r.Ff}");
            Console.WriteLine($"carry    {r.Carry}");
            Console.WriteLine($"DSP      {r.Dsp}");
            Console.WriteLine($"BRAM     {r.Bram}");
            if (srl > 0) Console.WriteLine($"SRL      {srl} (LUTs as shift registers, counted in LUT)");
            Console.WriteLine(check is null ? $"estimate none: {whyNoEstimate}"
                : string.Create(CultureInfo.InvariantCulture, $"estimate {check.Estimate.Lut} LUT ({Percent(check.LutErrorPercent)}), {check.Estimate.Ff} FF ({Percent(check.FfErrorPercent)}), "
                                                              + $"{check.Estimate.Carry} carry ({Percent(check.CarryErrorPercent)}) against Yosys; {check.Estimate.Model}"));
            if (tm.Depth.Sequential)
            {
                Console.WriteLine($"depth    {tm.Depth.MaxLutLevels} LUT levels, {tm.Depth.MaxCarryBits} carry bits on the worst register-to-register paths (every path cut at the flip-flops; "
                                  + $"{tm.Depth.Stages.Count} registers and outputs); worst stage: into {worst?.Name} ({worst?.LutLevels}/{worst?.CarryBits})");
                Console.WriteLine("         deepest (LUT levels/carry bits): " + string.Join(", ", tm.Depth.Deepest(8).Select(st => $"{st.Name} {st.LutLevels}/{st.CarryBits}")));
            }
            else
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
            if (manifest.InitiationInterval > 1)
                Console.WriteLine(period is double ps
                    ? string.Create(CultureInfo.InvariantCulture, $"interval {manifest.InitiationInterval} clock cycles per {(manifest.IsStreaming ? "image" : "vector")} = {ps * manifest.InitiationInterval:F1} ns ({tm.FmaxSource})")
                    : $"interval {manifest.InitiationInterval} clock cycles per {(manifest.IsStreaming ? "image" : "vector")}");
            Console.WriteLine($"cells    {string.Join(", ", r.Cells.Select(c => $"{c.Key} {c.Value}"))}");
            DeviceOption.Print(fit);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"yosys took {r.Seconds:F1} s; log {r.Log}; summary {summaryFile}"));
            return 0;
        });
        return cmd;
    }

    private static double? Round(double? v) => v is double x ? Math.Round(x, 2) : null;

    private static string Percent(double? v) => v is double x ? x.ToString("+0.0;-0.0;0.0", CultureInfo.InvariantCulture) + " %" : "n/a";
}
