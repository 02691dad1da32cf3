using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using HetQ.Graph;
using HetQ.Hardware;
using HetQ.Nn;
using HetQ.Quantization;
using HetQ.Training;

namespace HetQ.Cli.Commands;

/// <summary>`hetq hw write MODEL [--out DIR] ...`, `hetq hw sim DIR ...` and `hetq hw synth DIR ...`; the old spellings
/// `hetq hw MODEL ...` and `hetq hw MODEL sim DIR ...` still work (<see cref="Alias"/>).</summary>
internal static class HwCommand
{
    /// <summary>The verbs of `hetq hw`.</summary>
    internal static readonly string[] Verbs = ["write", "sim", "synth"];

    /// <summary>Rewrites the old spellings to the verbs, silently (scripts that read stderr keep working): `hw MODEL ...` is
    /// `hw write MODEL ...`; `hw MODEL sim|synth DIR ...` (MODEL was never used there) is `hw sim|synth DIR ...`. Other command
    /// lines are returned as given.</summary>
    internal static string[] Alias(string[] args)
    {
        if (args.Length < 2 || args[0] != "hw" || Verbs.Contains(args[1]) || args[1] is "--help" or "-h" or "-?" or "/?" or "/h") return args;
        if (args.Length >= 3 && !args[1].StartsWith('-') && args[2] is "sim" or "synth")
            return ["hw", .. args[2..]];
        return ["hw", "write", .. args[1..]];
    }

    public static Command Create()
    {
        var cmd = new Command("hw", "Hardware: `hw write` writes the frozen model as bit-exact, fully parallel, pipelined Verilog; `hw sim` simulates a design "
                                    + "against the emulator (Verilator, Icarus); `hw synth` synthesizes it with Yosys (and places and routes with nextpnr).");
        cmd.Subcommands.Add(WriteCommand());
        cmd.Subcommands.Add(SimCommand());
        cmd.Subcommands.Add(SynthCommand.Create());
        return cmd;
    }

    public const string GraphFile = "graph.json";

    /// <summary>The default of --max-weights.</summary>
    public const long DefaultMaxWeights = 200_000;

    private static Command WriteCommand()
    {
        var model = new Argument<string>("model") { Description = "model directory (from hetq train, hetq quantize or hetq import)" };
        var output = new Option<string?>("--out") { Description = "design directory to write (default MODEL/hw)" };
        var stages = new Option<int?>("--stages") { Description = "register stages from input to output (the latency); default: one after each layer; 0: combinational" };
        var argmax = new Option<bool>("--argmax") { Description = "output the index of the largest logit instead of the logits" };
        var top = new Option<string?>("--top") { Description = "top module name (default hetq_<model name>)" };
        var input = new Option<string?>("--input-type") { Description = "fixed-point type of the input when the model has no input quantizer (default ap_fixed<16,6,RND_CONV,SAT>)" };
        var sharing = new Option<string>("--sharing")
        {
            Description = "how each weight matrix's sums are built: cse shares partial sums across its outputs (greedy common-subexpression "
                          + "elimination on the signed digits, adder depth kept); none gives each output its own adder tree",
            DefaultValueFactory = _ => "cse",
        };
        sharing.AcceptOnlyFromAmong("cse", "none");
        var json = new Option<bool>("--json") { Description = "print one JSON object: design directory, top, files, ports, latency" };
        var maxWeights = new Option<long>("--max-weights")
        {
            Description = "refuse models with more constant weights than this (fully parallel logic grows with every weight; generation takes minutes past about 100 000)",
            DefaultValueFactory = _ => DefaultMaxWeights,
        };
        var io = new Option<string>("--io")
        {
            Description = "how the input arrives (hls4ml's IOType): parallel, the whole vector every clock; stream, an image one pixel "
                          + "(all its channels) per clock with in_valid, rst and out_valid ports (this version streams input -> convolution and "
                          + "pooling layers, padding 'valid', any stride -> Flatten -> Dense ...); auto streams a model with a convolution or pooling layer "
                          + "when it can (and --stages is not given), else writes it parallel. Default: auto",
            DefaultValueFactory = _ => "auto",
        };
        io.AcceptOnlyFromAmong("parallel", "stream", "auto");
        var reuse = new ReuseOption();
        var progressOption = CliProgress.Option();
        var device = DeviceOption.Create("its resources are estimated (the resource model, as estimate --resources) and its ports counted; default none");
        var cmd = new Command("write", "Freeze the model and write it as bit-exact Verilog, fully parallel and pipelined or (--io stream) one pixel per clock (DIR/*.v, DIR/manifest.json, DIR/graph.json); "
                                       + "then `hetq hw sim DIR` simulates it against the emulator and `hetq hw synth DIR` synthesizes it.")
        {
            model, output, stages, argmax, top, input, sharing, json, maxWeights, io, device, progressOption,
        };
        foreach (var o in reuse.All) cmd.Options.Add(o);
        cmd.SetAction(parse =>
        {
            string dir = parse.GetValue(model)!;
            string outDir = parse.GetValue(output) ?? Path.Combine(dir, "hw");
            Files.SafeOutput.CheckDirectory(outDir, Files.ArtefactKind.Design, "--out", dir);
            var graph = Freezer.FreezeDirectory(dir, parse.GetValue(input) is { } t ? FixedFormat.Parse(t) : null);
            long limit = parse.GetValue(maxWeights);
            if (graph.WeightCount > limit)
                throw new HetQException($"{dir}: the model has {graph.WeightCount:N0} constant weights, over --max-weights {limit:N0}; fully parallel logic for it "
                                        + "takes long to generate and far more than an FPGA holds (raise --max-weights to go on)");
            string topName = VerilogNames.Top(graph.Name, parse.GetValue(top));
            var part = parse.GetValue(device) is { } deviceName ? FpgaDevice.Parse(deviceName) : null;
            var mode = Io(parse.GetValue(io)!, graph, parse.GetValue(stages) is not null ? "--stages" : null);
            var plan = reuse.Plan(parse);
            if (plan is not null) plan.Factors(graph, reuse.Source(parse)); // a bad factor or rule names the file
            var options = new HardwareOptions(parse.GetValue(stages), parse.GetValue(argmax), topName,
                parse.GetValue(sharing) == "none" ? Sharing.None : Sharing.Cse, Io: mode, Reuse: plan, Dsp: parse.GetValue(reuse.Dsp));
            // the device's estimate first: a family whose resource model lacks this kind of design fails before anything is written
            var estimate = part is null ? null : ResourceModel.Estimate(graph, part.Family, options);
            var progress = CliProgress.Steps(parse.GetValue(json), parse.GetValue(progressOption));
            VerilogDesign design;
            // a large model takes a while: say so once it runs past 2 s, then every 10 s, and the time it took
            using (var step = progress?.QuietStep($"hw write: the Verilog of {graph.WeightCount:N0} weights", TimeSpan.FromSeconds(2)))
            {
                design = VerilogWriter.Write(graph, options);
                outDir = design.Save(outDir, tmp => graph.Save(Path.Combine(tmp, GraphFile)), "--out", dir);
                step?.Done();
            }
            var d = design.Manifest;
            var fit = part is null ? null : DeviceFit.Of(part, estimate!, (d.Input.Bits, d.Output.Bits));
            if (parse.GetValue(json))
            {
                Console.WriteLine(DeviceOption.Json(new
                {
                    design = Path.GetFullPath(outDir),
                    top = d.Top,
                    files = d.Files,
                    input = Port(d.Input),
                    output = Port(d.Output),
                    argmax = d.Argmax,
                    latency_cycles = d.LatencyCycles,
                    stages = d.Stages,
                    pipelining = d.Pipelining,
                    initiation_interval = d.InitiationInterval,
                    levels = d.Levels,
                    register_bits = d.RegisterBits,
                    sharing = d.Sharing,
                    io = d.IsStreaming ? "stream" : "parallel",
                    image = d.Image,
                    reuse_factors = d.ReuseFactors,
                    ports = d.Ports,
                }, fit));
                return 0;
            }
            Console.WriteLine($"top module   {d.Top} ({string.Join(", ", d.Files)})");
            if (d.IsStreaming)
            {
                Console.WriteLine($"io           stream: an image of {string.Join("x", d.Image!)} one pixel per clock ({VerilogWriter.InValidPort}), synchronous {VerilogWriter.ResetPort}, {VerilogWriter.OutValidPort} with the outputs");
                Console.WriteLine($"input  {d.Input.Name,-5} one pixel: {d.Input.Elements} x {d.Input.Type} ({d.Input.Bits} bits)");
                Console.WriteLine($"output {d.Output.Name,-5} {(d.Argmax ? "argmax index" : $"{d.Output.Elements} x {d.Output.Type}")} ({d.Output.Bits} bits)");
                Console.WriteLine($"timing       initiation interval {d.InitiationInterval} clock cycles per image; latency {d.LatencyCycles} clock cycle{(d.LatencyCycles == 1 ? "" : "s")} after the last pixel ({d.Levels} levels of logic, {d.RegisterBits} register bits); partial sums shared: {d.Sharing}");
                if (d.ReuseFactors is { Count: > 0 } rf) Console.WriteLine($"folded       dense layers after flatten: reuse factors {string.Join(", ", rf.Select(p => $"{p.Key} {p.Value}"))}; multipliers: {VerilogWriter.Multipliers(d.Dsp)}");
                foreach (var note in graph.Notes) Console.WriteLine($"note: {note}");
                Console.WriteLine($"design written to {Path.GetFullPath(outDir)}");
                return 0;
            }
            Console.WriteLine($"input  {d.Input.Name,-5} {d.Input.Elements} x {d.Input.Type} ({d.Input.Bits} bits)");
            Console.WriteLine($"output {d.Output.Name,-5} {(d.Argmax ? "argmax index" : $"{d.Output.Elements} x {d.Output.Type}")} ({d.Output.Bits} bits)");
            if (d.IsFolded)
            {
                Console.WriteLine($"folded       reuse factors {string.Join(", ", d.ReuseFactors!.Select(p => $"{p.Key} {p.Value}"))}; ports {string.Join(", ", d.Ports!)}");
                Console.WriteLine($"timing       initiation interval {d.InitiationInterval} clock cycles per vector ({VerilogWriter.InReadyPort} 1 in one clock of {d.InitiationInterval}); latency {d.LatencyCycles} clock cycles; {d.RegisterBits} register bits; multipliers: {VerilogWriter.Multipliers(d.Dsp)}");
                DeviceOption.Print(fit);
                foreach (var note in graph.Notes) Console.WriteLine($"note: {note}");
                Console.WriteLine($"design written to {Path.GetFullPath(outDir)}");
                return 0;
            }
            Console.WriteLine($"latency      {d.LatencyCycles} clock cycles ({d.Pipelining} pipelining, {d.Levels} levels of logic, {d.RegisterBits} register bits), II = 1; partial sums shared: {d.Sharing}");
            DeviceOption.Print(fit);
            foreach (var note in graph.Notes) Console.WriteLine($"note: {note}");
            Console.WriteLine($"design written to {Path.GetFullPath(outDir)}");
            return 0;
        });
        return cmd;
    }

    /// <summary>The design's io for --io (<see cref="HardwareIoChoice.Choose"/>); when auto writes a graph with a
    /// convolution or pooling layer parallel, it says why on stderr.</summary>
    internal static HardwareIo Io(string option, IntegerGraph graph, string? parallelOption, string verb = "hw")
    {
        var (io, why) = HardwareIoChoice.Choose(option, graph, parallelOption);
        if (why is not null) Console.Error.WriteLine($"{verb}: --io auto writes a parallel design: {why}");
        return io;
    }

    /// <summary>The netlist of the design in <paramref name="dir"/>, written again from its graph with the manifest's
    /// options, so that its vectors are checked in process before they are written; null (with a note) when the Verilog
    /// in the directory is not what HetQ writes for that graph (edited by hand, or written with other options).</summary>
    private static Netlist? RebuiltNetlist(string dir, HardwareManifest m, IntegerGraph graph, bool asJsonOutput)
    {
        if (m.IsStreaming && VerilogWriter.StreamingProblem(graph) is not null) return null;
        var design = VerilogWriter.Write(graph, m.WriterOptions());
        string file = Path.Combine(dir, m.Files[0]);
        if (design.Files.Count == 1 && File.Exists(file) && File.ReadAllText(file) == design.TopText && design.Manifest.LatencyCycles == m.LatencyCycles)
            return design.Netlist;
        if (!asJsonOutput) Console.Error.WriteLine($"hw sim: note: {file} is not the Verilog HetQ writes for {GraphFile} with the manifest's options; the in-process netlist check is skipped");
        return null;
    }

    private static object Port(HardwarePort p) => new
    {
        name = p.Name, elements = p.Elements, type = p.Type, element_width = p.ElementWidth, bits = p.Bits,
    };

    private static Command SimCommand()
    {
        var dir = new Argument<string>("dir") { Description = "design directory (from hetq hw)" };
        var data = new Option<string?>("--data") { Description = "a data-set or training configuration (JSON); its test samples are the input vectors" };
        var simulator = new Option<string>("--simulator") { Description = "verilator, icarus or both", DefaultValueFactory = _ => "verilator" };
        simulator.AcceptOnlyFromAmong("verilator", "icarus", "both");
        var random = new Option<int>("--random") { Description = "add N random input vectors (images, for a streaming design) over the input type's whole range, its minimum and maximum codes first" };
        var limit = new Option<int?>("--limit") { Description = "use only the first N test samples" };
        var seed = new Option<int>("--seed") { Description = "seed of the random vectors", DefaultValueFactory = _ => 1 };
        var timeout = new Option<double>("--timeout") { Description = "seconds each simulator step may take", DefaultValueFactory = _ => 600 };
        var json = new Option<bool>("--json") { Description = "print one JSON object: vectors, mismatches, simulator, results per simulator" };
        var progressOption = CliProgress.Option();
        var cmd = new Command("sim", "Simulate the design on input vectors (a streaming design: whole images pixel by pixel, with random gaps in in_valid) and compare every output with the emulator's; the testbench, vectors, commands and logs go to DIR/sim.")
        {
            dir, data, simulator, random, limit, seed, timeout, json, progressOption,
        };
        cmd.SetAction(async (parse, cancel) =>
        {
            string d = parse.GetValue(dir)!;
            var manifest = HardwareManifest.Load(Path.Combine(d, HardwareManifest.FileName));
            var graph = IntegerGraph.Load(Path.Combine(d, GraphFile));
            CheckAgrees(manifest, graph, d);
            int n = parse.GetValue(random);
            if (n is < 0 or > 10_000_000) throw new HetQException($"--random must be 0 to 10000000, given {n}");
            if (parse.GetValue(limit) is < 0) throw new HetQException($"--limit must be 0 or more, given {parse.GetValue(limit)}");
            double seconds = parse.GetValue(timeout);
            if (!(seconds > 0 && seconds <= 86400)) throw new HetQException($"--timeout must be more than 0 and at most 86400 seconds, given {seconds}");
            float[] features = Array.Empty<float>();
            if (parse.GetValue(data) is { } dataFile)
            {
                var test = EvalJob.LoadData(dataFile).Test;
                if (Numerics.Tensor.Size(test.SampleShape) != manifest.SampleElements)
                    throw new HetQException($"{dataFile}: samples of shape [{string.Join(",", test.SampleShape)}] do not fit the design's {manifest.SampleElements} inputs");
                int count = Math.Min(test.Count, parse.GetValue(limit) ?? int.MaxValue);
                features = test.Features.AsSpan(0, count * manifest.SampleElements).ToArray();
            }
            else if (n == 0) throw new HetQException("nothing to simulate: give --data, --random N, or both");
            var netlist = RebuiltNetlist(d, manifest, graph, asJsonOutput: parse.GetValue(json));
            var vectors = Testbench.Vectors(graph, manifest, features, n, parse.GetValue(seed), netlist);
            string unit = manifest.IsStreaming ? "images" : "vectors";
            if (netlist is not null && !parse.GetValue(json))
                Console.Error.WriteLine($"hw sim: the design's netlist, run in process, equals the emulator on all {vectors.Count} {unit}");
            Simulation.Prepare(d, manifest, vectors, parse.GetValue(seed));
            string which = parse.GetValue(simulator)!;
            var kinds = which == "both" ? new[] { SimulatorKind.Verilator, SimulatorKind.Icarus }
                : new[] { which == "icarus" ? SimulatorKind.Icarus : SimulatorKind.Verilator };
            bool asJson = parse.GetValue(json);
            var results = new List<SimulationResult>();
            var progress = CliProgress.Steps(asJson, parse.GetValue(progressOption));
            foreach (var k in kinds)
                results.Add(await Simulation.RunAsync(d, manifest, k, TimeSpan.FromSeconds(parse.GetValue(timeout)), cancel, progress));
            int mismatches = results.Max(r => r.Mismatches);
            if (asJson)
            {
                Console.WriteLine(CliJson.Serialize(new
                {
                    vectors = vectors.Count,
                    mismatches,
                    io = manifest.IsStreaming ? "stream" : "parallel",
                    simulator = which,
                    first_mismatch = results.Select(r => r.FirstMismatch).FirstOrDefault(f => f is not null) is { } f ? Mismatch(f) : null,
                    results = results.Select(r => new
                    {
                        simulator = r.Simulator.ToString().ToLowerInvariant(),
                        vectors = r.Vectors,
                        mismatches = r.Mismatches,
                        first_mismatch = r.FirstMismatch is { } fm ? Mismatch(fm) : null,
                        build_seconds = Math.Round(r.BuildSeconds, 3),
                        run_seconds = Math.Round(r.RunSeconds, 3),
                        log = r.Log,
                    }),
                }));
                return mismatches == 0 ? ExitCodes.Ok : ExitCodes.CheckFailed;
            }
            foreach (var r in results)
            {
                string name = r.Simulator.ToString().ToLowerInvariant();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{name,-10} {r.Vectors} {unit}, {r.Mismatches} mismatches (build {r.BuildSeconds:F2} s, run {r.RunSeconds:F2} s); log {r.Log}"));
                if (r.FirstMismatch is { } fm) Console.WriteLine($"{"",-10} first mismatch: {fm}");
            }
            Console.WriteLine(mismatches == 0
                ? $"the Verilog equals the emulator on all {vectors.Count} {unit}"
                : $"MISMATCH: the Verilog differs from the emulator");
            return mismatches == 0 ? ExitCodes.Ok : ExitCodes.CheckFailed;
        });
        return cmd;
    }

    /// <summary>The manifest and graph.json of a design directory describe the same design (a stale or edited pair would
    /// give false mismatches).</summary>
    internal static void CheckAgrees(HardwareManifest m, IntegerGraph g, string dir)
    {
        int outputs = m.Argmax ? 1 : g.Output.Output.Size;
        if (m.SampleElements != g.Input.Output.Size || m.Output.Elements != outputs)
            throw new HetQException($"{dir}: manifest.json ({m.SampleElements} inputs, {m.Output.Elements} outputs) and {GraphFile} ({g.Input.Output.Size} inputs, {outputs} outputs) "
                                    + "are not the same design; write it again with hetq hw");
        foreach (var f in m.Files)
            if (!Files.SafeOutput.IsRegular(Path.Combine(dir, f))) throw new HetQException($"{Path.Combine(dir, f)}: design file missing (or not a regular file)");
    }

    private static object Mismatch(SimulationMismatch m) => new
    {
        sample = m.Sample, output = m.Output, got = m.Got, got_text = m.GotText, expected = m.Expected,
    };
}
