using System.Runtime.Intrinsics;

namespace HetQ.Nn;

/// <summary>Updates trainable parameters from their gradients (PyTorch's update rules).</summary>
public abstract class Optimizer
{
    public static readonly string[] Names = { "sgd", "adam", "adamw" };

    public double LearningRate { get; set; }
    protected readonly Dictionary<Parameter, float[][]> State = new(ReferenceEqualityComparer.Instance);

    protected Optimizer(double learningRate) => LearningRate = learningRate;

    public abstract void Step(IReadOnlyList<Parameter> parameters);

    protected float[][] StateOf(Parameter p, int buffers)
    {
        if (!State.TryGetValue(p, out var s))
        {
            s = new float[buffers][];
            for (int i = 0; i < buffers; i++) s[i] = new float[p.Length];
            State[p] = s;
        }
        return s;
    }

    public static Optimizer Create(JsonSpec? s)
    {
        if (s is null) return new Adam(1e-3);
        string type = s.String("type", "adam");
        double lr = s.DoubleIn("learning_rate", type == "sgd" ? 0.01 : 1e-3, 0, 10, loOpen: true);
        Optimizer o = type switch
        {
            "sgd" => new Sgd(lr, s.DoubleIn("momentum", 0, 0, 1, hiOpen: true), s.Bool("nesterov", false)),
            "adam" => new Adam(lr, Beta(s, "beta1", 0.9), Beta(s, "beta2", 0.999), Epsilon(s)),
            "adamw" => new Adam(lr, Beta(s, "beta1", 0.9), Beta(s, "beta2", 0.999), Epsilon(s), s.DoubleIn("weight_decay", 0.01, 0, 1)),
            _ => throw s.Error("type", $"unknown optimizer '{type}' (known: {string.Join(", ", Names)})"),
        };
        s.RejectUnknown();
        return o;
    }

    private static double Beta(JsonSpec s, string key, double fallback) => s.DoubleIn(key, fallback, 0, 1, hiOpen: true);

    private static double Epsilon(JsonSpec s) => s.DoubleIn("epsilon", 1e-7, 0, 1, loOpen: true);
}

/// <summary>SGD with optional momentum and Nesterov momentum: v = μv + g; p −= lr·v (Nesterov: p −= lr·(g + μv)).</summary>
public sealed class Sgd(double learningRate, double momentum = 0, bool nesterov = false) : Optimizer(learningRate)
{
    public double Momentum { get; } = momentum;
    public bool Nesterov { get; } = nesterov;

    public override void Step(IReadOnlyList<Parameter> parameters)
    {
        float lr = (float)LearningRate, mu = (float)Momentum;
        foreach (var p in parameters)
        {
            if (!p.Trainable) continue;
            float[] w = p.Value, g = p.Grad;
            if (Momentum == 0)
            {
                for (int i = 0; i < w.Length; i++) w[i] -= lr * g[i];
                continue;
            }
            float[] v = StateOf(p, 1)[0];
            for (int i = 0; i < w.Length; i++)
            {
                v[i] = mu * v[i] + g[i];
                w[i] -= lr * (Nesterov ? g[i] + mu * v[i] : v[i]);
            }
        }
    }
}

/// <summary>Adam (PyTorch form: ε added to √v̂), and AdamW when weight decay is set (decoupled: p −= lr·wd·p first).</summary>
public sealed class Adam(double learningRate, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-7, double weightDecay = 0) : Optimizer(learningRate)
{
    public double Beta1 { get; } = beta1;
    public double Beta2 { get; } = beta2;
    public double Epsilon { get; } = epsilon;
    public double WeightDecay { get; } = weightDecay;
    private int _t;

    public override void Step(IReadOnlyList<Parameter> parameters)
    {
        _t++;
        float b1 = (float)Beta1, b2 = (float)Beta2;
        double bc1 = 1 - Math.Pow(Beta1, _t), bc2 = 1 - Math.Pow(Beta2, _t);
        float stepSize = (float)(LearningRate / bc1);
        float invSqrtBc2 = (float)(1 / Math.Sqrt(bc2));
        float eps = (float)Epsilon, decay = (float)(1 - LearningRate * WeightDecay);
        foreach (var p in parameters)
        {
            if (!p.Trainable) continue;
            var s = StateOf(p, 2);
            float[] w = p.Value, g = p.Grad, m = s[0], v = s[1];
            int i0 = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                var vb1 = Vector256.Create(b1);
                var vb1c = Vector256.Create(1 - b1);
                var vb2 = Vector256.Create(b2);
                var vb2c = Vector256.Create(1 - b2);
                var vstep = Vector256.Create(stepSize);
                var vinv = Vector256.Create(invSqrtBc2);
                var veps = Vector256.Create(eps);
                var vdecay = Vector256.Create(WeightDecay != 0 ? decay : 1f);
                for (; i0 + 8 <= w.Length; i0 += 8)
                {
                    var gi = Vector256.Create(g.AsSpan(i0, 8));
                    var mi = vb1 * Vector256.Create(m.AsSpan(i0, 8)) + vb1c * gi;
                    var vi = vb2 * Vector256.Create(v.AsSpan(i0, 8)) + vb2c * gi * gi;
                    mi.CopyTo(m.AsSpan(i0, 8));
                    vi.CopyTo(v.AsSpan(i0, 8));
                    var wi = Vector256.Create(w.AsSpan(i0, 8)) * vdecay;
                    wi -= vstep * mi / (Vector256.Sqrt(vi) * vinv + veps);
                    wi.CopyTo(w.AsSpan(i0, 8));
                }
            }
            for (int i = i0; i < w.Length; i++)
            {
                float gi = g[i];
                m[i] = b1 * m[i] + (1 - b1) * gi;
                v[i] = b2 * v[i] + (1 - b2) * gi * gi;
                if (WeightDecay != 0) w[i] *= decay;
                w[i] -= stepSize * m[i] / (MathF.Sqrt(v[i]) * invSqrtBc2 + eps);
            }
        }
    }
}
