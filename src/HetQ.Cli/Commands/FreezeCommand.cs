using System.CommandLine;
using System.Text.Json;
using HetQ.Graph;
using HetQ.Nn;
using HetQ.Quantization;

namespace HetQ.Cli.Commands;

/// <summary>`hetq freeze MODEL [--out FILE] [--input-type T] [--json]`.</summary>
internal static class FreezeCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "model directory" };
        var output = new Option<string?>("--out") { Description = "graph file to write (default MODEL/graph.json)" };
        var input = new Option<string?>("--input-type") { Description = "fixed-point type of the input when the model has no input quantizer (default ap_fixed<16,6,RND_CONV,SAT>)" };
        var json = new Option<bool>("--json") { Description = "print one JSON object: graph file, nodes, input and output types" };
        var cmd = new Command("freeze", "Freeze a quantized model into its integer graph (integer weights, a fixed-point type on every tensor) and save it as JSON.")
        {
            model, output, input, json,
        };
        cmd.SetAction(parse =>
        {
            string dir = parse.GetValue(model)!;
            string file = parse.GetValue(output) ?? Path.Combine(dir, "graph.json");
            Files.SafeOutput.CheckFile(file, "--out", IntegerGraph.Format);
            var graph = Freezer.FreezeDirectory(dir, parse.GetValue(input) is { } t ? FixedFormat.Parse(t) : null);
            graph.Save(file, "--out");
            if (parse.GetValue(json))
            {
                Console.WriteLine(CliJson.Serialize(new { graph = Path.GetFullPath(file), nodes = graph.Nodes.Count, input = graph.Input.Output.Type.ToString(), output = graph.Output.Output.Type.ToString() }));
                return 0;
            }
            Console.WriteLine($"{"node",-16}{"op",-16}{"shape",-14}{"type",-22}");
            foreach (var n in graph.Nodes)
                Console.WriteLine($"{n.Name,-16}{n.Op.Name,-16}{"[" + string.Join(",", n.Output.Shape) + "]",-14}{n.Output.Type,-22}");
            foreach (var note in graph.Notes) Console.WriteLine($"note: {note}");
            Console.WriteLine($"integer graph written to {Path.GetFullPath(file)}");
            return 0;
        });
        return cmd;
    }
}
