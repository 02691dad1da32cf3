using System.Globalization;
using HetQ.Graph;

namespace HetQ.Hardware;

public static partial class VerilogWriter
{
    /// <summary>How the inputs of an add meet in a streaming design: each of its input nodes <see cref="Nodes"/> (each
    /// once) puts its pixels into a FIFO of <see cref="Depths"/> pixels, and the sum is taken in the clock after every
    /// FIFO holds the same position (then each gives its oldest pixel). A depth is the most pixels of that input taken but
    /// not yet added with images back to back and no gaps in in_valid, the clock of the sum's pop included, plus a
    /// margin, the registered nodes of the stream: gaps slow the pixels an input waits for, and let it gain at most one pixel per register
    /// clock it has more than another input on its way from the image.</summary>
    internal sealed record AddBranches(int[] Nodes, int[] Depths)
    {
        /// <summary>The FIFOs from the clocks of each node's positions (<see cref="PaddedTiming.Clocks"/>), the
        /// initiation interval (images back to back) and the margin (the registered nodes of the stream).</summary>
        public static AddBranches Of(int[] inputs, int[][] clocks, int interval, int margin)
        {
            var nodes = inputs.Distinct().ToArray();
            int positions = clocks[nodes[0]].Length;
            var join = Enumerable.Range(0, positions).Select(p => nodes.Max(i => clocks[i][p])).ToArray();
            var depths = new int[nodes.Length];
            for (int n = 0; n < nodes.Length; n++)
            {
                var e = clocks[nodes[n]];
                int depth = 2;
                for (int p = 0; p < positions; p++)
                {
                    // pixels taken by the clock that pops position p: this image's, and the next images' (back to back)
                    int taken = 0;
                    for (int image = 0; ; image++)
                    {
                        int by = join[p] + 1 - image * interval;
                        if (by < e[0]) break;
                        taken += e.Count(x => x <= by);
                    }
                    depth = Math.Max(depth, taken - p);
                }
                depths[n] = depth + margin;
            }
            return new AddBranches(nodes, depths);
        }
    }

    private sealed partial class Emitter
    {
        /// <summary>Add <paramref name="k"/> in a stream: each input node's pixels wait in a FIFO (<see cref="Fifo"/>); in
        /// a clock where every FIFO holds a pixel the oldest ones are popped and summed, aligned and requantized as the
        /// emulator's add does, registered unless <paramref name="registered"/> is false. An add of one node with itself
        /// needs no FIFO.</summary>
        private PixelStream AddStage(int k, AddOp a, PixelStream[] streams, AddBranches align, Sig rst, bool registered)
        {
            var node = _g.Nodes[k];
            var ins = node.Inputs;
            var heads = new Dictionary<int, Sig[]>();
            Sig pop;
            int level = 0;
            if (align.Nodes.Length == 1)
            {
                pop = streams[align.Nodes[0]].Valid;
                heads[align.Nodes[0]] = streams[align.Nodes[0]].Pixel;
            }
            else
            {
                var fifos = new List<(Sig[] Head, Sig Ready, Sig ReadPointer, int Level)>();
                for (int n = 0; n < align.Nodes.Length; n++)
                {
                    int i = align.Nodes[n];
                    _net.BlankLine();
                    _net.Comment($"{node.Name}: the pixels of '{_g.Nodes[i].Name}' wait in a FIFO of {align.Depths[n]}");
                    fifos.Add(Fifo(k, n, streams[i], align.Depths[n], rst));
                }
                _net.BlankLine();
                _net.Comment($"{node.Name}: popped in a clock where every FIFO holds a pixel");
                pop = fifos.Select(f => f.Ready).Aggregate(And);
                foreach (var f in fifos) _net.ConnectEnable(f.ReadPointer, pop);
                for (int n = 0; n < align.Nodes.Length; n++) heads[align.Nodes[n]] = fifos[n].Head;
                level = fifos.Max(f => f.Level);
            }
            var shifts = ins.Select(i => a.SumType.FractionalBits - _g.Nodes[i].Output.Type.FractionalBits).ToArray();
            if (shifts.Any(s => s < 0)) throw new HetQException($"node '{node.Name}': the sum type {a.SumType} has fewer fractional bits than an input");
            _net.BlankLine();
            _net.Comment($"{node.Name}: {Describe(node)}; one pixel per pop");
            int end = level, channels = heads[ins[0]].Length;
            var y = new Sig[channels];
            for (int c = 0; c < channels; c++)
            {
                int c0 = c;
                var terms = Enumerable.Range(0, ins.Length).Select(n => new Term(heads[ins[n]][c0], 1, shifts[n]));
                y[c] = Neuron(k, terms, 0, a.SumType.FractionalBits, a.Output, c, level, ref end);
            }
            Starts[k] = 0;
            Ends[k] = end;
            return HoldPixel(k, y, pop, rst, registered);
        }

        /// <summary>Requantization (ReLU) <paramref name="k"/> in a stream: each channel of the pixel, registered unless
        /// <paramref name="registered"/> is false.</summary>
        private PixelStream RequantStage(int k, RequantOp r, PixelStream input, Sig rst, bool registered)
        {
            var node = _g.Nodes[k];
            int frac = _g.Nodes[node.Inputs[0]].Output.Type.FractionalBits;
            _net.BlankLine();
            _net.Comment($"{node.Name}: {Describe(node)}; one pixel per clock");
            var y = input.Pixel.Select((v, c) => Requantize(k, v, frac, r.Output, c, 0)).ToArray();
            Starts[k] = 0;
            Ends[k] = Arithmetic.RequantizationLevels;
            return HoldPixel(k, y, input.Valid, rst, registered);
        }

        /// <summary>A FIFO of <paramref name="depth"/> pixels on input <paramref name="n"/> of add <paramref name="k"/>: a
        /// write pointer advanced by every pixel of <paramref name="s"/>, slot i taking the pixel when the pointer is i, a
        /// read pointer (its enable, the pop, connected later), the oldest pixel read by a multiplexer tree on the read
        /// pointer's bits, and Ready (1 when the pointers differ: a pixel is held; the depth is never reached).</summary>
        private (Sig[] Head, Sig Ready, Sig ReadPointer, int Level) Fifo(int k, int n, PixelStream s, int depth, Sig rst)
        {
            string p = $"{_prefixes[k]}_q{n.ToString(CultureInfo.InvariantCulture)}";
            var wp = _net.State(p + "_wp", new CounterCell(depth, s.Valid.Id, rst.Id), 0, depth - 1, 0);
            var rp = _net.State(p + "_rp", new CounterCell(depth, -1, rst.Id), 0, depth - 1, 0);
            int width = _net[rp].Width;
            var ahead = _net.Wire("ctl", 'g', 0, 1, 0, new CompareCell(Operand.Wire(wp.Id, 0), Operand.Wire(rp.Id, 0), width, false), 0);
            var behind = _net.Wire("ctl", 'g', 0, 1, 0, new CompareCell(Operand.Wire(rp.Id, 0), Operand.Wire(wp.Id, 0), width, false), 0);
            var ready = Or(ahead, behind);
            var bits = Enumerable.Range(0, width).Select(b => _net.Alias(p + "_rp", 'b', 0, 1, new ResizeCell(rp.Id, -b), rp)).ToArray();
            var take = Enumerable.Range(0, depth).Select(i => And(s.Valid, Is(wp, i))).ToArray();
            var head = new Sig[s.Pixel.Length];
            int level = 1;
            for (int c = 0; c < head.Length; c++)
            {
                var x = s.Pixel[c];
                if (x.IsConstant) { head[c] = x; continue; }
                var slots = new Sig?[depth];
                for (int i = 0; i < depth; i++)
                    slots[i] = _net.State($"{p}_s{i.ToString(CultureInfo.InvariantCulture)}_{c.ToString(CultureInfo.InvariantCulture)}", new RegisterCell(x.Id, take[i].Id), x.Lo, x.Hi, 0) with { Shift = x.Shift };
                (head[c], int l) = Select(k, slots, 0, bits);
                level = Math.Max(level, l);
            }
            return (head, ready, rp, level);
        }

        /// <summary>The output pixel <paramref name="y"/> of node <paramref name="k"/>, taken where <paramref name="take"/>
        /// is 1: in registers (one clock later) when <paramref name="registered"/>, else as it is.</summary>
        private PixelStream HoldPixel(int k, Sig[] y, Sig take, Sig rst, bool registered)
        {
            if (!registered) return new PixelStream(y, take);
            var node = _g.Nodes[k];
            string p = _prefixes[k];
            _net.BlankLine();
            _net.Comment($"{node.Name}: its output pixel in registers, taken at every {(StageWindow(node.Op) is null ? "pixel" : "valid window position")} (one clock later)");
            var held = new Sig[y.Length];
            for (int j = 0; j < y.Length; j++)
                held[j] = y[j].IsConstant ? y[j]
                    : _net.State($"{p}_out{j.ToString(CultureInfo.InvariantCulture)}", new RegisterCell(y[j].Id, take.Id), y[j].Lo, y[j].Hi, 0) with { Shift = y[j].Shift };
            var heldValid = _net.State(p + "_valid", new RegisterCell(take.Id, -1, rst.Id), 0, 1, 0);
            return new PixelStream(held, heldValid);
        }
    }
}
