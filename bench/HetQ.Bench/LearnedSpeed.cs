using System.Diagnostics;
using HetQ.Data;
using HetQ.Nn;
using HetQ.Training;

namespace HetQ.Bench;

/// <summary>Seconds per training epoch of a learned-width run (examples/fashion-mlp-learned.json) against plain QAT
/// (examples/fashion-mlp-qat6.json, uniform 6-bit) on the same data, epochs, batch size and threads: the two alternate
/// for <c>rounds</c> rounds in one process, each round one untimed warm-up epoch then <c>epochs</c> timed ones; medians
/// of the rounds' per-epoch medians, the ratio learned/QAT, the share of the EBOPs penalty in the learned epochs.
/// Initial weights come from each config's <c>initial_weights</c> when that directory exists (fresh weights otherwise,
/// for both); distillation applies when its teacher exists.</summary>
internal static class LearnedSpeed
{
    public sealed record Options(int Epochs, int Rounds, int Threads, string Learned, string Qat);

    public static int Run(Options o, string repoRoot)
    {
        string learnedFile = Path.Combine(repoRoot, o.Learned), qatFile = Path.Combine(repoRoot, o.Qat);
        var learned = Prepare(TrainConfig.Load(learnedFile), o);
        var qat = Prepare(TrainConfig.Load(qatFile), o);
        if (learned.Bitwidths is null) { Console.Error.WriteLine($"{learnedFile}: no bitwidths section"); return 2; }
        Console.WriteLine($"CPU: {FmaPeak.CpuModel()}, {Environment.ProcessorCount} cores, AVX2 {System.Runtime.Intrinsics.X86.Avx2.IsSupported}, "
            + $"AVX-512 {System.Runtime.Intrinsics.X86.Avx512F.IsSupported}; {o.Threads} threads, batch {learned.BatchSize} / {qat.BatchSize}; "
            + $"initial weights {(learned.InitialWeights is null ? "fresh" : learned.InitialWeights)}; distillation {(learned.Distillation is null ? "none" : learned.Distillation.Teacher)}; "
            + $"load average {FmaPeak.LoadAverage()}");
        var splits = DatasetLoader.Load(learned.Data, learned.BaseDirectory);
        var lt = new List<double>();
        var qt = new List<double>();
        var share = new List<double>();
        for (int round = 0; round < o.Rounds; round++)
        {
            var (l, p, lh) = Time(learned, splits);
            lt.Add(l);
            share.Add(p);
            var (q, _, qh) = Time(qat, splits);
            qt.Add(q);
            Console.WriteLine($"  round {round + 1}: learned {lt[^1]:F3} s/epoch (penalty {100 * p:F1} %), QAT {qt[^1]:F3} s/epoch, ratio {lt[^1] / qt[^1]:F2} "
                + $"(load {FmaPeak.LoadAverage()}); parameters after training: learned {lh:x16}, QAT {qh:x16}");
        }
        double ml = GemmBench.Median(lt), mq = GemmBench.Median(qt);
        Console.WriteLine($"Medians of {o.Rounds} alternating rounds of {o.Epochs} epochs: learned {ml:F3} s/epoch, QAT {mq:F3} s/epoch, "
            + $"learned/QAT {ml / mq:F2}; penalty {100 * GemmBench.Median(share):F1} % of the learned epochs; load average at the end {FmaPeak.LoadAverage()}");
        return 0;
    }

    private static TrainConfig Prepare(TrainConfig c, Options o) => c with
    {
        Epochs = o.Epochs + 1,
        Threads = o.Threads,
        EarlyStopping = null,
        InitialWeights = c.InitialWeights is { } iw && File.Exists(Path.Combine(iw, "model.json")) ? iw : null,
        Distillation = c.Distillation is { } d && File.Exists(Path.Combine(d.Teacher, "model.json")) ? d : null,
    };

    /// <summary>The median seconds of the timed epochs, the share of them the penalty took, and a hash of every parameter's
    /// bits after training (equal in every round: the runs are deterministic; equal across commits that keep the values).</summary>
    private static (double Seconds, double PenaltyShare, ulong Hash) Time(TrainConfig cfg, DataSplits splits)
    {
        var model = cfg.BuildModel(splits.Train.SampleShape);
        var options = new TrainOptions(cfg.Epochs, cfg.BatchSize, cfg.Seed, cfg.Threads, cfg.ClipNorm, cfg.ClipValue, cfg.Schedule);
        var loss = Loss.Create(cfg.LossSpec);
        var train = splits.Train;
        if (cfg.Distillation is { } distill)
        {
            // As TrainJob does: the teacher's soft targets mixed into the labels.
            int k = HetQ.Numerics.Tensor.Size(model.OutputShape);
            train = train.WithTargets(distill.SoftTargets(train, k, cfg.Source), k, train.Weights);
            loss = new SoftmaxCrossEntropy(((SoftmaxCrossEntropy)loss).LabelSmoothing, distill.Weight);
        }
        using var trainer = new Trainer(model, loss, Optimizer.Create(cfg.OptimizerSpec), options);
        var penalty = cfg.Bitwidths is { } bw ? new TimedPenalty(new EbopsPenalty(model, bw)) : null;
        trainer.Penalty = penalty;
        var times = new List<double>();
        double penaltySeconds = 0;
        trainer.OnEpoch = r =>
        {
            times.Add(r.Seconds);
            if (r.Epoch == 1 && penalty is not null) penaltySeconds = -penalty.Seconds;
        };
        trainer.Fit(train, splits.Validation);
        var timed = times.Skip(1).ToList();
        double share = penalty is null ? 0 : (penaltySeconds + penalty.Seconds) / timed.Sum();
        return (GemmBench.Median(timed), share, Hash(model));
    }

    /// <summary>FNV-1a over the bits of every parameter value, in the model's order.</summary>
    private static ulong Hash(Model model)
    {
        ulong h = 14695981039346656037;
        foreach (var p in model.Parameters)
            foreach (float v in p.Value)
            {
                h ^= BitConverter.SingleToUInt32Bits(v);
                h *= 1099511628211;
            }
        return h;
    }

    /// <summary>A penalty with a stopwatch around its work.</summary>
    private sealed class TimedPenalty(ITrainingPenalty inner) : ITrainingPenalty
    {
        private readonly Stopwatch _sw = new();
        public double Seconds => _sw.Elapsed.TotalSeconds;

        public void BeginBatch(int epoch, int epochs, int batch, int batches)
        {
            _sw.Start();
            inner.BeginBatch(epoch, epochs, batch, batches);
            _sw.Stop();
        }

        public double AddGradient()
        {
            _sw.Start();
            double p = inner.AddGradient();
            _sw.Stop();
            return p;
        }
    }
}
