using System.Diagnostics;
using HetQ.Data;
using HetQ.Nn;

namespace HetQ.Bench;

internal static class BenchMain
{
    public static int Run(string[] args)
    {
        string what = args.Length > 0 ? args[0] : "train";
        int epochs = 3;
        for (int i = 0; i < args.Length - 1; i++) if (args[i] == "--epochs") epochs = int.Parse(args[i + 1]);
        switch (what)
        {
            case "profile":
                Profile.Run(new[] { 16, 64, 32, 32, 5 }, 512);
                Profile.Run(new[] { 784, 64, 32, 32, 10 }, 512, 100);
                return 0;
            case "train":
                var data = Workloads.Synthetic();
                TimeTraining("a", data, new[] { 16, 64, 32, 32, 5 }, epochs);
                return 0;
            default:
                Console.Error.WriteLine("usage: HetQ.Bench train [--epochs N]");
                return 2;
        }
    }

    public static double TimeTraining(string name, Dataset data, int[] widths, int epochs, int threads = 2)
    {
        var model = Workloads.Mlp(widths);
        using var trainer = new Trainer(model, new SoftmaxCrossEntropy(0), new Adam(1e-3), new TrainOptions(epochs + 1, 1024, Threads: threads));
        var times = new List<double>();
        trainer.OnEpoch = r =>
        {
            times.Add(r.Seconds);
            Console.Error.WriteLine($"  {name} epoch {r.Epoch}: {r.Seconds:F3} s loss {r.Loss:F4} acc {r.Accuracy:P2}");
        };
        trainer.Fit(data, null);
        var timed = times.Skip(1).Order().ToList();
        double median = timed[timed.Count / 2];
        Console.WriteLine($"{name}: {median:F3} s/epoch (median of {timed.Count}, after 1 warm-up)");
        return median;
    }
}
