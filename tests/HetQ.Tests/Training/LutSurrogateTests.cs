using HetQ.Graph;
using HetQ.Hardware;
using HetQ.Nn;
using HetQ.Quantization;
using HetQ.Training;

namespace HetQ.Tests.Training;

/// <summary>The LUT surrogate penalty of learned-width training (<c>"penalty": "luts"</c>): its digit count is the
/// writer's, its gradient for input and activation widths is the exact change of the surrogate when that width grows
/// by one bit, and its kernel gradient predicts the change when every weight gains a fractional bit.</summary>
public class LutSurrogateTests(ITestOutputHelper output)
{
    private const string Config = """
    {
      "name": "lut-surrogate", "seed": 3,
      "data": { "name": "digits", "validation_fraction": 0.1, "test_fraction": 0.2 },
      "model": { "layers": [
        { "type": "dense", "units": 16, "activation": "relu", "name": "fc1" },
        { "type": "dense", "units": 10, "name": "out" } ] },
      "optimizer": { "type": "adam", "learning_rate": 0.003 },
      "epochs": 1, "batch_size": 32,
      "bitwidths": {
        "input": { "granularity": "element", "init": 3 },
        "kernel": { "granularity": "weight", "init": 5 },
        "activation": { "granularity": "element", "init": 3 },
        "penalty": "luts",
        "beta": BETA
      }
    }
    """;

    [Fact]
    public void Digits_are_the_writers_canonical_signed_digits()
    {
        for (long n = 0; n < 70_000; n++) Assert.Equal(Arithmetic.Csd(n).Count, EbopsPenalty.Digits(n));
        foreach (long n in new[] { (1L << 40) - 1, 0x5555_5555_5555L, 0x7FFF_FFFF_FFFFL })
            Assert.Equal(Arithmetic.Csd(n).Count, EbopsPenalty.Digits(n));
    }

    private static Model Trained(TempDir dir)
    {
        var cfg = TrainConfig.Load(dir.Write("c.json", Config.Replace("BETA", "{ \"schedule\": \"constant\", \"start\": 1e-4 }")));
        Assert.Equal(PenaltyCost.Luts, cfg.Bitwidths!.Cost);
        var r = TrainJob.Run(cfg, dir.File("model"));
        var (m, _) = ModelIO.Load(r.Pareto![^1].Model);
        return m;
    }

    private static double Gradient(Model m, out Dictionary<LearnedQuantizer, float[]> grads)
    {
        foreach (var q in EbopsPenalty.Learned(m)) Array.Clear(q.FracBits!.Grad);
        foreach (var p in m.Parameters) p.Refresh(false, null);
        double cost = EbopsPenalty.Compute(m, 1f, gradient: true, PenaltyCost.Luts);
        grads = EbopsPenalty.Learned(m).ToDictionary(q => q, q => (float[])q.FracBits!.Grad.Clone());
        return cost;
    }

    [Fact]
    public void An_input_or_activation_widths_gradient_is_the_exact_change_of_one_more_bit()
    {
        using var dir = new TempDir();
        var m = Trained(dir);
        double cost = Gradient(m, out var grads);
        Assert.Equal(cost, EbopsPenalty.MeasureLuts(m), 6);
        var acts = new[] { m.InputQuantizer!.Learned!, m.Nodes[0].Layer.OutputQuantizer!.Learned! };
        int probed = 0;
        foreach (var q in acts)
        {
            var widths = q.ElementWidths();
            var bits = q.FracBits!.Value;
            for (int e = 0; e < widths.Length && probed < 60; e += 2)
            {
                // Inside the clamp and alive, one more fractional bit widens the element by exactly one bit.
                if (widths[e] <= 0 || q.Fractional(e) >= q.MaxBits) continue;
                float saved = bits[e];
                bits[e] = MathF.Round(saved) + 1;
                Assert.Equal(widths[e] + 1, q.ElementWidths()[e]);
                double up = EbopsPenalty.MeasureLuts(m);
                bits[e] = saved;
                output.WriteLine($"{q.FracBits.Name}[{e}]: gradient {grads[q][e]:G6}, change {up - cost:G6}");
                // the gradient is a float, the change a double: equal to float precision (a rounding to 2 places split 23.894999 from 23.895000)
                Assert.Equal(up - cost, grads[q][e], 1e-5 * Math.Max(1, Math.Abs(up - cost)));
                probed++;
            }
        }
        Assert.True(probed >= 20, $"only {probed} elements probed");
    }

    [Fact]
    public void The_kernel_gradient_predicts_the_change_when_every_weight_gains_a_bit()
    {
        using var dir = new TempDir();
        var m = Trained(dir);
        double cost = Gradient(m, out var grads);
        var kq = m.Nodes[0].Layer.Parameters.First(p => p.Name.EndsWith("/kernel", StringComparison.Ordinal)).Quantizer!.Learned!;
        var bits = kq.FracBits!.Value;
        var saved = (float[])bits.Clone();
        double predicted = 0;
        for (int e = 0; e < bits.Length; e++)
        {
            if (kq.Fractional(e) >= kq.MaxBits) continue;
            predicted += grads[kq][e];
            bits[e] = MathF.Round(bits[e]) + 1;
        }
        double up = EbopsPenalty.MeasureLuts(m);
        saved.CopyTo(bits, 0);
        output.WriteLine($"fc1 kernel, every F + 1: predicted {predicted:N1}, change {up - cost:N1} (cost {cost:N1})");
        Assert.True(predicted > 0);
        // One more bit adds a third of a digit on average: the change of the whole kernel is within a quarter of the prediction.
        Assert.InRange(up - cost, 0.75 * predicted, 1.25 * predicted);
    }

    [Fact]
    public void The_penalty_must_be_ebops_or_luts_and_the_target_must_match_it()
    {
        using var dir = new TempDir();
        var e = Assert.ThrowsAny<HetQException>(() => TrainConfig.Load(dir.Write("a.json", Config.Replace("\"luts\"", "\"lut\"").Replace("BETA", "1e-6"))));
        Assert.Contains("penalty", e.Message, StringComparison.Ordinal);
        e = Assert.ThrowsAny<HetQException>(() => TrainConfig.Load(dir.Write("b.json", Config.Replace("BETA", "{ \"target_ebops\": 1000 }"))));
        Assert.Contains("target_luts", e.Message, StringComparison.Ordinal);
        var ok = TrainConfig.Load(dir.Write("c.json", Config.Replace("BETA", "{ \"target_luts\": 1000 }")));
        Assert.Equal(1000, ok.Bitwidths!.Controller!.TargetEbops);
    }
}
