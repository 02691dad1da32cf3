using System.Globalization;
using System.Numerics;
using HetQ.Graph;
using HetQ.Numerics;

namespace HetQ.Hardware;

public static partial class VerilogWriter
{
    /// <summary>The window of a streaming stage (a convolution or pooling layer), or null for another op.</summary>
    internal static Window? StageWindow(Op op) => op switch
    {
        ConvOp c => c.Window,
        DepthwiseConvOp d => d.Window,
        MaxPoolOp m => m.Window,
        AvgPoolOp a => a.Window,
        _ => null,
    };

    private static Requantization? StageOutput(Op op) => op switch
    {
        ConvOp c => c.Output,
        DepthwiseConvOp d => d.Output,
        AvgPoolOp a => a.Output,
        _ => null,
    };

    /// <summary>The timing of a streaming design without gaps in in_valid: <see cref="LastTap"/> is the index of the input
    /// pixel (row-major) whose clock starts the image's last output position on the way to flatten, <see cref="Delay"/>
    /// the registered stages on that way; the outputs are complete at the later of that clock plus the delay and the
    /// clock of the image's last pixel.</summary>
    internal readonly record struct StreamTiming(int LastTap, int Delay, int Pixels)
    {
        /// <summary>Set when a stage has padding 'same' or the stream branches (an add; see <see cref="PaddedTiming"/>):
        /// the timing comes from there.</summary>
        public PaddedTiming? Padded { get; init; }

        /// <summary>Whether the image's last pixel comes no earlier than its last output position in every pattern of gaps
        /// (so out_valid follows the last pixel by exactly one clock).</summary>
        public bool FollowsLastPixel => Padded is null && Delay <= Pixels - 1 - LastTap;

        /// <summary>Clock cycles from the edge that takes the image's last pixel to out_valid, without gaps (with gaps it
        /// is this or fewer unless <see cref="IsExact"/>).</summary>
        public int Latency => Padded?.Latency ?? (FollowsLastPixel ? 1 : Delay - (Pixels - 1 - LastTap) + 1);

        /// <summary>Whether every pattern of gaps gives <see cref="Latency"/> exactly (gaps before the last pixel can
        /// otherwise bring out_valid earlier).</summary>
        public bool IsExact => Padded?.IsExact ?? (FollowsLastPixel || LastTap == Pixels - 1);

        /// <summary>Clocks per image: the pixels, and the clocks without in_valid that must follow an image's last pixel
        /// while padded stages emit their last outputs (<see cref="PaddedTiming.Gap"/>).</summary>
        public int InitiationInterval => Pixels + (Padded?.Gap ?? 0);

        /// <summary>The timing of the stream <paramref name="nodes"/> (<see cref="StreamNode.Of"/>) on an image of
        /// <paramref name="pixels"/> pixels.</summary>
        public static StreamTiming Of(IReadOnlyList<StreamNode> nodes, int pixels) => StreamNode.IsChain(nodes)
            ? Of(nodes.Skip(1).Select(n => n.Window!).ToList())
            : new StreamTiming(-1, 0, pixels) { Padded = PaddedTiming.Of(nodes, pixels) };

        public static StreamTiming Of(IReadOnlyList<Window> stages)
        {
            if (stages.Any(s => !s.IsUnpadded))
                return new StreamTiming(-1, stages.Count - 1, stages[0].InH * stages[0].InW) { Padded = PaddedTiming.Of(stages) };
            int pos = -1;
            for (int s = stages.Count - 1; s >= 0; s--)
            {
                var g = stages[s];
                int oy = pos < 0 ? g.OutH - 1 : pos / g.OutW, ox = pos < 0 ? g.OutW - 1 : pos % g.OutW;
                pos = (g.KH - 1 + g.SH * oy) * g.InW + g.KW - 1 + g.SW * ox;
            }
            return new StreamTiming(pos, stages.Count - 1, stages[0].InH * stages[0].InW);
        }
    }

    private sealed partial class Emitter
    {
        /// <summary>A stream of pixels inside the design: the channels of the pixel that <see cref="Valid"/> takes.</summary>
        private readonly record struct PixelStream(Sig[] Pixel, Sig Valid);

        /// <summary>Stage <paramref name="k"/> (a convolution or pooling layer, padding 'valid', any stride) on the pixel
        /// stream <paramref name="input"/>: its column and row counters, KH-1 line buffers and a KH x KW window (shift
        /// registers advanced by every pixel taken), the layer's arithmetic on the window once, and its output pixel at
        /// every valid window position; registered (one clock later) unless <paramref name="registered"/> is false.
        /// <paramref name="lastPixel"/> is 1 in the clock that takes the input's last pixel.</summary>
        private PixelStream WindowStage(int k, PixelStream input, Sig rst, bool registered, out Sig lastPixel)
        {
            var node = _g.Nodes[k];
            var g = StageWindow(node.Op)!;
            if (!g.IsUnpadded) return PaddedStage(k, input, rst, registered, out lastPixel);
            string p = _prefixes[k];
            int h = g.InH, wd = g.InW;
            var valid = input.Valid;
            _net.BlankLine();
            _net.Comment($"{node.Name}: pixel position (column 0..{wd - 1}, row 0..{h - 1}) of its input, advanced by every pixel taken"
                         + (g.SH > 1 || g.SW > 1 ? $"; stride {g.SH}x{g.SW}: the phase of the column and row" : ""));
            var col = _net.State(p + "_col", new CounterCell(wd, valid.Id, rst.Id), 0, wd - 1, 0);
            var colLast = And(valid, Is(col, wd - 1));
            var row = _net.State(p + "_row", new CounterCell(h, colLast.Id, rst.Id), 0, h - 1, 0);
            var colIn = And(valid, AtLeast(col, g.KW - 1));
            var take = And(colIn, AtLeast(row, g.KH - 1));
            lastPixel = And(colLast, Is(row, h - 1));
            if (g.SW > 1)
            {
                var phase = _net.State(p + "_colph", new CounterCell(g.SW, colIn.Id, Or(rst, colLast).Id), 0, g.SW - 1, 0);
                take = And(take, Is(phase, 0));
            }
            if (g.SH > 1)
            {
                var rowIn = And(colLast, AtLeast(row, g.KH - 1));
                var phase = _net.State(p + "_rowph", new CounterCell(g.SH, rowIn.Id, Or(rst, lastPixel).Id), 0, g.SH - 1, 0);
                take = And(take, Is(phase, 0));
            }

            return StageArithmetic(k, StageTaps(k, input.Pixel, valid), take, rst, registered);
        }

        /// <summary>The KH-1 line buffers and KH x KW window of stage <paramref name="k"/> on <paramref name="pixel"/>
        /// (shift registers advanced where <paramref name="advance"/> is 1): tap ((ky·KW + kx)·C + c).</summary>
        private Sig[] StageTaps(int k, Sig[] pixel, Sig advance)
        {
            var node = _g.Nodes[k];
            var g = StageWindow(node.Op)!;
            string p = _prefixes[k];
            int wd = g.InW, ch = g.Channels;
            var valid = advance;
            // the window: tap (d, e) is the pixel d rows up and e columns left, d·W + e pixels taken before this one
            _net.BlankLine();
            _net.Comment($"{node.Name}: {g.KH - 1} line buffer{(g.KH == 2 ? "" : "s")} and a {g.KH}x{g.KW} window (shift registers advanced by every pixel taken)");
            var taps = new Sig[g.KH * g.KW * ch];
            for (int ci = 0; ci < ch; ci++)
            {
                var prev = pixel[ci];
                int prevDelay = 0;
                for (int d = 0; d < g.KH; d++)
                    for (int e = 0; e < g.KW; e++)
                    {
                        int delay = d * wd + e;
                        if (delay > prevDelay && !prev.IsConstant)
                        {
                            string name = $"{p}_win{ci.ToString(CultureInfo.InvariantCulture)}_{delay.ToString(CultureInfo.InvariantCulture)}";
                            prev = _net.State(name, new ShiftRegisterCell(prev.Id, delay - prevDelay, valid.Id), prev.Lo, prev.Hi, 0) with { Shift = prev.Shift };
                        }
                        prevDelay = delay;
                        taps[((g.KH - 1 - d) * g.KW + g.KW - 1 - e) * ch + ci] = prev;
                    }
            }
            return taps;
        }

        /// <summary>Stage <paramref name="k"/>'s arithmetic on its window <paramref name="taps"/> and its output pixel
        /// where <paramref name="take"/> is 1, registered unless <paramref name="registered"/> is false.</summary>
        private PixelStream StageArithmetic(int k, Sig[] taps, Sig take, Sig rst, bool registered)
        {
            var node = _g.Nodes[k];
            var g = StageWindow(node.Op)!;
            string p = _prefixes[k];
            _net.BlankLine();
            _net.Comment($"{node.Name}: {Describe(node)}; one window position per pixel");
            int end = 0;
            var y = node.Op switch
            {
                ConvOp c => ConvWindow(k, c, taps, ref end),
                DepthwiseConvOp d => DepthwiseWindow(k, d, taps, ref end),
                MaxPoolOp => MaxWindow(k, g, taps, ref end),
                AvgPoolOp a => AvgWindow(k, a, taps, ref end),
                _ => throw new HetQException($"layer '{node.Name}': --io stream has no streaming stage for {node.Op.Name}"),
            };
            Starts[k] = 0;
            Ends[k] = end;
            return HoldPixel(k, y, take, rst, registered);
        }

        private Sig[] ConvWindow(int k, ConvOp c, Sig[] taps, ref int end)
        {
            int f = c.Filters, shift = Alignment(k, c.AccType, c.WeightType);
            var y = new Sig[f];
            var bias = Enumerable.Range(0, f).Select(j => Bias(k, c.Bias, c.BiasType, c.AccType, j)).ToArray();
            if (_o.Sharing == Sharing.Cse)
                Matrix(k, taps, taps.Length, f, (r, j) => c.Weights[r * f + j], shift, bias, c.AccType.FractionalBits, c.Output, 0, y, 0, ref end);
            else
                for (int j = 0; j < f; j++)
                {
                    int jj = j;
                    var terms = Enumerable.Range(0, taps.Length).Select(r => new Term(taps[r], c.Weights[r * f + jj], shift));
                    y[j] = Neuron(k, terms, bias[j], c.AccType.FractionalBits, c.Output, j, 0, ref end);
                }
            return y;
        }

        private Sig[] DepthwiseWindow(int k, DepthwiseConvOp d, Sig[] taps, ref int end)
        {
            var g = d.Window;
            int ch = g.Channels, m = d.Multiplier, oc = ch * m, shift = Alignment(k, d.AccType, d.WeightType);
            var y = new Sig[oc];
            for (int ci = 0; ci < ch; ci++)
                for (int mi = 0; mi < m; mi++)
                {
                    int j = ci * m + mi, c0 = ci;
                    var terms = Enumerable.Range(0, g.KH * g.KW).Select(t => new Term(taps[t * ch + c0], d.Weights[t * oc + j], shift));
                    y[j] = Neuron(k, terms, Bias(k, d.Bias, d.BiasType, d.AccType, j), d.AccType.FractionalBits, d.Output, j, 0, ref end);
                }
            return y;
        }

        private Sig[] MaxWindow(int k, Window g, Sig[] taps, ref int end)
        {
            int ch = g.Channels;
            var y = new Sig[ch];
            for (int c = 0; c < ch; c++)
            {
                var window = Enumerable.Range(0, g.KH * g.KW).Select(t => taps[t * ch + c]).ToList();
                var (max, l) = Arithmetic.Tree(window, 0, (a, b, lv) => Arithmetic.Max(_net, _prefixes[k], a, b, lv).Max);
                end = Math.Max(end, l);
                y[c] = max;
            }
            return y;
        }

        private Sig[] AvgWindow(int k, AvgPoolOp a, Sig[] taps, ref int end)
        {
            int ch = a.Window.Channels, n = a.Window.KH * a.Window.KW;
            var y = new Sig[ch];
            for (int c = 0; c < ch; c++)
            {
                int c0 = c;
                var terms = Enumerable.Range(0, n).Select(t => new Term(taps[t * ch + c0], 1, 0));
                y[c] = Neuron(k, terms, 0, a.SumType.FractionalBits, a.Output, c, 0, ref end);
            }
            return y;
        }

        private Sig Or(Sig a, Sig b)
        {
            if (a.IsConstant) return a.Lo == 0 ? b : a;
            if (b.IsConstant) return b.Lo == 0 ? a : b;
            return _net.Wire("ctl", 'o', 0, 1, 0, new LogicCell(LogicKind.Or, a.Id, b.Id), 0);
        }
    }
}
