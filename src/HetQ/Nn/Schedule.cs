namespace HetQ.Nn;

/// <summary>Learning rate as a function of training progress: constant, step (×factor every
/// <c>step_epochs</c>), cosine (to <c>min_lr</c> at the last epoch) or exponential, with an optional
/// linear warm-up over the first <c>warmup_epochs</c>.</summary>
public sealed record Schedule(string Type, double StepEpochs, double Factor, double MinLr, double WarmupEpochs)
{
    public static readonly string[] Names = { "constant", "step", "cosine", "exponential" };

    public static Schedule Constant { get; } = new("constant", 0, 1, 0, 0);

    public static Schedule Create(JsonSpec? s)
    {
        if (s is null) return Constant;
        string type = s.String("type", "constant");
        if (!Names.Contains(type)) throw s.Error("type", $"unknown schedule '{type}' (known: {string.Join(", ", Names)})");
        var r = new Schedule(type, s.DoubleIn("step_epochs", 10, 0, 1e6, loOpen: true), s.DoubleIn("factor", type == "exponential" ? 0.95 : 0.1, 0, 1, loOpen: true),
            s.DoubleIn("min_lr", 0, 0, 10), s.DoubleIn("warmup_epochs", 0, 0, 1e6));
        s.RejectUnknown();
        return r;
    }

    /// <summary>Learning rate at (fractional) epoch <paramref name="epoch"/> (0-based) of <paramref name="totalEpochs"/>.</summary>
    public double Rate(double baseLr, double epoch, int totalEpochs)
    {
        if (WarmupEpochs > 0 && epoch < WarmupEpochs) return baseLr * (epoch + 1e-3) / WarmupEpochs;
        double e = epoch - WarmupEpochs;
        double span = Math.Max(1e-9, totalEpochs - WarmupEpochs);
        return Type switch
        {
            "step" => baseLr * Math.Pow(Factor, Math.Floor(e / StepEpochs)),
            "cosine" => MinLr + (baseLr - MinLr) * 0.5 * (1 + Math.Cos(Math.PI * Math.Min(1, e / span))),
            "exponential" => baseLr * Math.Pow(Factor, e),
            _ => baseLr,
        };
    }
}
