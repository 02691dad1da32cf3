using System.CodeDom.Compiler;
using System.Globalization;
using System.Numerics;
using HetQ.Graph;
using HetQ.Numerics;
using HetQ.Quantization;

namespace HetQ.Hardware;

public static partial class VerilogWriter
{
    public const string ResetPort = "rst";
    public const string InValidPort = "in_valid";
    public const string OutValidPort = "out_valid";

    /// <summary>The streaming design (<see cref="HardwareIo.Stream"/>) of a graph input → convolution and pooling stages
    /// (Conv1D/Conv2D, DepthwiseConv2D, max and average pooling; padding 'valid', any stride, and 'same' in convolutions
    /// and max pooling; each with its requantization and ReLU; with adds of branches, their inputs aligned by FIFOs, and
    /// ReLU layers, see <see cref="AddBranches"/>) → Flatten → dense layers (and element-wise requantizations): one pixel (all its channels) per clock where
    /// in_valid is 1, row by row. Each stage keeps KH-1 line buffers and a KH x KW window on its input's pixels and
    /// computes one window position per pixel (a convolution with one copy of its constant matrix, shared partial sums
    /// as the parallel design builds it); its output pixels at valid positions (registered, except the last stage's) are
    /// the next stage's input. The last feature map goes into registers (one set per position); the dense layers compute
    /// from those, and out_valid is 1 for one clock with the outputs on y.
    /// With <paramref name="reuse"/> (factors above 1) the dense layers after flatten are folded (see
    /// <see cref="Emitter.FoldedStreamTail"/>).</summary>
    private static VerilogDesign WriteStreaming(IntegerGraph graph, HardwareOptions options, int[]? reuse = null)
    {
        string top = TopName(graph, options);
        var emitter = new Emitter(graph, options, Array.Empty<int>(), new());
        var windows = emitter.EmitStream(reuse);
        var timing = StreamTiming.Of(StreamNode.Of(graph), windows[0].InH * windows[0].InW);
        var manifest = emitter.StreamManifest(top, windows[0], timing, reuse);
        var text = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
        var w = new IndentedTextWriter(text, "  ") { NewLine = "\n" };
        WriteStreamHeader(w, graph, manifest, timing);
        WriteModule(w, top, [$"input wire {Clock}", $"input wire [0:0] {ResetPort}", $"input wire [0:0] {InValidPort}",
            $"input wire [{manifest.Input.Bits - 1}:0] {InputPort}", $"output wire [0:0] {OutValidPort}",
            $"output wire [{manifest.Output.Bits - 1}:0] {OutputPort}"], emitter.Netlist, options.Dsp);
        return new VerilogDesign(manifest, new[] { new VerilogFile(top + ".v", text.ToString()) }) { Netlist = emitter.Netlist };
    }

    /// <summary>Why <paramref name="graph"/> has no streaming design in this version (one line naming the layer), or null
    /// when it has: input → convolution and pooling stages (any stride; padding 'same' in convolutions and max pooling),
    /// adds of their branches and requantizations (ReLU) → Flatten → dense layers (and element-wise requantizations).</summary>
    public static string? StreamingProblem(IntegerGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var nodes = graph.Nodes;
        if (!PerChannel(((InputOp)nodes[0].Op).Elements, nodes[0].Output.Shape[^1]))
            return $"layer '{nodes[0].Name}': --io stream takes learned input widths per channel, not per element (each pixel's channel has one width at every position); use --io parallel";
        if (nodes.Count < 3 || StageWindow(nodes[1].Op) is null || nodes[1].Inputs is not [0])
            return $"layer '{(nodes.Count > 1 ? nodes[1].Name : nodes[0].Name)}': --io stream needs a convolution (Conv1D/Conv2D, DepthwiseConv2D) or pooling layer first; use --io parallel";
        int k = 1;
        for (; k < nodes.Count && nodes[k].Op is not FlattenOp; k++)
        {
            var node = nodes[k];
            if (node.Op is AddOp or RequantOp)
            {
                if (!PerChannel(node.Op.Requantized?.Elements, node.Output.Shape[^1]))
                    return $"layer '{node.Name}': --io stream takes learned widths per channel, not per element, in an add or activation (each pixel's channel has one width at every position); use --io parallel";
                continue;
            }
            if (StageWindow(node.Op) is not { } win)
                return $"layer '{node.Name}': --io stream takes only convolution, pooling, add and ReLU layers before flatten in this version ({node.Op.Name} given); use --io parallel";
            if (!win.IsUnpadded && node.Op is not (ConvOp or DepthwiseConvOp or MaxPoolOp))
                return $"layer '{node.Name}': --io stream takes padding 'same' in convolutions and max pooling only in this version (average pooling with padding 'same' given); use --io parallel";
            if (!PerChannel(StageOutput(node.Op)?.Elements, node.Output.Shape[^1]))
                return $"layer '{node.Name}': --io stream takes learned widths per channel, not per element, in a convolution or pooling layer (each pixel's channel has one width at every position); use --io parallel";
        }
        if (k == nodes.Count)
            return $"layer '{nodes[^1].Name}': --io stream needs a Flatten after the convolution and pooling layers; use --io parallel";
        if (nodes[k].Inputs is not [var before] || before != k - 1)
            return $"layer '{nodes[k].Name}': --io stream takes a Flatten of the layer just before it in this version; use --io parallel";
        for (int i = k + 1; i < nodes.Count; i++)
        {
            if (nodes[i].Inputs is not [var only] || only != i - 1)
                return $"layer '{nodes[i].Name}': --io stream takes a chain of dense layers after flatten in this version; use --io parallel";
            if (nodes[i].Op is not (DenseOp or RequantOp or ClipOp))
                return $"layer '{nodes[i].Name}': --io stream takes only dense layers after flatten in this version ({nodes[i].Op.Name} given); use --io parallel";
        }
        return null;
    }

    /// <summary>How a folded design's multipliers are built, as its header and `hw` say it: with <paramref name="dsp"/>
    /// (`--dsp`) a * b for synthesis to put into DSP slices, else shift-and-add in LUTs.</summary>
    public static string Multipliers(bool? dsp) => dsp == true ? "DSP slices allowed" : "LUTs, shift-and-add";

    /// <summary>Whether learned element formats <paramref name="elements"/> (none: a plain type) are the same at every
    /// position for each of the <paramref name="channels"/> channels (the last axis): per-channel widths, which a
    /// streamed design keeps, since one stage computes every position of a channel with the same logic.</summary>
    private static bool PerChannel(IReadOnlyList<FixedFormat?>? elements, int channels)
    {
        if (elements is null) return true;
        for (int e = channels; e < elements.Count; e++)
            if (elements[e] != elements[e % channels]) return false;
        return true;
    }

    private static void WriteStreamHeader(IndentedTextWriter w, IntegerGraph g, HardwareManifest m, StreamTiming timing)
    {
        var im = m.Image!;
        string cycles = m.LatencyCycles == 1 ? "clock cycle" : "clock cycles";
        string when = timing.IsExact ? $"{m.LatencyCycles} {cycles} after" : $"at most {m.LatencyCycles} {cycles} after";
        w.WriteLine($"// Generated by HetQ from the integer graph '{g.Name}'; do not edit.");
        w.WriteLine($"// Top module {m.Top}: streaming (io stream). An image of {im[0]}x{im[1]}x{im[2]} arrives one pixel per clock, row by row,");
        w.WriteLine($"// on every rising edge of {m.Clock} where {InValidPort} is 1 (gaps allowed); {ResetPort} (synchronous, active high) restarts at pixel 0.");
        w.WriteLine($"// Input  {m.Input.Name}: one pixel, {m.Input.Elements} x {m.Input.Type} raw codes (its channels), {m.Input.ElementWidth} bits each: channel i at [(i+1)*{m.Input.ElementWidth}-1 : i*{m.Input.ElementWidth}].");
        string what = m.Argmax ? "the index of the largest logit (the first one on ties)" : $"{m.Output.Elements} x {m.Output.Type} raw codes";
        w.WriteLine($"// Output {m.Output.Name}: {what}, {m.Output.ElementWidth} bits each: element i at [(i+1)*{m.Output.ElementWidth}-1 : i*{m.Output.ElementWidth}];");
        w.WriteLine($"//   valid while {OutValidPort} is 1: for one clock, {when} the edge that takes an image's last pixel.");
        w.WriteLine($"// Flow control: {InValidPort} only, no in_ready: the design never stalls, every part keeps up by construction (a stage");
        w.WriteLine("// takes each pixel in its clock, an add's FIFOs hold what images back to back need, a folded tail ends within the interval).");
        int gap = m.InitiationInterval - im[0] * im[1];
        if (gap == 0)
            w.WriteLine($"// Initiation interval {m.InitiationInterval} clock cycles per image (one pixel every clock, images back to back); latency {m.LatencyCycles} clock");
        else
        {
            w.WriteLine($"// Initiation interval {m.InitiationInterval} clock cycles per image: one pixel every clock, then {InValidPort} must stay 0 for {gap} clock{(gap == 1 ? "" : "s")} after an");
            w.WriteLine($"// image's last pixel while the stages with padding 'same' emit their last outputs (the padding below and right of the image");
            w.WriteLine($"// is virtual: no pixels are sent for it; a pixel sent in those clocks is lost). Latency {m.LatencyCycles} clock");
        }
        w.WriteLine($"// cycle{(m.LatencyCycles == 1 ? "" : "s")} from the last pixel. Stages:");
        for (int index = 1; g.Nodes[index].Op is not FlattenOp; index++)
        {
            var node = g.Nodes[index];
            if (StageWindow(node.Op) is not { } win)
            {
                string of = string.Join(" and ", node.Inputs.Select(i => $"'{g.Nodes[i].Name}'"));
                string wait = node.Op is AddOp && node.Inputs.Distinct().Count() > 1 ? "; each input's pixels wait in a FIFO until every input has brought the same position" : "";
                w.WriteLine($"//   '{node.Name}' ({node.Op.Name}): of {of}, one pixel per clock{wait};");
                continue;
            }
            string pad = win.IsUnpadded ? "" : $", padding 'same' ({(node.Op is MaxPoolOp ? "left out of the maximum" : "zeros")}: {win.PadTop} row{(win.PadTop == 1 ? "" : "s")} above, {win.PadLeft} column{(win.PadLeft == 1 ? "" : "s")} left, the rest below and right; {StagePlacement.Of(win).Flush} flush clocks)";
            string reads = node.Inputs[0] == index - 1 ? "" : $" of '{g.Nodes[node.Inputs[0]].Name}'";
            w.WriteLine($"//   '{node.Name}' ({node.Op.Name}){reads}: {win.KH - 1} line buffer{(win.KH == 2 ? "" : "s")} of {win.InW} pixels and a {win.KH}x{win.KW} window, stride {win.SH}x{win.SW}{pad}, {win.OutH}x{win.OutW} outputs;");
        }
        w.WriteLine($"// the last feature map in registers (one set per position); the layers after flatten compute from those registers");
        if (m.ReuseFactors is { Count: > 0 } rf)
        {
            int period = rf.Values.Max(), folds = rf.Count;
            w.WriteLine($"// folded (reuse factors {string.Join(", ", rf.Select(p => $"{p.Key} {p.Value}"))}): the feature map is copied into a second set of registers");
            w.WriteLine($"// the clock after it is complete, then each folded layer takes a period of {period} clocks ({folds * period} in all, within the");
            w.WriteLine($"// initiation interval, so the stream never waits); {m.Levels} levels of logic at most between registers; multipliers: {Multipliers(m.Dsp)}.");
        }
        else w.WriteLine($"// without pipeline registers ({m.Levels} levels of logic at most).");
    }

    private sealed partial class Emitter
    {
        /// <summary>The streaming netlist (see <see cref="WriteStreaming"/>); returns the windows of its stages (input to
        /// flatten, in node order; adds and ReLU layers have none). A graph of another form is refused with one line naming the layer.</summary>
        public IReadOnlyList<Window> EmitStream(int[]? reuse = null)
        {
            if (StreamingProblem(_g) is { } problem) throw new HetQException(problem);
            var nodes = _g.Nodes;
            var first = StageWindow(nodes[1].Op)!;
            var rst = _net.PortSlice("ctl_rst", ResetPort, 0, 1, false);
            var valid = _net.PortSlice("ctl_in_valid", InValidPort, 0, 1, false);
            // a pixel's channel ci in slot ci; learned widths are per channel (StreamingProblem), so element ci's
            // format is channel ci's at every position
            var pixel = new Sig[first.Channels];
            for (int ci = 0; ci < pixel.Length; ci++) pixel[ci] = InputSlice(ci, ci);

            // the stages: each takes the pixels of its input; all but the last register their output pixel
            var plan = StreamNode.Of(_g);
            int imagePixels = first.InH * first.InW;
            var clocks = PaddedTiming.Clocks(plan, imagePixels, out _, out _);
            var timing = StreamTiming.Of(plan, imagePixels);
            var streams = new PixelStream[plan.Count];
            streams[0] = new PixelStream(pixel, valid);
            var windows = new List<Window>();
            var lastPixel = default(Sig);
            int k = 1;
            for (; nodes[k].Op is not FlattenOp; k++)
            {
                bool registered = plan[k].Registered;
                var input = streams[nodes[k].Inputs[0]];
                switch (nodes[k].Op)
                {
                    case AddOp a:
                        var align = AddBranches.Of(nodes[k].Inputs, clocks, timing.InitiationInterval, plan.Count(n => n.Registered));
                        streams[k] = AddStage(k, a, streams, align, rst, registered);
                        break;
                    case RequantOp r:
                        streams[k] = RequantStage(k, r, input, rst, registered);
                        break;
                    default:
                        windows.Add(StageWindow(nodes[k].Op)!);
                        streams[k] = WindowStage(k, input, rst, registered, out var last);
                        if (k == 1) lastPixel = last;
                        break;
                }
            }
            var stream = streams[k - 1];

            // flatten: the output of position p goes to its own registers (enabled when the position counter is p), so a
            // pixel changes only one position's registers and the logic after flatten is quiet between images
            var shape = nodes[k - 1].Output.Shape;
            var y = stream.Pixel;
            int f = y.Length, positions = clocks[k - 1].Length, outW = shape.Length == 3 ? shape[1] : shape[0];
            _net.BlankLine();
            _net.Comment($"{nodes[k].Name}: the {positions / outW}x{outW}x{f} feature map in registers, position p taken at the p-th output pixel of '{nodes[k - 1].Name}'");
            var flat = new Sig[positions * f];
            var pos = _net.State("ctl_pos", new CounterCell(positions, stream.Valid.Id, rst.Id), 0, positions - 1, 0);
            for (int p = 0; p < positions; p++)
            {
                var here = And(stream.Valid, Is(pos, p));
                for (int j = 0; j < f; j++)
                {
                    if (y[j].IsConstant) { flat[p * f + j] = y[j]; continue; }
                    string name = $"{_prefixes[k]}_p{p.ToString(CultureInfo.InvariantCulture)}_f{j.ToString(CultureInfo.InvariantCulture)}";
                    flat[p * f + j] = _net.State(name, new RegisterCell(y[j].Id, here.Id), y[j].Lo, y[j].Hi, 0) with { Shift = y[j].Shift };
                }
            }
            _values[k] = flat;
            Starts[k] = Ends[k] = 0;

            // out_valid: one clock after the image's last pixel when the feature map is complete by then in every pattern
            // of gaps, else one clock after the last position is taken
            _net.BlankLine();
            Sig done;
            if (timing.FollowsLastPixel)
            {
                _net.Comment("out_valid: the clock after the image's last pixel (the feature map is complete by then)");
                done = lastPixel;
            }
            else
            {
                _net.Comment("out_valid: the clock after the feature map's last position is taken");
                done = And(stream.Valid, Is(pos, positions - 1));
            }
            if (reuse is not null)
            {
                var go = _net.State("ctl_go", new RegisterCell(done.Id, -1, rst.Id), 0, 1, 0);
                var folded = FoldedStreamTail(k, go, rst, reuse, timing.Pixels);
                WriteSequentialTail(nodes.Count);
                _net.Output(OutValidPort, 0, 1, Operand.Wire(folded.Id, 0));
                return windows;
            }
            var outValid = _net.State("ctl_out_valid", new RegisterCell(done.Id, -1, rst.Id), 0, 1, 0);

            for (int i = k + 1; i < nodes.Count; i++)
            {
                int start = Ends[i - 1];
                Starts[i] = start;
                _net.BlankLine();
                _net.Comment($"{nodes[i].Name}: {Describe(nodes[i])}");
                (_values[i], Ends[i]) = nodes[i].Op.Accept(new OpEmitter(this, i, start));
            }
            WriteSequentialTail(nodes.Count);
            _net.Output(OutValidPort, 0, 1, Operand.Wire(outValid.Id, 0));
            return windows;
        }

        private Sig Is(Sig counter, int value) => _net.Wire("ctl", 'e', 0, 1, 0, new EqualsCell(Operand.Wire(counter.Id, 0), value), 0);

        /// <summary>counter ≥ value (1 when value ≤ 0).</summary>
        private Sig AtLeast(Sig counter, int value) => value <= 0
            ? Sig.Constant(1)
            : _net.Wire("ctl", 'g', 0, 1, 0, new CompareCell(Operand.Wire(counter.Id, 0), Operand.Constant(value - 1), _net[counter].Width, false), 0);

        private Sig And(Sig a, Sig b)
        {
            if (a.IsConstant) return a.Lo == 0 ? a : b;
            if (b.IsConstant) return b.Lo == 0 ? b : a;
            return _net.Wire("ctl", 'a', 0, 1, 0, new LogicCell(LogicKind.And, a.Id, b.Id), 0);
        }

        public HardwareManifest StreamManifest(string top, Window first, StreamTiming timing, int[]? reuse = null)
        {
            var win = first;
            var inType = _g.Input.Output.Type;
            var input = new HardwarePort(InputPort, win.Channels, inType.ToString(), inType.Width, inType.Signed, inType.FractionalBits);
            var outNode = _g.Output.Output;
            HardwarePort output;
            if (_o.Argmax)
            {
                int bits = Netlist.WidthOf(0, outNode.Size - 1);
                output = new HardwarePort(OutputPort, 1, new Quantization.FixedType(false, bits, bits).ToString(), bits, false, 0);
            }
            else output = new HardwarePort(OutputPort, outNode.Size, outNode.Type.ToString(), outNode.Type.Width, outNode.Type.Signed, outNode.Type.FractionalBits);
            // cycles counted from the clock that takes the image's last pixel: the stages work on every pixel's clock,
            // the layers after flatten in the clock of out_valid
            int latency = timing.Latency + (reuse is null ? 0 : FoldedTailCycles(reuse));
            var layers = new List<HardwareLayer>();
            int flatten = _g.Nodes.ToList().FindIndex(n => n.Op is FlattenOp);
            for (int i = 1; i < Starts.Length; i++)
            {
                string name = i < _g.Nodes.Count ? _g.Nodes[i].Name : "argmax";
                string op = i < _g.Nodes.Count ? _g.Nodes[i].Op.Name : "argmax";
                bool streamed = i <= flatten;
                int cycle = streamed ? 0 : latency;
                layers.Add(new HardwareLayer(name, op, streamed || reuse is null ? cycle : timing.Latency, cycle));
            }
            var m = new HardwareManifest(top, Clock, new[] { top + ".v" }, input, output, _o.Argmax, latency, 0, "none", timing.InitiationInterval,
                _net.Depth, _net.RegisterBits, layers, _g.Name, _o.Sharing.ToString().ToLowerInvariant(),
                HardwareManifest.Streaming, new[] { win.InH, win.InW, win.Channels },
                Ports: [Clock, ResetPort, InValidPort, InputPort, OutValidPort, OutputPort], NeverStalls: true);
            if (reuse is null) return m;
            var factors = new SortedDictionary<string, int>(StringComparer.Ordinal);
            for (int i = 0; i < reuse.Length; i++) if (reuse[i] > 1) factors[_g.Nodes[i].Name] = reuse[i];
            return m with { ReuseFactors = factors, Dsp = _o.Dsp };
        }

        /// <summary>The tail of a sequential (streaming or folded) design after its <paramref name="count"/> nodes: the
        /// argmax as its own node when asked for, then the output port from the last node's values.</summary>
        private void WriteSequentialTail(int count)
        {
            int lastNode = count - 1;
            if (_o.Argmax)
            {
                int a = count;
                Starts[a] = Ends[lastNode];
                _net.BlankLine();
                _net.Comment($"argmax: the index of the largest of the {_values[lastNode].Length} outputs (the first one on ties)");
                (_values[a], Ends[a]) = Argmax(a, _values[lastNode], Starts[a]);
                lastNode = a;
            }
            WriteOutputs(_values[lastNode], 0);
        }
    }
}
