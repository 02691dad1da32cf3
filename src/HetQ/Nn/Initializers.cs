namespace HetQ.Nn;

/// <summary>Keras-style weight initializers (fans computed as Keras's compute_fans).</summary>
public static class Initializers
{
    public static readonly string[] Names = { "glorot_uniform", "glorot_normal", "lecun_uniform", "lecun_normal", "he_uniform", "he_normal", "zeros", "ones" };

    public static (double FanIn, double FanOut) Fans(int[] shape)
    {
        if (shape.Length == 1) return (shape[0], shape[0]);
        if (shape.Length == 2) return (shape[0], shape[1]);
        double receptive = 1;
        for (int i = 0; i < shape.Length - 2; i++) receptive *= shape[i];
        return (receptive * shape[^2], receptive * shape[^1]);
    }

    public static void Fill(string name, Span<float> w, int[] shape, Random rng)
    {
        var (fanIn, fanOut) = Fans(shape);
        switch (name)
        {
            case "zeros": w.Clear(); break;
            case "ones": w.Fill(1f); break;
            case "glorot_uniform": Uniform(w, Math.Sqrt(6.0 / (fanIn + fanOut)), rng); break;
            case "lecun_uniform": Uniform(w, Math.Sqrt(3.0 / fanIn), rng); break;
            case "he_uniform": Uniform(w, Math.Sqrt(6.0 / fanIn), rng); break;
            // Keras's normal variants draw from a normal truncated at two standard deviations,
            // with the standard deviation corrected by 0.87962566 so the variance is as intended.
            case "glorot_normal": TruncatedNormal(w, Math.Sqrt(2.0 / (fanIn + fanOut)) / 0.87962566103423978, rng); break;
            case "lecun_normal": TruncatedNormal(w, Math.Sqrt(1.0 / fanIn) / 0.87962566103423978, rng); break;
            case "he_normal": TruncatedNormal(w, Math.Sqrt(2.0 / fanIn) / 0.87962566103423978, rng); break;
            default: throw new HetQException($"unknown initializer '{name}' (known: {string.Join(", ", Names)})");
        }
    }

    private static void Uniform(Span<float> w, double limit, Random rng)
    {
        for (int i = 0; i < w.Length; i++) w[i] = (float)((rng.NextDouble() * 2 - 1) * limit);
    }

    private static void TruncatedNormal(Span<float> w, double std, Random rng)
    {
        for (int i = 0; i < w.Length; i++)
        {
            double z;
            do z = Normal(rng); while (Math.Abs(z) > 2);
            w[i] = (float)(z * std);
        }
    }

    public static double Normal(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
