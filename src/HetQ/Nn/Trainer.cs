using System.Diagnostics;
using HetQ.Data;
using HetQ.Numerics;

namespace HetQ.Nn;

/// <summary>Stop when the monitored validation metric ("val_accuracy" or "val_loss") has not improved by
/// <see cref="MinDelta"/> for <see cref="Patience"/> epochs; optionally restore the best weights.</summary>
public sealed record EarlyStopping(string Monitor = "val_accuracy", int Patience = 5, double MinDelta = 0, bool RestoreBest = true);

/// <summary>How to train: epochs, batch size, seed, worker threads (0: one per core), clipping, schedule, early stopping.</summary>
public sealed record TrainOptions(int Epochs, int BatchSize, int Seed = 42, int Threads = 0, double? ClipNorm = null,
    double? ClipValue = null, Schedule? Schedule = null, EarlyStopping? EarlyStopping = null);

/// <summary>Metrics of one epoch.</summary>
public sealed record EpochResult(int Epoch, int Epochs, double Loss, double Accuracy, double? ValLoss, double? ValAccuracy,
    double Seconds, double LearningRate, bool Improved);

/// <summary>What a training run did.</summary>
public sealed record TrainHistory(IReadOnlyList<EpochResult> Epochs, int BestEpoch, bool StoppedEarly, double Seconds);

/// <summary>Mini-batch training with data-parallel worker threads (any number; by default one per core): each worker runs
/// forward and backward on its share of every batch on a replica with shared weights, the gradients are summed in worker
/// order (so a seed and a thread count give an identical run), then one optimizer step. Batch-norm statistics are per
/// worker share.</summary>
public sealed class Trainer : IDisposable
{
    private readonly Model _model;
    private readonly Loss _loss;
    private readonly Optimizer _optimizer;
    private readonly TrainOptions _o;
    private readonly Model[] _replicas;
    private readonly Worker[] _workers;
    private readonly IReadOnlyList<Parameter>[] _params;
    private readonly Thread[] _threads;
    // Spin briefly, then block: a batch takes well under a millisecond, so a wake-up through the kernel would cost a noticeable share.
    private readonly ManualResetEventSlim[] _start;
    private readonly CountdownEvent _done;
    private volatile bool _stopping;
    private Action<int>? _job;
    private readonly Exception?[] _workerErrors;

    public Action<EpochResult>? OnEpoch { get; set; }

    /// <summary>Called after every batch with the epoch, the batches done in it and the batches per epoch (progress).</summary>
    public Action<int, int, int>? OnBatch { get; set; }

    /// <summary>An extra loss term with its own gradient (learned bit widths); null for none.</summary>
    public ITrainingPenalty? Penalty { get; set; }

    /// <summary>Called with the epoch number after an epoch that improved the monitored metric (checkpoints).</summary>
    public Action<int>? OnImproved { get; set; }

    public Trainer(Model model, Loss loss, Optimizer optimizer, TrainOptions options)
    {
        if (options.BatchSize <= 0) throw new HetQException($"batch_size must be positive, given {options.BatchSize}");
        if (options.Epochs <= 0) throw new HetQException($"epochs must be positive, given {options.Epochs}");
        _model = model;
        _loss = loss;
        _optimizer = optimizer;
        _o = options;
        if (options.Threads < 0) throw new HetQException($"threads must be positive (or 0 for one per core), given {options.Threads}");
        int threads = options.Threads == 0 ? Environment.ProcessorCount : options.Threads;
        _replicas = new Model[threads];
        _replicas[0] = model;
        for (int i = 1; i < threads; i++) _replicas[i] = model.CloneForWorker();
        _params = _replicas.Select(r => r.Parameters).ToArray();
        _workers = _replicas.Select(r => new Worker(r)).ToArray();
        _workerErrors = new Exception?[threads];
        _start = Enumerable.Range(0, threads).Select(_ => new ManualResetEventSlim(false, 2000)).ToArray();
        _done = new CountdownEvent(1);
        _threads = Enumerable.Range(1, threads - 1).Select(w => new Thread(() => WorkerLoop(w)) { IsBackground = true, Name = $"hetq-trainer-{w}" }).ToArray();
        foreach (var t in _threads) t.Start();
    }

    /// <summary>The number of data-parallel workers (threads) this trainer runs.</summary>
    public int Threads => _workers.Length;

    private sealed class Worker(Model model)
    {
        public Model Model { get; } = model;
        public Tensor? Input;
        public int[] Labels = Array.Empty<int>();
        public float[] Targets = Array.Empty<float>(), Weights = Array.Empty<float>();
        public float[] Grad = Array.Empty<float>();
        public double LossSum;
        public int Correct;

        public Tensor InputFor(int rows)
        {
            var shape = new int[Model.InputShape.Length + 1];
            shape[0] = rows;
            Model.InputShape.CopyTo(shape, 1);
            if (Input is null || Input.Shape[0] != rows) Input = new Tensor(shape);
            if (Labels.Length != rows) Labels = new int[rows];
            return Input;
        }
    }

    private void WorkerLoop(int w)
    {
        while (true)
        {
            _start[w].Wait();
            _start[w].Reset();
            if (_stopping) return;
            try
            {
                _job!(w);
            }
            catch (Exception e)
            {
                _workerErrors[w] = e;
            }
            _done.Signal();
        }
    }

    /// <summary>Runs job(w) for every worker w in parallel and waits for all.</summary>
    private void RunOnWorkers(Action<int> job)
    {
        if (_threads.Length == 0)
        {
            job(0);
            return;
        }
        _job = job;
        Array.Clear(_workerErrors);
        _done.Reset(_threads.Length);
        for (int w = 1; w < _start.Length; w++) _start[w].Set();
        try
        {
            job(0);
        }
        finally
        {
            _done.Wait();
        }
        if (_workerErrors.FirstOrDefault(e => e is not null) is { } error) throw new InvalidOperationException("worker thread failed", error);
    }

    private static (int Lo, int Hi) Share(int n, int w, int workers)
    {
        int per = (n + workers - 1) / workers;
        return (Math.Min(n, w * per), Math.Min(n, (w + 1) * per));
    }

    public TrainHistory Fit(Dataset train, Dataset? validation, CancellationToken cancel = default)
    {
        if (train.Count == 0) throw new HetQException($"{train.Name}: the training set is empty");
        var total = Stopwatch.StartNew();
        var schedule = _o.Schedule ?? Schedule.Constant;
        var baseLr = _optimizer.LearningRate;
        var history = new List<EpochResult>();
        var es = validation is not null && validation.Count > 0 ? _o.EarlyStopping : null;
        bool maximize = es?.Monitor != "val_loss";
        double best = maximize ? double.NegativeInfinity : double.PositiveInfinity;
        int bestEpoch = 0, sinceBest = 0;
        float[][]? bestWeights = null;
        bool stoppedEarly = false;
        var order = Enumerable.Range(0, train.Count).ToArray();
        int batches = (train.Count + _o.BatchSize - 1) / _o.BatchSize;
        for (int epoch = 1; epoch <= _o.Epochs; epoch++)
        {
            cancel.ThrowIfCancellationRequested();
            var sw = Stopwatch.StartNew();
            Shuffle(order, new Random(Seeds.Derive(_o.Seed, epoch)));
            double lossSum = 0;
            long correct = 0;
            for (int b = 0; b < batches; b++)
            {
                _optimizer.LearningRate = schedule.Rate(baseLr, epoch - 1 + (double)b / batches, _o.Epochs);
                int lo = b * _o.BatchSize, hi = Math.Min(train.Count, lo + _o.BatchSize);
                Penalty?.BeginBatch(epoch, _o.Epochs, b, batches);
                var (l, c) = TrainBatch(train, order.AsSpan(lo, hi - lo), epoch, b);
                if (!double.IsFinite(l))
                    throw new HetQException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                        $"training diverged: the loss is {l} at epoch {epoch}, batch {b + 1} of {batches} (learning rate {_optimizer.LearningRate:G3}); lower the learning rate, set clip_norm, or check the optimizer's beta and epsilon"));
                lossSum += l;
                correct += c;
                OnBatch?.Invoke(epoch, b + 1, batches);
            }
            double trainLoss = lossSum / train.Count, trainAcc = (double)correct / train.Count;
            double? valLoss = null, valAcc = null;
            if (validation is not null && validation.Count > 0)
            {
                var (vl, va) = Evaluate(validation);
                valLoss = vl;
                valAcc = va;
            }
            bool improved = false;
            double monitored = es?.Monitor == "val_loss" ? valLoss ?? trainLoss : valAcc ?? trainAcc;
            if (maximize ? monitored > best + (es?.MinDelta ?? 0) : monitored < best - (es?.MinDelta ?? 0))
            {
                best = monitored;
                bestEpoch = epoch;
                sinceBest = 0;
                improved = true;
                if (es?.RestoreBest == true) bestWeights = _model.Parameters.Select(p => (float[])p.Value.Clone()).ToArray();
            }
            else sinceBest++;
            var result = new EpochResult(epoch, _o.Epochs, trainLoss, trainAcc, valLoss, valAcc, sw.Elapsed.TotalSeconds, _optimizer.LearningRate, improved);
            history.Add(result);
            OnEpoch?.Invoke(result);
            if (improved) OnImproved?.Invoke(epoch);
            if (es is not null && sinceBest >= es.Patience)
            {
                stoppedEarly = true;
                break;
            }
        }
        if (bestWeights is not null && bestEpoch != history.Count)
        {
            var ps = _model.Parameters;
            for (int i = 0; i < ps.Count; i++) bestWeights[i].CopyTo(ps[i].Value, 0);
        }
        _optimizer.LearningRate = baseLr;
        return new TrainHistory(history, bestEpoch, stoppedEarly, total.Elapsed.TotalSeconds);
    }

    private (double Loss, int Correct) TrainBatch(Dataset data, ReadOnlySpan<int> rows, int epoch, int batch)
    {
        int n = rows.Length, workers = _workers.Length;
        int[] idx = rows.ToArray();
        float scale = 1f / n;
        RunOnWorkers(w =>
        {
            var wk = _workers[w];
            foreach (var p in _params[w]) if (p.Trainable) Array.Clear(p.Grad);
            var (lo, hi) = Share(n, w, workers);
            wk.LossSum = 0;
            wk.Correct = 0;
            if (hi <= lo) return;
            var x = Gather(wk, data, idx.AsSpan(lo, hi - lo));
            var ctx = new ForwardContext { Training = true, Rng = new Random(Seeds.Derive(_o.Seed, epoch, batch, w)) };
            var y = wk.Model.Forward(x, ctx);
            if (wk.Grad.Length != y.Length) wk.Grad = new float[y.Length];
            wk.LossSum = _loss.Compute(y, new LossBatch(wk.Labels, wk.Targets, wk.Weights), wk.Grad, scale);
            wk.Correct = Metrics.CountCorrect(y, wk.Labels, OutputsAreLogits);
            wk.Model.Backward(new Tensor(y.Shape, wk.Grad));
        });
        var main = _params[0];
        for (int w = 1; w < workers; w++)
        {
            var other = _params[w];
            for (int i = 0; i < main.Count; i++)
                if (main[i].Trainable) System.Numerics.Tensors.TensorPrimitives.Add(main[i].Grad, other[i].Grad, main[i].Grad);
        }
        double penalty = Penalty?.AddGradient() ?? 0;
        foreach (var p in main)
            if (p.Trainable && p.Regularizer is { } reg)
            {
                penalty += reg.Penalty(p.Value);
                reg.AddGradient(p.Value, p.Grad);
            }
        Clip(main);
        _optimizer.Step(main);
        for (int i = 0; i < _model.Nodes.Count; i++)
            _model.Nodes[i].Layer.CommitState(_replicas.Select(r => r.Nodes[i].Layer).ToList());
        double loss = 0;
        int correct = 0;
        foreach (var wk in _workers)
        {
            loss += wk.LossSum;
            correct += wk.Correct;
        }
        return (loss + penalty * n, correct);
    }

    private void Clip(IReadOnlyList<Parameter> ps)
    {
        if (_o.ClipValue is { } cv)
            foreach (var p in ps)
                if (p.Trainable) System.Numerics.Tensors.TensorPrimitives.Clamp(p.Grad, (float)-cv, (float)cv, p.Grad);
        if (_o.ClipNorm is { } cn)
        {
            double sq = 0;
            foreach (var p in ps)
                if (p.Trainable) sq += System.Numerics.Tensors.TensorPrimitives.SumOfSquares<float>(p.Grad);
            double norm = Math.Sqrt(sq);
            if (norm > cn)
            {
                float f = (float)(cn / norm);
                foreach (var p in ps)
                    if (p.Trainable) System.Numerics.Tensors.TensorPrimitives.Multiply(p.Grad, f, p.Grad);
            }
        }
    }

    /// <summary>Rows fetched ahead of the copy (about 4 KB of them, 1 to 8 rows): shuffled rows are scattered over the data
    /// set, so each would otherwise wait for memory in turn; more outstanding lines than the core can track would be dropped.</summary>
    private static int PrefetchAhead(int rowFloats) => Math.Clamp(1024 / Math.Max(1, rowFloats), 1, 8);

    private static Tensor Gather(Worker wk, Dataset data, ReadOnlySpan<int> rows)
    {
        var x = wk.InputFor(rows.Length);
        GatherRows(data, rows, x.Data, wk.Labels);
        GatherTargets(wk, data, rows);
        return x;
    }

    /// <summary>The rows' features into x (row after row) and their labels into labels.</summary>
    internal static unsafe void GatherRows(Dataset data, ReadOnlySpan<int> rows, Span<float> x, Span<int> labels)
    {
        int s = data.SampleSize, ahead = PrefetchAhead(s);
        fixed (float* f = data.Features)
        {
            for (int i = 0; i < Math.Min(ahead, rows.Length); i++) Prefetch(f + (long)rows[i] * s, s);
            for (int i = 0; i < rows.Length; i++)
            {
                if (i + ahead < rows.Length) Prefetch(f + (long)rows[i + ahead] * s, s);
                data.Features.AsSpan(rows[i] * s, s).CopyTo(x.Slice(i * s, s));
                labels[i] = data.Labels[rows[i]];
            }
        }
    }

    /// <summary>Asks for the cache lines of one row (a hint only: no effect on any value).</summary>
    private static unsafe void Prefetch(float* row, int floats)
    {
        if (!System.Runtime.Intrinsics.X86.Sse.IsSupported) return;
        byte* p = (byte*)row, end = (byte*)(row + floats);
        for (; p < end; p += 64) System.Runtime.Intrinsics.X86.Sse.Prefetch0(p);
        System.Runtime.Intrinsics.X86.Sse.Prefetch0(end - 1);
    }

    /// <summary>The rows' real-valued targets and weights into the worker's buffers (empty when the set has none).</summary>
    private static void GatherTargets(Worker wk, Dataset data, ReadOnlySpan<int> rows)
    {
        int ts = data.TargetSize, n = rows.Length;
        if (data.Targets is null) wk.Targets = Array.Empty<float>();
        else
        {
            if (wk.Targets.Length != n * ts) wk.Targets = new float[n * ts];
            for (int i = 0; i < n; i++) data.Targets.AsSpan(rows[i] * ts, ts).CopyTo(wk.Targets.AsSpan(i * ts, ts));
        }
        if (data.Weights is null) wk.Weights = Array.Empty<float>();
        else
        {
            if (wk.Weights.Length != n) wk.Weights = new float[n];
            for (int i = 0; i < n; i++) wk.Weights[i] = data.Weights[rows[i]];
        }
    }

    /// <summary>A one-output model trained with binary cross-entropy on logits is scored by logit &gt; 0.</summary>
    private bool OutputsAreLogits => _loss is BinaryCrossEntropy { FromLogits: true };

    /// <summary>Mean loss and accuracy in inference mode.</summary>
    public (double Loss, double Accuracy) Evaluate(Dataset data)
    {
        var outputs = Predict(data);
        int k = Tensor.Size(_model.OutputShape);
        var t = new Tensor(new[] { data.Count, k }, outputs);
        var grad = new float[outputs.Length];
        double loss = _loss.Compute(t, new LossBatch(data.Labels, data.Targets, data.Weights), grad, 0f);
        return (loss / Math.Max(1, data.Count), (double)Metrics.CountCorrect(t, data.Labels, OutputsAreLogits) / Math.Max(1, data.Count));
    }

    /// <summary>Model outputs for every sample, in inference mode, [count × outputs] row-major.</summary>
    public float[] Predict(Dataset data, int batchSize = 1024)
    {
        int k = Tensor.Size(_model.OutputShape), workers = _workers.Length;
        var result = new float[data.Count * k];
        var all = Enumerable.Range(0, data.Count).ToArray();
        RunOnWorkers(w =>
        {
            var wk = _workers[w];
            var (lo, hi) = Share(data.Count, w, workers);
            var ctx = new ForwardContext { Training = false };
            for (int b = lo; b < hi; b += batchSize)
            {
                int e = Math.Min(hi, b + batchSize);
                var x = Gather(wk, data, all.AsSpan(b, e - b));
                var y = wk.Model.Forward(x, ctx);
                y.Data.AsSpan(0, (e - b) * k).CopyTo(result.AsSpan(b * k));
            }
        });
        return result;
    }

    private static void Shuffle(int[] a, Random rng)
    {
        for (int i = a.Length - 1; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (a[i], a[j]) = (a[j], a[i]);
        }
    }

    public void Dispose()
    {
        _stopping = true;
        for (int w = 1; w < _start.Length; w++) _start[w].Set();
        foreach (var t in _threads) t.Join();
        foreach (var e in _start) e.Dispose();
        _done.Dispose();
    }
}
