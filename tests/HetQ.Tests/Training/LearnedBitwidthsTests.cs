using HetQ.Cost;
using HetQ.Data;
using HetQ.Emulation;
using HetQ.Graph;
using HetQ.Nn;
using HetQ.Quantization;
using HetQ.Training;

namespace HetQ.Tests.Training;

public class LearnedBitwidthsTests
{
    private const string Config = """
    {
      "name": "learned", "seed": 3,
      "data": { "name": "digits", "validation_fraction": 0.1, "test_fraction": 0.2 },
      "model": { "layers": [ { "type": "dense", "units": 32, "activation": "relu", "name": "fc1" }, { "type": "dense", "units": 16, "activation": "relu", "name": "fc2" }, { "type": "dense", "units": 10, "name": "out" } ] },
      "optimizer": { "type": "adam", "learning_rate": 0.003 },
      "epochs": EPOCHS, "batch_size": 32,
      "bitwidths": {
        "input": { "granularity": "element", "init": 3 },
        "kernel": { "granularity": "GRAN", "init": 5 },
        "bias": { "granularity": "channel", "init": 6 },
        "activation": { "granularity": "AGRAN", "init": 4 },
        "beta": BETA
      }
    }
    """;

    private static TrainConfig Load(TempDir dir, int epochs = 8, string beta = "{ \"schedule\": \"log\", \"start\": 1e-7, \"end\": 1e-5 }", string gran = "weight", string agran = "element") =>
        TrainConfig.Load(dir.Write("learned.json", Config.Replace("EPOCHS", epochs.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .Replace("BETA", beta).Replace("AGRAN", agran).Replace("GRAN", gran)));

    [Theory]
    [InlineData("weight", "element")]
    [InlineData("channel", "channel")]
    [InlineData("layer", "layer")]
    public void A_learned_width_run_gives_a_front_whose_frozen_graphs_equal_fake_quantization_on_every_sample(string gran, string agran)
    {
        using var dir = new TempDir();
        var cfg = Load(dir, gran: gran, agran: agran);
        var r = TrainJob.Run(cfg, dir.File("model"));
        Assert.NotNull(r.Pareto);
        Assert.NotEmpty(r.Pareto!);
        Assert.True(File.Exists(r.ParetoPlot), "the Pareto PNG is written");
        // The front is non-dominated: sorted by EBOPs, validation accuracy rises strictly.
        var front = r.Pareto!.OrderBy(p => p.Ebops).ToList();
        for (int i = 1; i < front.Count; i++) Assert.True(front[i].ValAccuracy > front[i - 1].ValAccuracy);
        var splits = DatasetLoader.Load(cfg.Data, cfg.BaseDirectory);
        foreach (var p in front)
        {
            Assert.Equal(0, p.Mismatches);
            Assert.True(p.TestAccuracy > 0.5, $"epoch {p.Epoch}: test accuracy {p.TestAccuracy}");
            // Whole training set too: emulation equals fake quantization bit for bit.
            var (m, meta) = ModelIO.Load(p.Model);
            var eval = EvalJob.Run(m, meta.Name, splits.Train);
            Assert.Equal(0, eval.Mismatches);
            Assert.True(eval.Graph!.HasElementTypes);
            Assert.Equal(p.Ebops, CostModel.Estimate(eval.Graph).Total.Ebops);
            // Version 2 round trip: same graph, same codes.
            string json = eval.Graph.ToJson();
            Assert.Contains("\"version\": 2", json);
            var back = IntegerGraph.FromJson(json, "test");
            Assert.Equal(new Emulator(eval.Graph).Run(splits.Test.Features), new Emulator(back).Run(splits.Test.Features));
        }
    }

    [Fact]
    public void A_larger_beta_gives_fewer_EBOPs()
    {
        using var dir = new TempDir();
        var low = TrainJob.Run(Load(dir, epochs: 5, beta: "0"), dir.File("low"));
        var high = TrainJob.Run(Load(dir, epochs: 5, beta: "3e-5"), dir.File("high"));
        long lowEbops = low.Pareto!.Min(p => p.Ebops), highEbops = high.Pareto!.Min(p => p.Ebops);
        Assert.True(highEbops < lowEbops * 0.8, $"beta 3e-5: {highEbops} EBOPs, beta 0: {lowEbops}");
    }

    private static LearnedQuantizer Activation(int size, float bits, float max, float min = 0)
    {
        var q = new LearnedQuantizer(LearnedRole.Activation, BitGranularity.Element, bits, -8, 8).Bind("a", [size]);
        for (int e = 0; e < size; e++)
        {
            q.Range!.Value[e] = max * (e + 1) / size;
            q.Range.Value[size + e] = min;
        }
        return q;
    }

    [Fact]
    public void The_activation_quantizer_is_the_fixed_point_spec_of_each_element_format()
    {
        var q = Activation(16, 3, 5f, -2f);
        var rng = new Random(5);
        var x = Enumerable.Range(0, 16 * 200).Select(_ => (float)(rng.NextDouble() * 14 - 7)).ToArray();
        var y = new float[x.Length];
        q.Run(x, y, training: false);
        var formats = q.ElementFormats();
        for (int i = 0; i < x.Length; i++)
        {
            var f = formats[i % 16]!.Value;
            Assert.Equal(FixedPoint.FromRaw(FixedPoint.ToRaw(x[i], f.Type, f.Rounding, f.Overflow), f.Type), (double)y[i]);
        }
        Assert.Equal(Rounding.RND, formats[0]!.Value.Rounding);
        Assert.Equal(Overflow.SAT, formats[0]!.Value.Overflow);
    }

    [Fact]
    public void The_eight_wide_activation_path_rounds_ties_and_near_ties_as_the_spec()
    {
        // F from -2 to 5 over 8 elements, range ±100 (signed, I = 7): ties, the float just below a half, saturation.
        var q = Activation(8, 0, 100f, -100f);
        for (int e = 0; e < 8; e++) q.FracBits!.Value[e] = e - 2;
        float below = MathF.BitDecrement(0.5f);
        float[] row = [below, 0.5f, -0.5f, 1.5f, -1.5f, 2.5f, -MathF.BitIncrement(0.5f), 1e30f, -1e30f, 99.99f, -100.5f, 0f, -0f, 3.25f, -2.75f, 1e-40f];
        var x = new List<float>();
        foreach (float v in row)
            for (int e = 0; e < 8; e++) x.Add(v * MathF.ScaleB(1f, 2 - e));   // the same code position for every F
        var y = new float[x.Count];
        q.Run(x.ToArray(), y, training: false);
        var formats = q.ElementFormats();
        for (int i = 0; i < x.Count; i++)
        {
            var f = formats[i % 8]!.Value;
            Assert.Equal(FixedPoint.FromRaw(FixedPoint.ToRaw(x[i], f.Type, f.Rounding, f.Overflow), f.Type), (double)y[i]);
        }
        // Backward: dx = dy inside the range, 0 outside; df the rows' −ln2·(q(x) − x)·dy summed in order, in float.
        var rng = new Random(4);
        var dy = x.Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var dx = new float[x.Count];
        q.Backward(x.ToArray(), dy, dx);
        var df = new float[8];
        for (int i = 0; i < x.Count; i++)
        {
            var f = formats[i % 8]!.Value;
            double code = Math.Floor(x[i] * Math.ScaleB(1.0, f.Type.FractionalBits) + 0.5);
            bool inside = code >= -Math.ScaleB(1.0, f.Type.Width - 1) && code <= Math.ScaleB(1.0, f.Type.Width - 1) - 1;
            Assert.Equal(inside ? dy[i] : 0f, dx[i]);
            if (inside) df[i % 8] += (float)(-0.6931471805599453 * (y[i] - x[i]) * dy[i]);
        }
        Assert.Equal(df, q.FracBits!.Grad);
    }

    [Fact]
    public void A_width_of_zero_prunes_the_element()
    {
        var q = Activation(2, 0, 0.3f); // element 0: max 0.15 -> I = -2, F = 0: width -2
        q.FracBits!.Value[1] = -3;      // element 1: max 0.3 -> I = -1, F = -3: width -4
        Assert.Null(q.ElementFormats()[0]);
        Assert.Equal([0, 0], q.ElementWidths());
        var y = new float[4];
        q.Run([0.1f, 0.3f, 100f, -5f], y, training: false);
        Assert.All(y, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void The_surrogate_gradient_is_HGQs_minus_ln2_times_the_error()
    {
        var q = Activation(1, 2, 1.9f);       // I = 1, F = 2: [0, 1.75] in steps of 0.25
        float[] x = [0.3f, 2.5f];
        var g = new float[2];
        q.Backward(x, [1f, 1f], g);
        Assert.Equal(1f, g[0]);               // inside: straight through
        Assert.Equal(0f, g[1]);               // saturated: no gradient to x
        double xq = 0.25;
        Assert.Equal((float)(-Math.Log(2) * (xq - 0.3f)), q.FracBits!.Grad[0], 6);
    }

    [Fact]
    public void Observed_ranges_set_the_integer_bits_and_the_next_epoch_uses_the_last_ones()
    {
        var q = Activation(1, 4, 0);
        var y = new float[2];
        q.Run([3.2f, -0.5f], y, training: true);   // epoch 1 grows the range, after each batch
        q.EndBatch();
        Assert.Equal((true, 1 + 2 + 4, 1 + 2), q.ElementType(0));
        q.Run([0.9f, 0.1f], y, training: true);
        q.BeginEpoch();                               // epoch 2 uses epoch 1's range
        Assert.Equal((true, 7, 3), q.ElementType(0));
        q.Run([0.9f, 0.1f], y, training: true);
        q.BeginEpoch();                               // epoch 3 uses epoch 2's: max 0.9, no negatives
        Assert.Equal((false, 0 + 4, 0), q.ElementType(0));
    }

    [Fact]
    public void In_the_first_epoch_a_worker_quantizes_with_its_own_share_whichever_worker_runs_first()
    {
        // Two replicas (data-parallel workers) of one quantizer: worker B's share has a wider range than A's. What A
        // computes must not depend on whether B's share was seen first (else a run depends on thread timing).
        float[] a = [0.97f, 0.3f], b = [3.7f, 2.9f];
        float[] Alone()
        {
            var q = Activation(2, 4, 0);
            var y = new float[2];
            q.Run(a, y, training: true);
            return y;
        }
        var shared = Activation(2, 4, 0);
        var workerB = shared.ShareForWorker();
        var yb = new float[2];
        workerB.Run(b, yb, training: true);            // B first
        var ya = new float[2];
        shared.Run(a, ya, training: true);
        Assert.Equal(Alone(), ya);
        Assert.Equal(0.9375f, ya[0]);                  // A's own range (max 0.97: 0 integer bits, 4 fractional) saturates 15.52 at 15/16
        shared.EndBatch();                             // after the batch both shares widen the range
        Assert.Equal((false, 2 + 4, 2), shared.ElementType(0));
        Assert.Equal((false, 2 + 4, 2), workerB.ElementType(1));
    }

    [Fact]
    public void Training_with_several_workers_is_deterministic()
    {
        using var dir = new TempDir();
        var cfg = Load(dir, epochs: 2);
        var splits = DatasetLoader.Load(cfg.Data, cfg.BaseDirectory);
        float[][] Train()
        {
            var model = cfg.BuildModel(splits.Train.SampleShape);
            using var trainer = new Trainer(model, Loss.Create(cfg.LossSpec), Optimizer.Create(cfg.OptimizerSpec), new TrainOptions(cfg.Epochs, cfg.BatchSize, cfg.Seed, Threads: 3));
            trainer.Penalty = new EbopsPenalty(model, cfg.Bitwidths!);
            trainer.Fit(splits.Train, splits.Validation);
            return model.Parameters.Select(p => p.Value).ToArray();
        }
        var first = Train();
        var second = Train();
        Assert.Equal(first.Length, second.Length);
        for (int i = 0; i < first.Length; i++) Assert.Equal(first[i], second[i]);
    }

    [Theory]
    [InlineData("constant", 0.0, 2e-6)]
    [InlineData("linear", 0.5, 5.5e-6)]
    [InlineData("log", 0.5, 1e-6)]
    public void Beta_schedules(string kind, double t, double expected)
    {
        var s = kind == "log" ? new BetaSchedule(kind, 1e-7, 1e-5) : new BetaSchedule(kind, kind == "constant" ? 2e-6 : 1e-6, 1e-5);
        Assert.Equal(expected, s.At(t), 12);
    }

    [Theory]
    [InlineData("\"quantization\": { \"default\": { \"kernel\": \"quantized_bits(4,0,alpha=1)\" } }, ", "alternatives")]
    [InlineData("", "granularity")]
    public void Configuration_errors_name_the_key(string extra, string named)
    {
        using var dir = new TempDir();
        string text = Config.Replace("EPOCHS", "1").Replace("BETA", "1e-6").Replace("AGRAN", extra.Length == 0 ? "diagonal" : "element").Replace("GRAN", "weight")
            .Replace("\"epochs\"", extra + "\"epochs\"");
        var e = Assert.Throws<HetQException>(() => TrainConfig.Load(dir.Write("bad.json", text)));
        Assert.True(e.Message.Contains(named, StringComparison.Ordinal), e.Message);
    }

    [Fact]
    public void Per_element_EBOPs_multiply_each_weight_by_its_input_elements_width()
    {
        var input = new FixedFormat(new FixedType(false, 4, 0), Rounding.RND, Overflow.SAT);
        FixedFormat?[] elements = [new FixedFormat(new FixedType(false, 2, 0), Rounding.RND, Overflow.SAT), null, input];
        var dense = new DenseOp(3, 2, [3, 1, 5, 7, -6, 0], new FixedType(true, 4, 4), null, null, new FixedType(true, 12, 8), new Requantization(false, null));
        var g = new IntegerGraph("t", [
            new GraphNode("input", new InputOp(input, elements), [], new TensorType([3], input.Type, elements.Select(f => f?.Type).ToArray())),
            new GraphNode("fc", dense, [0], new TensorType([2], new FixedType(true, 12, 8)))], []);
        // Significant bits: 3->2, 1->1 (row 0, width 2); row 1 pruned; -6->2, 0->0 (row 2, width 4).
        Assert.Equal((2 + 1) * 2 + 2 * 4, CostModel.Estimate(g).Total.Ebops);
        Assert.Contains("\"version\": 2", g.ToJson());
        // Input element 1 is pruned; element 0 is quantized to 2 bits and stored on the 4-bit common type.
        var raw = new Emulator(g).Run([0.3f, 0.9f, 0.3f]);
        // Codes [4, 0, 5] (0.3 -> 1 at 2 fractional bits, shifted to 4; 0.3 -> 5 at 4): y = [4·3 + 5·(−6), 4·1].
        Assert.Equal(new long[] { -18, 4 }, raw);
    }
}
