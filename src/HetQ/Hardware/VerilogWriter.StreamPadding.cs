using System.Globalization;
using HetQ.Graph;
using HetQ.Numerics;

namespace HetQ.Hardware;

public static partial class VerilogWriter
{
    /// <summary>Where a streaming stage takes its outputs, padding 'same' or 'valid': output (oy, ox) at the stage's
    /// advance number <see cref="Base"/> + oy·SH·W + ox·SW (its window's last tap inside the padded image, counted
    /// row-major over the input's W columns), so the taps are the pixels advanced d·W + e before; a tap outside the input
    /// (in the padding, or wrapped to the neighbouring row) is zero. <see cref="Flush"/> advances without a pixel follow
    /// the input's last pixel when the last outputs need pixels below or right of the image (the "virtual" padding).</summary>
    internal readonly record struct StagePlacement(int Base, int Flush, int LastAdvance)
    {
        public static StagePlacement Of(Window g)
        {
            int b = (g.KH - 1 - g.PadTop) * g.InW + g.KW - 1 - g.PadLeft;
            int last = b + (g.OutH - 1) * g.SH * g.InW + (g.OutW - 1) * g.SW;
            return new StagePlacement(b, Math.Max(0, last - (g.InH * g.InW - 1)), last);
        }
    }

    /// <summary>The timing of a streaming design with a padded stage, without gaps in in_valid, from the clock of each
    /// stage's input pixels (a stage's outputs at advance n come in the clock of its n-th input pixel, or the clocks
    /// after its last one for the flush; registered stages one clock later): <see cref="Latency"/> from the edge of the
    /// image's last pixel to out_valid; <see cref="Gap"/> the clocks without in_valid that must follow the last pixel
    /// until every stage has flushed (so the initiation interval is pixels + Gap); <see cref="IsExact"/> when every
    /// stage's last output follows its last input pixel (gaps before it then do not change the latency).</summary>
    internal sealed record PaddedTiming(int Latency, int Gap, bool IsExact)
    {
        public static PaddedTiming Of(IReadOnlyList<Window> stages) =>
            Of(StreamNode.Chain(stages), stages[0].InH * stages[0].InW);

        /// <summary>The timing of the stream <paramref name="nodes"/> (node 0 the image of <paramref name="pixels"/>
        /// pixels), from <see cref="Clocks"/>.</summary>
        public static PaddedTiming Of(IReadOnlyList<StreamNode> nodes, int pixels)
        {
            var clocks = Clocks(nodes, pixels, out int gap, out bool exact);
            return new PaddedTiming(clocks[^1][^1] - (pixels - 1) + 1, gap, exact);
        }

        /// <summary>The clock of each output position of every node of <paramref name="nodes"/> without gaps in in_valid
        /// (the image's pixel i in clock i; a stage's output at its advance n in the clock of its n-th input pixel, or the
        /// clocks after its last one for the flush; an element-wise node's in the clock of its latest input, an add of
        /// two or more nodes (through its FIFOs) one clock after; registered
        /// nodes one clock later); <paramref name="gap"/> the clocks without in_valid that must follow the last pixel until
        /// every stage has flushed; <paramref name="exact"/> when every stage's last output follows its last input pixel.</summary>
        public static int[][] Clocks(IReadOnlyList<StreamNode> nodes, int pixels, out int gap, out bool exact)
        {
            var clocks = new int[nodes.Count][];
            clocks[0] = Enumerable.Range(0, pixels).ToArray();
            gap = 0;
            exact = true;
            for (int s = 1; s < nodes.Count; s++)
            {
                int delay = nodes[s].Registered ? 1 : 0;
                if (nodes[s].Window is not { } g)
                {
                    var ins = nodes[s].Inputs;
                    int pop = ins.Distinct().Count() > 1 ? 1 : 0; // an add's FIFOs give a pixel the clock after it came
                    clocks[s] = Enumerable.Range(0, clocks[ins[0]].Length).Select(p => ins.Max(i => clocks[i][p]) + pop + delay).ToArray();
                    continue;
                }
                var input = clocks[nodes[s].Inputs[0]];
                var at = StagePlacement.Of(g);
                int count = g.InH * g.InW, last = input[count - 1];
                gap = Math.Max(gap, last + at.Flush - (pixels - 1));
                exact &= at.LastAdvance >= count - 1;
                var next = new int[g.OutH * g.OutW];
                for (int oy = 0; oy < g.OutH; oy++)
                    for (int ox = 0; ox < g.OutW; ox++)
                    {
                        int q = at.Base + oy * g.SH * g.InW + ox * g.SW;
                        next[oy * g.OutW + ox] = (q < count ? input[q] : last + q - (count - 1)) + delay;
                    }
                clocks[s] = next;
            }
            return clocks;
        }
    }

    /// <summary>A node of a streaming design before flatten: a stage (<see cref="Window"/>) or an element-wise node
    /// (an add, a requantization; no window) on the pixels of <see cref="Inputs"/> (node indices; node 0 is the image),
    /// its output pixel registered (one clock later) when <see cref="Registered"/>.</summary>
    internal sealed record StreamNode(Window? Window, int[] Inputs, bool Registered)
    {
        /// <summary>A chain of stages after the image, all but the last registered.</summary>
        public static IReadOnlyList<StreamNode> Chain(IReadOnlyList<Window> stages) =>
            [new StreamNode(null, [], false), .. stages.Select((g, s) => new StreamNode(g, [s], s < stages.Count - 1))];

        /// <summary>The nodes of <paramref name="graph"/> before its flatten (which <see cref="StreamingProblem"/> accepts):
        /// every one registered except the one before flatten.</summary>
        public static IReadOnlyList<StreamNode> Of(IntegerGraph graph)
        {
            var nodes = graph.Nodes;
            var list = new List<StreamNode> { new(null, [], false) };
            for (int i = 1; nodes[i].Op is not FlattenOp; i++)
                list.Add(new StreamNode(StageWindow(nodes[i].Op), nodes[i].Inputs.ToArray(), nodes[i + 1].Op is not FlattenOp));
            return list;
        }

        /// <summary>Whether these are a chain of stages (no add, no element-wise node).</summary>
        public static bool IsChain(IReadOnlyList<StreamNode> nodes) =>
            nodes.Skip(1).Select((n, i) => n.Window is not null && n.Inputs is [var only] && only == i).All(b => b);
    }

    private sealed partial class Emitter
    {
        /// <summary>Stage <paramref name="k"/> with padding 'same' (a convolution, depthwise convolution or max pooling; see
        /// <see cref="StagePlacement"/>): counters of the input pixel (for the last pixel), a flush of F clocks after it,
        /// counters of the advance from <see cref="StagePlacement.Base"/> on (the output column ox·SW and row oy·SH),
        /// the window advanced by every pixel and flush clock, and each tap zero where it lies outside the input.</summary>
        private PixelStream PaddedStage(int k, PixelStream input, Sig rst, bool registered, out Sig lastPixel)
        {
            var node = _g.Nodes[k];
            var g = StageWindow(node.Op)!;
            var at = StagePlacement.Of(g);
            string p = _prefixes[k];
            int h = g.InH, wd = g.InW, ch = g.Channels;
            var valid = input.Valid;
            _net.BlankLine();
            _net.Comment($"{node.Name}: padding 'same' (top {g.PadTop}, left {g.PadLeft}): pixel position of its input; output (oy, ox) at advance {at.Base} + oy*{g.SH * wd} + ox*{g.SW}"
                         + (at.Flush > 0 ? $", {at.Flush} flush clock{(at.Flush == 1 ? "" : "s")} after the last pixel" : ""));
            var col = _net.State(p + "_col", new CounterCell(wd, valid.Id, rst.Id), 0, wd - 1, 0);
            var colLast = And(valid, Is(col, wd - 1));
            var row = _net.State(p + "_row", new CounterCell(h, colLast.Id, rst.Id), 0, h - 1, 0);
            lastPixel = And(colLast, Is(row, h - 1));
            var advance = valid;
            var restart = rst;
            if (at.Flush > 0)
            {
                // flushing: from the clock after the last pixel for F clocks (no pixel may come then)
                var flushing = _net.State(p + "_flushing", new RegisterCell(-1, -1, rst.Id), 0, 1, 0);
                var count = _net.State(p + "_flush", new CounterCell(at.Flush, flushing.Id, rst.Id), 0, at.Flush - 1, 0);
                var flushEnd = And(flushing, Is(count, at.Flush - 1));
                _net.Connect(flushing, Or(lastPixel, And(flushing, Not(flushEnd))));
                advance = Or(valid, flushing);
                restart = Or(rst, flushEnd);
            }
            else restart = Or(rst, lastPixel);

            // the advance counters from Base on: column c = (n - Base) mod W and row r = (n - Base) div W
            Sig started;
            int br = at.Base / wd, bc = at.Base % wd;
            started = br == 0 && bc == 0 ? Sig.Constant(1)
                : _net.State(p + "_started", new RegisterCell(-1, -1, restart.Id), 0, 1, 0);
            Sig live = started;
            if (!started.IsConstant)
            {
                var reach = And(And(valid, Is(row, br)), Is(col, bc));
                live = Or(started, reach);
                _net.Connect(started, live);
            }
            var on = And(advance, live);
            var c2 = _net.State(p + "_ocol", new CounterCell(wd, on.Id, restart.Id), 0, wd - 1, 0);
            var wrap = And(on, Is(c2, wd - 1));
            var r2 = _net.State(p + "_orow", new CounterCell(h, wrap.Id, restart.Id), 0, h - 1, 0);
            var take = on;
            if (g.SW > 1)
            {
                var phase = _net.State(p + "_colph", new CounterCell(g.SW, on.Id, Or(restart, wrap).Id), 0, g.SW - 1, 0);
                take = And(take, Is(phase, 0));
            }
            if (g.SH > 1)
            {
                var phase = _net.State(p + "_rowph", new CounterCell(g.SH, wrap.Id, restart.Id), 0, g.SH - 1, 0);
                take = And(take, Is(phase, 0));
            }
            take = And(take, Within(r2, h - 1, 0, (g.OutH - 1) * g.SH));

            var taps = StageTaps(k, input.Pixel, advance);
            bool max = node.Op is MaxPoolOp;
            _net.BlankLine();
            _net.Comment($"{node.Name}: each tap {(max ? "its lowest code (left out of the maximum)" : "zero")} where it lies in the padding (row oy*{g.SH} - {g.PadTop} + ky outside 0..{h - 1}, column ox*{g.SW} - {g.PadLeft} + kx outside 0..{wd - 1})");
            for (int ky = 0; ky < g.KH; ky++)
                for (int kx = 0; kx < g.KW; kx++)
                {
                    var inside = And(Within(r2, h - 1, g.PadTop - ky, h - 1 + g.PadTop - ky), Within(c2, wd - 1, g.PadLeft - kx, wd - 1 + g.PadLeft - kx));
                    if (inside.IsConstant && inside.Lo == 1) continue;
                    for (int ci = 0; ci < ch; ci++)
                    {
                        int t = (ky * g.KW + kx) * ch + ci;
                        var x = taps[t];
                        if (x.IsConstant && (x.Lo == 0 || max)) continue;
                        var when = x.IsConstant ? Operand.Constant(x.Lo) : Operand.Wire(x.Id, 0);
                        // max pooling leaves the padding out: its lowest code there (a tap inside the image is never lower)
                        var pad = max ? x.Lo : 0;
                        taps[t] = _net.Wire(p, 'z', BigIntegerMin(x.Lo, pad), BigIntegerMax(x.Hi, pad), x.IsConstant ? 0 : x.Shift,
                            new MuxCell(inside.Id, when, Operand.Constant(pad)), 0);
                    }
                }
            return StageArithmetic(k, taps, take, rst, registered);
        }

        /// <summary>lo ≤ counter ≤ hi for a counter of 0..max (no comparison for a bound it cannot pass: a constant
        /// beyond the counter's width would be cut).</summary>
        private Sig Within(Sig counter, int max, int lo, int hi) =>
            And(lo <= 0 ? Sig.Constant(1) : AtLeast(counter, lo), hi >= max ? Sig.Constant(1) : Not(AtLeast(counter, hi + 1)));

        private static System.Numerics.BigInteger BigIntegerMin(System.Numerics.BigInteger a, System.Numerics.BigInteger b) => a < b ? a : b;

        private static System.Numerics.BigInteger BigIntegerMax(System.Numerics.BigInteger a, System.Numerics.BigInteger b) => a > b ? a : b;

        private Sig Not(Sig a) => a.IsConstant ? Sig.Constant(a.Lo == 0 ? 1 : 0) : _net.Wire("ctl", 'n', 0, 1, 0, new LogicCell(LogicKind.Not, a.Id), 0);
    }
}
