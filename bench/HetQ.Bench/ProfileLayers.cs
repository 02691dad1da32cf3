using HetQ.Nn;

namespace HetQ.Bench;

/// <summary>Per-layer forward and backward milliseconds of one training batch (single thread), to find where time goes; by CPU time
/// of this process, which leaves out the time other jobs held the core on a shared machine.</summary>
internal static class ProfileLayers
{
    public static void Run(string name, Model model, int rows, int reps)
    {
        var shape = new int[model.InputShape.Length + 1];
        shape[0] = rows;
        model.InputShape.CopyTo(shape, 1);
        var x = new Tensor(shape);
        var rng = new Random(1);
        for (int i = 0; i < x.Length; i++) x.Data[i] = (float)rng.NextDouble();
        var ctx = new ForwardContext { Training = true };
        int count = model.Nodes.Count;
        var fwd = new double[count];
        var bwd = new double[count];
        var outs = new Tensor[count];
        for (int r = 0; r < reps + 1; r++)
        {
            Tensor h = x;
            for (int i = 0; i < count; i++)
            {
                double t0 = FmaPeak.CpuSeconds();
                h = model.Nodes[i].Layer.Forward(new[] { h }, ctx);
                if (r > 0) fwd[i] += (FmaPeak.CpuSeconds() - t0) * 1e3;
                outs[i] = h;
            }
            var g = new Tensor(h.Shape);
            for (int i = 0; i < g.Length; i++) g.Data[i] = 1e-3f * (i % 7 - 3);
            for (int i = count - 1; i >= 0; i--)
            {
                double t0 = FmaPeak.CpuSeconds();
                var gi = model.Nodes[i].Layer.Backward(g);
                if (r > 0) bwd[i] += (FmaPeak.CpuSeconds() - t0) * 1e3;
                g = gi[0];
                if (g is null) break;
            }
        }
        double flops = CnnWorkloads.TrainFlopsPerSample(model) * rows;
        double total = fwd.Sum() + bwd.Sum();
        Console.WriteLine($"{name}, batch {rows}, 1 thread, CPU time: {total / reps:F2} ms/batch, {flops / (total / reps * 1e-3) / 1e9:F1} GFLOP/s");
        for (int i = 0; i < count; i++)
            Console.WriteLine($"  {model.Nodes[i].Layer,-40} forward {fwd[i] / reps,8:F3} ms  backward {bwd[i] / reps,8:F3} ms");
    }
}
