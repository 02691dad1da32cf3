using System.Globalization;
using HetQ.Graph;

namespace HetQ.Hardware;

public static partial class VerilogWriter
{
    private sealed partial class Emitter
    {
        /// <summary>Clock cycles the folded tail adds to a streaming design: one to copy the feature map, then one period
        /// (the largest factor) per folded layer.</summary>
        private static int FoldedTailCycles(int[] reuse) => 1 + reuse.Count(r => r > 1) * reuse.Max();

        /// <summary>The dense layers after flatten (node <paramref name="k"/>) of a streaming design, folded by
        /// <paramref name="reuse"/>: in the clock <paramref name="go"/> is 1 the feature map registers are complete; they
        /// are copied into a second set of registers (so the next image may overwrite them), and a phase counter runs
        /// one period of P (the largest factor) clocks per folded layer, each layer's outputs taken into registers at its
        /// period's end (the folded design's layers, <see cref="FoldedDense"/>). Every folded layer recomputes its
        /// period from held registers, so after F periods all are complete; out_valid (returned) is 1 the clock after.
        /// F·P clocks must fit in the image's <paramref name="pixels"/> clocks (the stream never waits), else an error.</summary>
        internal Sig FoldedStreamTail(int k, Sig go, Sig rst, int[] reuse, int pixels)
        {
            var nodes = _g.Nodes;
            int period = reuse.Max(), folds = reuse.Count(r => r > 1);
            if ((long)folds * period > pixels)
                throw new HetQException($"--reuse with --io stream: layer '{nodes[Array.FindLastIndex(reuse, r => r > 1)].Name}': the folded layers after flatten take {folds} x {period} = {folds * period} clock cycles per image, more than the image's {pixels} pixels (its initiation interval); use a smaller reuse factor");
            _net.BlankLine();
            _net.Comment($"{nodes[k].Name}: the feature map copied into a second set of registers the clock after it is complete, held while the folded layers work on it");
            _values[k] = Hold(k, _values[k], go, "bk");
            _net.BlankLine();
            _net.Comment($"the folded layers' phase 0..{period - 1}: it runs while ctl_run is 1, {folds} period{(folds == 1 ? "" : "s")} from the clock after the copy");
            var run = _net.State("ctl_run", new RegisterCell(-1, -1, rst.Id), 0, 1, 0);
            var phase = _net.State("ctl_phase", new CounterCell(period, run.Id, rst.Id), 0, period - 1, 0);
            var end = Is(phase, period - 1);
            var first = Is(phase, 0);
            _phaseBits = Enumerable.Range(0, _net[phase].Width)
                .Select(b => _net.Alias("ctl_phase", 'b', 0, 1, new ResizeCell(phase.Id, -b), phase)).ToArray();
            var last = end;
            if (folds > 1)
            {
                var fold = _net.State("ctl_fold", new CounterCell(folds, And(run, end).Id, rst.Id), 0, folds - 1, 0);
                last = And(end, Is(fold, folds - 1));
            }
            var finish = And(run, last);
            var notFinish = _net.Wire("ctl", 'n', 0, 1, 0, new LogicCell(LogicKind.Not, finish.Id), 0);
            var keep = And(run, notFinish);
            _net.Connect(run, _net.Wire("ctl", 'o', 0, 1, 0, new LogicCell(LogicKind.Or, go.Id, keep.Id), 0));

            for (int i = k + 1; i < nodes.Count; i++)
            {
                var node = nodes[i];
                int start = Ends[i - 1];
                Starts[i] = start;
                _net.BlankLine();
                _net.Comment($"{node.Name}: {Describe(node)}{(reuse[i] > 1 ? $"; folded: reuse factor {reuse[i]}" : "")}");
                if (reuse[i] > 1 && node.Op is DenseOp d)
                {
                    var y = FoldedDense(i, d, reuse[i], phase, first, period, start, out _);
                    _net.Comment($"{node.Name}: its outputs, taken at the end of the period");
                    _values[i] = Hold(i, y, end, "yr");
                    Ends[i] = 0; // what follows reads registers
                }
                else (_values[i], Ends[i]) = node.Op.Accept(new OpEmitter(this, i, start));
            }
            _net.BlankLine();
            _net.Comment("out_valid: the clock after the last folded layer's period");
            return _net.State("ctl_out_valid", new RegisterCell(finish.Id, -1, rst.Id), 0, 1, 0);
        }
    }
}
