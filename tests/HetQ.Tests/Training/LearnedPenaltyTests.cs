using HetQ.Cost;
using HetQ.Graph;
using HetQ.Nn;
using HetQ.Numerics;
using HetQ.Quantization;
using HetQ.Training;

namespace HetQ.Tests.Training;

/// <summary>The EBOPs penalty of learned-width training: equal to the cost model's EBOPs of the frozen graph for dense
/// and convolution layers, and beta steered to a target EBOPs by the controller.</summary>
public class LearnedPenaltyTests(ITestOutputHelper output)
{
    private const string Config = """
    {
      "name": "penalty", "seed": 7,
      "data": { "name": "digits", "validation_fraction": 0.1, "test_fraction": 0.2 },
      "model": { INPUT"layers": [ LAYERS ] },
      "optimizer": { "type": "adam", "learning_rate": 0.003 },
      "epochs": EPOCHS, "batch_size": 32,
      "bitwidths": {
        "input": { "granularity": "element", "init": 3 },
        "kernel": { "granularity": "weight", "init": 5 },
        "bias": { "granularity": "channel", "init": 6 },
        "activation": { "granularity": "AGRAN", "init": 4 },
        "beta": BETA
      }
    }
    """;

    private const string Mlp = """{ "type": "dense", "units": 32, "activation": "relu", "name": "fc1" }, { "type": "dense", "units": 16, "activation": "relu", "name": "fc2" }, { "type": "dense", "units": 10, "name": "out" }""";

    private static TrainConfig Load(TempDir dir, string layers, string beta, int epochs, string input = "", string activation = "element") =>
        TrainConfig.Load(dir.Write("penalty.json", Config.Replace("LAYERS", layers).Replace("BETA", beta).Replace("AGRAN", activation)
            .Replace("EPOCHS", epochs.ToString(System.Globalization.CultureInfo.InvariantCulture)).Replace("INPUT", input)));

    public static TheoryData<string, string, string> Models => new()
    {
        { "conv2d same s1, depthwise valid m2, dense", "\"input_shape\": [8, 8, 1], ",
          """{ "type": "conv2d", "filters": 3, "kernel_size": [3, 3], "padding": "same", "activation": "relu", "name": "c1" }, { "type": "depthwise_conv2d", "kernel_size": [3, 3], "depth_multiplier": 2, "activation": "relu", "name": "d1" }, { "type": "flatten", "name": "flat" }, { "type": "dense", "units": 10, "name": "out" }""" },
        { "conv2d 2x3 same s2 (padding taps), dense", "\"input_shape\": [8, 8, 1], ",
          """{ "type": "conv2d", "filters": 4, "kernel_size": [2, 3], "strides": [2, 2], "padding": "same", "activation": "relu", "name": "c1" }, { "type": "flatten", "name": "flat" }, { "type": "dense", "units": 10, "name": "out" }""" },
        { "conv1d k3 s2 valid, dense", "\"input_shape\": [64, 1], ",
          """{ "type": "conv1d", "filters": 4, "kernel_size": 3, "strides": 2, "activation": "relu", "name": "c1" }, { "type": "flatten", "name": "flat" }, { "type": "dense", "units": 10, "name": "out" }""" },
        { "conv2d, max pool 2, conv2d, max pool 2 same (odd size), dense", "\"input_shape\": [8, 8, 1], ",
          """{ "type": "conv2d", "filters": 4, "kernel_size": [3, 3], "activation": "relu", "name": "c1" }, { "type": "max_pool2d", "pool_size": 2, "name": "p1" }, { "type": "conv2d", "filters": 4, "kernel_size": [2, 2], "activation": "relu", "name": "c2" }, { "type": "max_pool2d", "pool_size": 2, "padding": "same", "name": "p2" }, { "type": "flatten", "name": "flat" }, { "type": "dense", "units": 10, "name": "out" }""" },
        { "MLP", "", Mlp },
    };

    [Fact]
    public void The_vectorised_code_counts_equal_the_codes_significant_bits_and_digits()
    {
        // Weights as the learned quantizer leaves them: code·2^-F, for F from -4 to 8 and a subnormal scale, both signs, zeros.
        var rng = new Random(11);
        var codes = new List<long>();
        var weights = new List<float>();
        foreach (int f in new[] { -4, -1, 0, 3, 8, 140 })
            for (int i = 0; i < 1003; i++)
            {
                long code = i % 7 == 0 ? 0 : rng.Next(1, f == 140 ? 1 << 8 : 1 << 14);
                codes.Add(code);
                weights.Add((rng.Next(2) == 0 ? -1 : 1) * (float)Math.ScaleB(code, -f));
            }
        Assert.Contains(weights, w => float.IsSubnormal(w));
        var bits = new int[weights.Count];
        var digits = new int[weights.Count];
        EbopsPenalty.CodeBits(weights.ToArray(), bits);
        EbopsPenalty.CodeDigits(weights.ToArray(), digits);
        for (int i = 0; i < codes.Count; i++)
        {
            Assert.Equal(WeightedLayer.SignificantBits(codes[i]), bits[i]);
            Assert.Equal(EbopsPenalty.Digits(codes[i]), digits[i]);
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void The_training_EBOPs_equal_the_cost_models_EBOPs_of_the_frozen_graph(string name, string input, string layers)
    {
        using var dir = new TempDir();
        foreach (string activation in new[] { "element", "channel", "layer" })
        {
            var cfg = Load(dir, layers, "{ \"schedule\": \"constant\", \"start\": 2e-5 }", 3, input, activation);
            var r = TrainJob.Run(cfg, dir.File("model-" + activation));
            Assert.NotEmpty(r.Pareto!);
            foreach (var p in r.Pareto!)
            {
                var (m, meta) = ModelIO.Load(p.Model);
                var frozen = Freezer.Freeze(m, meta.Name);
                Assert.True(frozen.Graph is not null, string.Join("; ", frozen.Problems));
                long cost = CostModel.Estimate(frozen.Graph!).Total.Ebops;
                long training = EbopsPenalty.Measure(m);
                output.WriteLine($"{name}, {activation} activations, epoch {p.Epoch}: training {training:N0}, cost model {cost:N0} EBOPs");
                Assert.True(cost > 0);
                Assert.Equal(cost, training);
                Assert.Equal(p.Ebops, training);
            }
        }
    }

    private const string PooledCnn = """{ "type": "conv2d", "filters": 4, "kernel_size": [3, 3], "activation": "relu", "name": "c1" }, { "type": "max_pool2d", "pool_size": 2, "name": "p1" }, { "type": "conv2d", "filters": 4, "kernel_size": [2, 2], "activation": "relu", "name": "c2" }, { "type": "flatten", "name": "flat" }, { "type": "dense", "units": 10, "name": "out" }""";

    [Fact]
    public void With_io_stream_the_penalty_counts_each_convolution_window_once_and_the_front_is_by_streamed_LUTs()
    {
        using var dir = new TempDir();
        string text = Config.Replace("LAYERS", PooledCnn).Replace("BETA", "{ \"schedule\": \"constant\", \"start\": 2e-5 }").Replace("AGRAN", "layer")
            .Replace("EPOCHS", "3").Replace("INPUT", "\"input_shape\": [8, 8, 1], ")
            .Replace("\"input\": { \"granularity\": \"element\"", "\"io\": \"stream\", \"input\": { \"granularity\": \"layer\"");
        var cfg = TrainConfig.Load(dir.Write("stream.json", text));
        Assert.True(cfg.Bitwidths!.Stream);
        var r = TrainJob.Run(cfg, dir.File("model"));
        Assert.NotEmpty(r.Pareto!);
        foreach (var p in r.Pareto!)
        {
            var (m, meta) = ModelIO.Load(p.Model);
            var g = Freezer.Freeze(m, meta.Name).Graph!;
            Assert.False(g.HasElementTypes);
            Assert.Null(HetQ.Hardware.VerilogWriter.StreamingProblem(g));
            // Per window: each layer's weights' significant bits times its input's one width (no position repeats them).
            long expected = 0, positions = 0;
            foreach (var n in g.Nodes)
            {
                var (w, win) = n.Op switch { ConvOp c => (c.Weights, c.Window), DenseOp d => (d.Weights, Window.Dense(d.In)), _ => (null, null) };
                if (w is null) continue;
                int width = g.Nodes[n.Inputs[0]].Output.Type.Width;
                long bits = w.Sum(code => (long)WeightedLayer.SignificantBits(code)) * width;
                expected += bits;
                positions += bits * win!.OutH * win.OutW;
            }
            long perWindow = (long)EbopsPenalty.Compute(m, 0, gradient: false, PenaltyCost.Ebops, perWindow: true);
            output.WriteLine($"epoch {p.Epoch}: per window {perWindow:N0}, expected {expected:N0}; per position {p.Ebops:N0} (valid padding: {positions:N0})");
            Assert.Equal(expected, perWindow);
            Assert.Equal(positions, p.Ebops);
            Assert.True(perWindow < p.Ebops);
            // The front point carries the streamed design's LUT estimate it was judged by.
            Assert.Equal(HetQ.Hardware.ResourceModel.Estimate(g, HetQ.Hardware.SynthesisTarget.Xilinx,
                new HetQ.Hardware.HardwareOptions(Io: HetQ.Hardware.HardwareIo.Stream)).Lut, p.LutEstimate);
        }
        var front = r.Pareto!.OrderBy(p => p.LutEstimate).ToList();
        for (int i = 1; i < front.Count; i++) Assert.True(front[i].ValAccuracy > front[i - 1].ValAccuracy);
        // A per-element width cannot stream: the configuration says which key.
        var e = Assert.Throws<HetQException>(() => TrainConfig.Load(dir.Write("bad.json", text.Replace("\"granularity\": \"layer\"", "\"granularity\": \"element\""))));
        Assert.Contains("io", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(8000.0)]
    [InlineData(24000.0)]
    public void The_controller_moves_EBOPs_toward_the_target(double target)
    {
        using var dir = new TempDir();
        string beta = FormattableString.Invariant($$"""{ "target_ebops": {{target}}, "start": 1e-6, "kp": 1, "ki": 1 }""");
        var r = TrainJob.Run(Load(dir, Mlp, beta, 12), dir.File("model"));
        var steps = r.BetaSteps!;
        foreach (var s in steps) output.WriteLine($"epoch {s.Epoch}: beta {s.Beta:G3}, {s.Ebops:N0} EBOPs (target {target:N0})");
        Assert.Equal(12, steps.Count);
        double first = Math.Abs(Math.Log(steps[0].Ebops / target)), last = Math.Abs(Math.Log(steps[^1].Ebops / target));
        // Above the target beta rises and EBOPs fall to within half the log distance; below it beta falls and the
        // widths grow only as far as the loss asks for bits, so EBOPs just move closer.
        if (steps[0].Ebops > target)
        {
            Assert.True(last < first / 2, $"|ln(EBOPs/target)|: epoch 1 {first:F3}, epoch 12 {last:F3}");
            Assert.True(steps[^1].Beta > 1e-6);
        }
        else
        {
            Assert.True(last < first, $"|ln(EBOPs/target)|: epoch 1 {first:F3}, epoch 12 {last:F3}");
            Assert.True(steps[^1].Beta < 1e-6);
        }
    }

    [Theory]
    [InlineData("""{ "target_ebops": -5 }""", "target_ebops")]
    [InlineData("""{ "target_ebops": 1000, "start": 0 }""", "start")]
    [InlineData("""{ "target_ebops": 1000, "kp": -1 }""", "kp")]
    [InlineData("""{ "target_ebops": 1000, "min": 1e-3, "max": 1e-4 }""", "min")]
    [InlineData("""{ "target_ebops": 1000, "gain": 1 }""", "gain")]
    public void Controller_errors_name_the_key(string beta, string named)
    {
        using var dir = new TempDir();
        var e = Assert.ThrowsAny<HetQException>(() => Load(dir, Mlp, beta, 1));
        Assert.Contains(named, e.Message, StringComparison.Ordinal);
    }
}
