using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using HetQ.Hardware;

namespace HetQ.Cli.Commands;

/// <summary>`hetq hw synth DIR --target xilinx|ecp5|ice40 [--json]`.</summary>
internal static class SynthCommand
{
    public static Command Create()
    {
        var dir = new Argument<string>("dir") { Description = "design directory (from hetq hw)" };
        var target = new Option<string>("--target") { Description = "xilinx (UltraScale+, no DSPs), ecp5 or ice40", DefaultValueFactory = _ => "xilinx" };
        target.AcceptOnlyFromAmong("xilinx", "ecp5", "ice40");
        var timeout = new Option<double>("--timeout") { Description = "seconds Yosys may take", DefaultValueFactory = _ => 3600 };
        var json = new Option<bool>("--json") { Description = "print one JSON object: lut, ff, carry, dsp, bram, cycles, fmax_mhz, fmax_source, cells" };
        var cmd = new Command("synth", "Synthesize the design with Yosys and count LUTs, flip-flops, carry cells, DSPs and block RAMs; script, log and netlist go to DIR/synth.")
        {
            dir, target, timeout, json,
        };
        cmd.SetAction(async (parse, cancel) =>
        {
            string d = parse.GetValue(dir)!;
            var manifest = HardwareManifest.Load(Path.Combine(d, HardwareManifest.FileName));
            var t = Enum.Parse<SynthesisTarget>(parse.GetValue(target)!, ignoreCase: true);
            bool asJson = parse.GetValue(json);
            if (!asJson) Console.Error.WriteLine($"yosys: synthesizing {manifest.Top} for {Synthesis.Name(t)} ...");
            var r = await Synthesis.RunAsync(d, manifest, t, TimeSpan.FromSeconds(parse.GetValue(timeout)), cancel);
            if (asJson)
            {
                Console.WriteLine(JsonSerializer.Serialize(new
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
                    seconds = Math.Round(r.Seconds, 2),
                    cells = r.Cells,
                    log = r.Log,
                    netlist = r.Netlist,
                }));
                return 0;
            }
            Console.WriteLine($"target   {Synthesis.Name(t)}");
            Console.WriteLine($"LUT      {r.Lut}");
            Console.WriteLine($"FF       {r.Ff}");
            Console.WriteLine($"carry    {r.Carry}");
            Console.WriteLine($"DSP      {r.Dsp}");
            Console.WriteLine($"BRAM     {r.Bram}");
            Console.WriteLine($"latency  {r.Cycles} clock cycles (Fmax: no place and route ran)");
            Console.WriteLine($"cells    {string.Join(", ", r.Cells.Select(c => $"{c.Key} {c.Value}"))}");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"yosys took {r.Seconds:F1} s; log {r.Log}"));
            return 0;
        });
        return cmd;
    }
}
