using System.Diagnostics;
using HetQ.Nn;

namespace HetQ.Bench;

/// <summary>Per-phase timing of one worker's forward/backward on a batch share, to find where time goes.</summary>
internal static class Profile
{
    public static void Run(int[] widths, int rows, int reps = 500)
    {
        var model = Workloads.Mlp(widths);
        var x = new Tensor(new[] { rows, widths[0] });
        var rng = new Random(1);
        for (int i = 0; i < x.Length; i++) x.Data[i] = (float)rng.NextDouble();
        var labels = new int[rows];
        var ctx = new ForwardContext { Training = true };
        var loss = new SoftmaxCrossEntropy(0);
        var grad = new float[rows * widths[^1]];
        var opt = new Adam(1e-3);
        var ps = model.Parameters;
        var sw = new Stopwatch();
        double tf = 0, tl = 0, tb = 0, to = 0;
        for (int r = 0; r < reps; r++)
        {
            sw.Restart();
            var y = model.Forward(x, ctx);
            tf += sw.Elapsed.TotalMilliseconds;
            sw.Restart();
            loss.Compute(y, labels, grad, 1f / rows);
            tl += sw.Elapsed.TotalMilliseconds;
            sw.Restart();
            foreach (var p in ps) Array.Clear(p.Grad);
            model.Backward(new Tensor(y.Shape, grad));
            tb += sw.Elapsed.TotalMilliseconds;
            sw.Restart();
            opt.Step(ps);
            to += sw.Elapsed.TotalMilliseconds;
        }
        Console.WriteLine($"widths {string.Join("-", widths)} rows {rows}: forward {tf / reps:F3} ms, loss {tl / reps:F3} ms, backward {tb / reps:F3} ms, step {to / reps:F3} ms");
    }
}
