namespace HetQ.Data;

/// <summary>A data set held in memory: one float row per sample (shape <see cref="SampleShape"/>, channels last),
/// one class index per sample (0 when the set has no classes), and optionally real-valued <see cref="Targets"/>
/// (regression; for an autoencoder the features themselves) and per-sample <see cref="Weights"/>.</summary>
public sealed class Dataset
{
    public string Name { get; }
    public int[] SampleShape { get; }
    public float[] Features { get; }
    public int[] Labels { get; }
    public int NumClasses { get; }
    public string[]? ClassNames { get; }

    /// <summary>Real-valued targets [Count × <see cref="TargetSize"/>], or null (the labels are the targets).
    /// For an autoencoder this is the <see cref="Features"/> array itself (<see cref="TargetsAreFeatures"/>).</summary>
    public float[]? Targets { get; private init; }
    public int TargetSize { get; private init; }
    public bool TargetsAreFeatures => Targets is not null && ReferenceEquals(Targets, Features);

    /// <summary>Per-sample loss weights [Count], or null (every sample weighs 1).</summary>
    public float[]? Weights { get; private init; }

    public Dataset(string name, int[] sampleShape, float[] features, int[] labels, int numClasses, string[]? classNames = null)
    {
        int size = 1;
        foreach (int d in sampleShape) size *= d;
        if (features.Length != size * labels.Length)
            throw new ArgumentException($"{name}: {features.Length} feature values do not make {labels.Length} samples of size {size}");
        Name = name;
        SampleShape = (int[])sampleShape.Clone();
        Features = features;
        Labels = labels;
        NumClasses = numClasses;
        ClassNames = classNames;
    }

    public int Count => Labels.Length;
    public int SampleSize => Count == 0 ? Features.Length : Features.Length / Count;
    public ReadOnlySpan<float> Sample(int i) => Features.AsSpan(i * SampleSize, SampleSize);

    /// <summary>This set with <paramref name="targets"/> ([Count × targetSize]; pass <see cref="Features"/> for an
    /// autoencoder) and <paramref name="weights"/> ([Count]); null removes them.</summary>
    public Dataset WithTargets(float[]? targets, int targetSize, float[]? weights)
    {
        if (targets is not null && targets.Length != (long)targetSize * Count)
            throw new ArgumentException($"{Name}: {targets.Length} target values do not make {Count} rows of {targetSize}");
        if (weights is not null && weights.Length != Count)
            throw new ArgumentException($"{Name}: {weights.Length} weights for {Count} samples");
        return new Dataset(Name, SampleShape, Features, Labels, NumClasses, ClassNames)
        {
            Targets = targets, TargetSize = targets is null ? 0 : targetSize, Weights = weights,
        };
    }

    /// <summary>This set with other features (same count; an autoencoder's targets follow them), labels or classes.</summary>
    public Dataset With(int[]? sampleShape = null, float[]? features = null, int[]? labels = null, int? numClasses = null,
        string[]? classNames = null, string? name = null)
    {
        var f = features ?? Features;
        var d = new Dataset(name ?? Name, sampleShape ?? SampleShape, f, labels ?? Labels, numClasses ?? NumClasses, classNames ?? ClassNames);
        return d.WithTargets(TargetsAreFeatures ? f : Targets, TargetsAreFeatures ? d.SampleSize : TargetSize, Weights);
    }

    /// <summary>The samples at the given indices, in that order.</summary>
    public Dataset Subset(ReadOnlySpan<int> indices, string? name = null)
    {
        int s = SampleSize;
        var f = new float[indices.Length * s];
        var l = new int[indices.Length];
        int ts = TargetSize;
        float[]? t = Targets is null ? null : TargetsAreFeatures ? f : new float[indices.Length * ts];
        float[]? w = Weights is null ? null : new float[indices.Length];
        for (int i = 0; i < indices.Length; i++)
        {
            Features.AsSpan(indices[i] * s, s).CopyTo(f.AsSpan(i * s, s));
            l[i] = Labels[indices[i]];
            if (t is not null && !TargetsAreFeatures) Targets.AsSpan(indices[i] * ts, ts).CopyTo(t.AsSpan(i * ts, ts));
            if (w is not null) w[i] = Weights![indices[i]];
        }
        return new Dataset(name ?? Name, SampleShape, f, l, NumClasses, ClassNames).WithTargets(t, ts, w);
    }
}

/// <summary>Train, validation and test parts of one data set.</summary>
public sealed record DataSplits(Dataset Train, Dataset Validation, Dataset Test);
