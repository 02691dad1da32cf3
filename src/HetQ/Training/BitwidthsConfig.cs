using HetQ.Nn;
using HetQ.Quantization;

namespace HetQ.Training;

/// <summary>How beta (the weight of the EBOPs penalty) moves over training: constant, linear or log ramp from
/// <see cref="Start"/> to <see cref="End"/> (progress t from 0 at the first step to 1 after the last epoch).</summary>
public sealed record BetaSchedule(string Kind, double Start, double End)
{
    public double At(double t) => Kind switch
    {
        "linear" => Start + (End - Start) * t,
        "log" => Start * Math.Pow(End / Start, t),
        _ => Start,
    };
}

/// <summary>beta steered to a target EBOPs: after every epoch, with e = ln(EBOPs / target) (the surrogate EBOPs at the
/// epoch's end), ln beta = ln start + kp·e + ki·Σe, clamped to [min, max].</summary>
public sealed record BetaController(double TargetEbops, double Kp, double Ki, double Min, double Max);

/// <summary>What beta weighs: HGQ's EBOPs, or the LUT surrogate (<see cref="EbopsPenalty"/>: the resource model's
/// adder-bit feature from the canonical signed digits of each weight times the width of its input).</summary>
public enum PenaltyCost { Ebops, Luts }

/// <summary>The "bitwidths" section of a training configuration: learned bit widths (HGQ's method). Templates for the
/// input, kernels, biases and activations (each <c>{"granularity", "init", "min", "max"}</c>, or false for none),
/// beta (a number, <c>{"schedule": "constant|linear|log", "start", "end"}</c>, or
/// <c>{"target_ebops", "start", "kp", "ki", "min", "max"}</c> for the controller), an L1 weight on the fractional bits,
/// and <c>baselines</c>: model directories to plot beside the Pareto front.</summary>
public sealed record BitwidthsConfig(LearnedQuantizer? Input, LearnedQuantizer? Kernel, LearnedQuantizer? Bias, LearnedQuantizer? Activation,
    BetaSchedule Beta, double L1, IReadOnlyList<string> Baselines)
{
    /// <summary>When set, beta starts at <see cref="BetaSchedule.Start"/> and is steered to a target EBOPs.</summary>
    public BetaController? Controller { get; init; }

    /// <summary>What the penalty costs: EBOPs (the default) or the LUT surrogate (<c>"penalty": "luts"</c>); the
    /// controller's target is then <c>target_luts</c>.</summary>
    public PenaltyCost Cost { get; init; }

    /// <summary>The design the penalty and the front cost (<c>"io"</c>): parallel (the default; every product of every
    /// output position, HGQ's EBOPs) or stream (a streamed design builds each convolution's weight matrix once and
    /// computes one window per clock: its products are counted once per window, not once per output position; the
    /// front is then by the resource model's LUT estimate of the streamed design).</summary>
    public bool Stream { get; init; }

    public static BitwidthsConfig Parse(JsonSpec s)
    {
        var input = Template(s, "input", LearnedRole.Activation, "element", 8);
        var kernel = Template(s, "kernel", LearnedRole.Weight, "weight", 6);
        var bias = Template(s, "bias", LearnedRole.Weight, "weight", 8);
        var act = Template(s, "activation", LearnedRole.Activation, "element", 6);
        string penalty = s.String("penalty", "ebops");
        var cost = penalty switch
        {
            "ebops" => PenaltyCost.Ebops,
            "luts" => PenaltyCost.Luts,
            _ => throw s.Error("penalty", $"must be ebops or luts, given '{penalty}'"),
        };
        string targetKey = cost == PenaltyCost.Luts ? "target_luts" : "target_ebops";
        BetaSchedule beta;
        BetaController? controller = null;
        if (s.Raw("beta") is { ValueKind: System.Text.Json.JsonValueKind.Object } && s.Object("beta") is { } t
            && (t.Raw("target_ebops") is not null || t.Raw("target_luts") is not null))
        {
            if (t.Raw(targetKey) is null)
                throw t.Error(cost == PenaltyCost.Luts ? "target_ebops" : "target_luts", $"the penalty is {penalty}: the controller's target is {targetKey}");
            double target = t.Double(targetKey) ?? 0;
            if (!(target > 0)) throw t.Error(targetKey, $"must be positive, given {target}");
            double start = t.Double("start", 1e-6), kp = t.Double("kp", 1), ki = t.Double("ki", 0.5);
            double min = t.Double("min", 1e-12), max = t.Double("max", 1e-2);
            if (!(start > 0)) throw t.Error("start", $"the controller's initial beta must be positive, given {start}");
            if (kp < 0 || ki < 0) throw t.Error(kp < 0 ? "kp" : "ki", "the gains must not be negative");
            if (!(min > 0) || max < min) throw t.Error("min", $"need 0 < min <= max, given min {min}, max {max}");
            if (start < min || start > max) throw t.Error("start", $"{start} is outside [min {min}, max {max}]");
            t.RejectUnknown();
            beta = new BetaSchedule("constant", start, start);
            controller = new BetaController(target, kp, ki, min, max);
        }
        else if (s.Raw("beta") is { ValueKind: System.Text.Json.JsonValueKind.Object } && s.Object("beta") is { } b)
        {
            string kind = b.String("schedule", "constant");
            if (kind is not ("constant" or "linear" or "log")) throw b.Error("schedule", $"must be constant, linear or log, given '{kind}'");
            double start = b.Double("start") ?? throw b.Error("start", "is required");
            double end = b.Double("end") ?? start;
            if (start < 0 || end < 0) throw b.Error("start", "beta must not be negative");
            if (kind == "log" && (start <= 0 || end <= 0)) throw b.Error("start", "a log ramp needs positive start and end");
            b.RejectUnknown();
            beta = new BetaSchedule(kind, start, end);
        }
        else
        {
            double v = s.Double("beta", 1e-6);
            if (v < 0) throw s.Error("beta", $"must not be negative, given {v}");
            beta = new BetaSchedule("constant", v, v);
        }
        string io = s.String("io", "parallel");
        if (io is not ("parallel" or "stream")) throw s.Error("io", $"must be parallel or stream, given '{io}'");
        if (io == "stream" && (input?.Granularity == BitGranularity.Element || act?.Granularity == BitGranularity.Element))
            throw s.Error("io", "a streamed design gives a tensor one width per channel at every position: set the input's and the activations' granularity to layer (or channel)");
        double l1 = s.Double("l1", 0);
        if (l1 < 0) throw s.Error("l1", $"must not be negative, given {l1}");
        var baselines = s.Strings("baselines") ?? [];
        s.RejectUnknown();
        return new BitwidthsConfig(input, kernel, bias, act, beta, l1, baselines) { Controller = controller, Cost = cost, Stream = io == "stream" };
    }

    private static LearnedQuantizer? Template(JsonSpec s, string key, LearnedRole role, string granularity, float init)
    {
        if (s.Raw(key) is { ValueKind: System.Text.Json.JsonValueKind.False }) { s.Allow(key); return null; }
        var t = s.Object(key);
        if (t is null) return new LearnedQuantizer(role, LearnedQuantizer.ParseGranularity(granularity, $"{s.Path}.{key}"), init, -8, 8);
        var g = LearnedQuantizer.ParseGranularity(t.String("granularity", granularity), $"{t.Path}.granularity");
        if (role == LearnedRole.Activation && t.String("granularity", granularity) == "weight") throw t.Error("granularity", "activations have element, channel or layer granularity");
        double i = t.Double("init", init);
        int min = t.Int("min", -8), max = t.Int("max", 8);
        if (min > max) throw t.Error("min", $"{min} is above max {max}");
        if (max > 16) throw t.Error("max", $"at most 16 fractional bits (float32 training must stay exact), given {max}");
        t.RejectUnknown();
        return new LearnedQuantizer(role, g, (float)i, min, max);
    }

    /// <summary>Puts learned quantizers on the model: the input, every layer with a kernel (kernel, bias, and the
    /// activation on all but the last such layer, whose output is the logits).</summary>
    public void Apply(Model model)
    {
        if (Input is not null)
        {
            model.InputQuantizer = FakeQuantizer.For(Input, "input", model.InputShape);
            foreach (var n in model.Nodes.Where(n => n.Inputs.Contains(-1)))
            {
                if (n.Layer is Nn.Layers.Dense d) d.NeedsInputGradient = true;
                if (n.Layer is Nn.Layers.Conv c) c.NeedsInputGradient = true;
            }
        }
        var withKernel = model.Nodes.Where(n => n.Layer.Parameters.Any(p => p.Name.EndsWith("/kernel", StringComparison.Ordinal))).Select(n => n.Layer).ToList();
        foreach (var layer in withKernel)
        {
            bool hasBias = layer.Parameters.Any(p => p.Name.EndsWith("/bias", StringComparison.Ordinal));
            layer.Quantizers = new LayerQuantizers(Kernel, hasBias ? Bias : null, layer == withKernel[^1] ? null : Activation);
        }
    }
}
