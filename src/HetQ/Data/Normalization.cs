namespace HetQ.Data;

/// <summary>Feature scaling: multiplication by a constant (1/255 for uint8 pixels, 1/16 for the
/// 8x8 digits) and standardization fitted on a training part.</summary>
internal static class Normalization
{
    /// <summary>Multiplies every value by <paramref name="factor"/> in place.</summary>
    public static void Scale(Span<float> values, float factor)
    {
        if (factor == 1f) return;
        for (int i = 0; i < values.Length; i++) values[i] *= factor;
    }

    /// <summary>Train, validation and test standardized with a scaler fitted on the train part only.</summary>
    public static DataSplits Standardize(DataSplits splits)
    {
        StandardScaler scaler = StandardScaler.Fit(splits.Train);
        return new DataSplits(scaler.Transform(splits.Train), scaler.Transform(splits.Validation), scaler.Transform(splits.Test));
    }
}

/// <summary>Per-feature standardization (x - mean) / std, like scikit-learn's StandardScaler:
/// population std, and a constant feature keeps std 1.</summary>
internal sealed class StandardScaler
{
    public float[] Mean { get; }
    public float[] Std { get; }

    public StandardScaler(float[] mean, float[] std)
    {
        if (mean.Length != std.Length) throw new ArgumentException($"{mean.Length} means but {std.Length} standard deviations");
        Mean = mean;
        Std = std;
    }

    /// <summary>Mean and std of each feature over the samples of <paramref name="data"/> (in double precision).</summary>
    public static StandardScaler Fit(Dataset data)
    {
        int s = data.SampleSize, n = data.Count;
        var sum = new double[s];
        for (int i = 0; i < n; i++)
        {
            ReadOnlySpan<float> x = data.Sample(i);
            for (int j = 0; j < s; j++) sum[j] += x[j];
        }
        var mean = new double[s];
        for (int j = 0; j < s; j++) mean[j] = n == 0 ? 0 : sum[j] / n;
        var sq = new double[s];
        for (int i = 0; i < n; i++)
        {
            ReadOnlySpan<float> x = data.Sample(i);
            for (int j = 0; j < s; j++) { double d = x[j] - mean[j]; sq[j] += d * d; }
        }
        var m = new float[s];
        var sd = new float[s];
        for (int j = 0; j < s; j++)
        {
            m[j] = (float)mean[j];
            double std = n == 0 ? 0 : Math.Sqrt(sq[j] / n);
            sd[j] = std < 1e-12 ? 1f : (float)std;
        }
        return new StandardScaler(m, sd);
    }

    /// <summary>A standardized copy of <paramref name="data"/>.</summary>
    public Dataset Transform(Dataset data)
    {
        int s = data.SampleSize;
        if (data.Count > 0 && s != Mean.Length)
            throw new ArgumentException($"{data.Name}: samples have {s} features, the scaler was fitted on {Mean.Length}");
        var f = new float[data.Features.Length];
        for (int i = 0; i < data.Count; i++)
        {
            ReadOnlySpan<float> x = data.Sample(i);
            Span<float> y = f.AsSpan(i * s, s);
            for (int j = 0; j < s; j++) y[j] = (x[j] - Mean[j]) / Std[j];
        }
        return data.With(features: f);
    }
}
