using System.CommandLine;
using System.Globalization;
using HetQ.Cost;
using HetQ.Graph;
using HetQ.Nn;
using HetQ.Quantization;

namespace HetQ.Cli.Commands;

/// <summary>`hetq estimate MODEL [--json] [--input-type T] [--weights-on M] [--activations-on M]`.</summary>
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
        weights.AcceptOnlyFromAmong(Memories);
        activations.AcceptOnlyFromAmong(Memories);
        var cmd = new Command("estimate", "Cost of a quantized model, layer by layer: parameter and activation bits, multiplications and additions, BOPs, EBOPs and energy (QTools's Horowitz 45 nm model).")
        {
            model, json, input, weights, activations,
        };
        cmd.SetAction(parse =>
        {
            string dir = parse.GetValue(model)!;
            var (m, meta) = ModelIO.Load(dir);
            FixedFormat? fmt = parse.GetValue(input) is { } t ? FixedFormat.Parse(t) : null;
            var r = Freezer.Freeze(m, meta.Name, fmt);
            if (r.Graph is null)
                throw new HetQException($"{dir}: the model is not exactly representable in fixed point:\n  - " + string.Join("\n  - ", r.Problems));
            var placement = new Placement(Parse(parse.GetValue(weights)!), Parse(parse.GetValue(activations)!));
            var report = CostModel.Estimate(r.Graph, EnergyModel.Horowitz45nm, placement);
            if (parse.GetValue(json))
            {
                Console.WriteLine(report.ToJson());
                return 0;
            }
            Print(report);
            foreach (var note in r.Graph.Notes) Console.WriteLine($"note: {note}");
            return 0;
        });
        return cmd;
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
