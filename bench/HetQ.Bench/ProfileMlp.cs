using System.Runtime.InteropServices;
using HetQ.Data;
using HetQ.Nn;

namespace HetQ.Bench;

/// <summary>Where one worker's share of an MLP training batch spends its time, phase by phase and layer by layer, by this
/// thread's CPU time (CLOCK_THREAD_CPUTIME_ID: time other jobs held the core is left out, so it holds on a shared machine).
/// The phases are the trainer's: gather, weight fake quantization, forward (GEMM + bias + activation, then the output
/// quantizer), loss, backward, the straight-through estimators of the weights, and the Adam step.</summary>
internal static class ProfileMlp
{
    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec { public long Sec, Nsec; }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGettime(int clock, out TimeSpec t);

    /// <summary>This thread's CPU seconds.</summary>
    public static double ThreadSeconds()
    {
        ClockGettime(3, out var t);
        return t.Sec + t.Nsec * 1e-9;
    }

    public static void Run(string name, int[] widths, bool qat, Dataset data, int rows, int reps)
    {
        var model = Workloads.Mlp(widths, qat);
        var nodes = model.Nodes;
        int L = nodes.Count;
        var fwd = new double[L];
        var fq = new double[L];
        var bwd = new double[L];
        var bq = new double[L];
        double tGather = 0, tRefresh = 0, tLoss = 0, tSte = 0, tOpt = 0, tClear = 0;
        var ctx = new ForwardContext { Training = true, Rng = new Random(1) };
        var loss = new SoftmaxCrossEntropy(0);
        var opt = new Adam(1e-3);
        var ps = model.Parameters;
        var rng = new Random(3);
        var x = new HetQ.Numerics.Tensor(new[] { rows, widths[0] });
        var labels = new int[rows];
        var grad = new float[rows * widths[^1]];
        var outs = new HetQ.Numerics.Tensor[L];
        var pre = new HetQ.Numerics.Tensor[L];
        var picks = new int[rows];
        var gq = new HetQ.Numerics.Tensor[L];
        for (int r = 0; r < reps + 5; r++)
        {
            bool keep = r >= 5;
            for (int i = 0; i < rows; i++) picks[i] = rng.Next(data.Count);
            double t = ThreadSeconds(), t1;
            Trainer.GatherRows(data, picks, x.Data, labels);
            t1 = ThreadSeconds(); if (keep) tGather += t1 - t; t = t1;
            foreach (var p in ps) if (p.Trainable) Array.Clear(p.Grad);
            t1 = ThreadSeconds(); if (keep) tClear += t1 - t; t = t1;
            foreach (var p in ps) p.Refresh(true, ctx.Rng);
            t1 = ThreadSeconds(); if (keep) tRefresh += t1 - t; t = t1;
            var h = x;
            for (int i = 0; i < L; i++)
            {
                var y = nodes[i].Layer.Forward(new[] { h }, ctx);
                t1 = ThreadSeconds(); if (keep) fwd[i] += t1 - t; t = t1;
                pre[i] = y;
                if (nodes[i].Layer.OutputQuantizer is { } oq)
                {
                    outs[i] ??= new HetQ.Numerics.Tensor(y.Shape);
                    oq.Forward(y.Data, outs[i].Data, y.Shape[^1], true, ctx.Rng);
                    y = outs[i];
                    t1 = ThreadSeconds(); if (keep) fq[i] += t1 - t; t = t1;
                }
                h = y;
            }
            loss.Compute(h, labels, grad, 1f / rows);
            t1 = ThreadSeconds(); if (keep) tLoss += t1 - t; t = t1;
            var g = new HetQ.Numerics.Tensor(h.Shape, grad);
            for (int i = L - 1; i >= 0; i--)
            {
                if (nodes[i].Layer.OutputQuantizer is { } oq)
                {
                    gq[i] ??= new HetQ.Numerics.Tensor(g.Shape);
                    oq.Backward(pre[i].Data, g.Data, gq[i].Data);
                    g = gq[i];
                    t1 = ThreadSeconds(); if (keep) bq[i] += t1 - t; t = t1;
                }
                var gi = nodes[i].Layer.Backward(g)[0];
                t1 = ThreadSeconds(); if (keep) bwd[i] += t1 - t; t = t1;
                if (gi is null) break;
                g = gi;
            }
            foreach (var p in ps) p.BackwardQuantizer();
            t1 = ThreadSeconds(); if (keep) tSte += t1 - t; t = t1;
            opt.Step(ps);
            t1 = ThreadSeconds(); if (keep) tOpt += t1 - t;
        }
        double us = 1e6 / reps;
        double total = (tGather + tClear + tRefresh + tLoss + tSte + tOpt + fwd.Sum() + fq.Sum() + bwd.Sum() + bq.Sum()) * us;
        double flops = CnnWorkloads.TrainFlopsPerSample(model) * rows;
        Console.WriteLine($"{name} {(qat ? "6-bit QAT" : "float")}, {rows} rows, 1 thread, CPU time per batch share: {total:F1} us, "
            + $"{flops / (total * 1e-6) / 1e9:F1} GFLOP/s overall (load {FmaPeak.LoadAverage()})");
        Console.WriteLine($"  gather {tGather * us:F1}  clear grads {tClear * us:F1}  weight fake-quant {tRefresh * us:F1}  loss {tLoss * us:F1}  weight STE {tSte * us:F1}  Adam {tOpt * us:F1} us");
        for (int i = 0; i < L; i++)
        {
            var d = (HetQ.Nn.Layers.Dense)nodes[i].Layer;
            int inF = i == 0 ? widths[0] : widths[i];
            double fl = 2.0 * rows * inF * d.Units;
            Console.WriteLine($"  dense {inF}->{d.Units}: forward {fwd[i] * us,7:F1} us ({fl / (fwd[i] * us * 1e-6) / 1e9,5:F1} GFLOP/s)  act-quant fwd {fq[i] * us,6:F1}"
                + $"  act-quant bwd {bq[i] * us,6:F1}  backward {bwd[i] * us,7:F1} us ({fl * (i == 0 ? 1 : 2) / (bwd[i] * us * 1e-6) / 1e9,5:F1} GFLOP/s)");
        }
    }
}
