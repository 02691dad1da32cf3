namespace HetQ.Data;

/// <summary>A labelled classification data set held in memory: one float row per sample
/// (shape <see cref="SampleShape"/>, channels last), one class index per sample.</summary>
public sealed class Dataset
{
    public string Name { get; }
    public int[] SampleShape { get; }
    public float[] Features { get; }
    public int[] Labels { get; }
    public int NumClasses { get; }
    public string[]? ClassNames { get; }

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

    /// <summary>The samples at the given indices, in that order.</summary>
    public Dataset Subset(ReadOnlySpan<int> indices, string? name = null)
    {
        int s = SampleSize;
        var f = new float[indices.Length * s];
        var l = new int[indices.Length];
        for (int i = 0; i < indices.Length; i++)
        {
            Features.AsSpan(indices[i] * s, s).CopyTo(f.AsSpan(i * s, s));
            l[i] = Labels[indices[i]];
        }
        return new Dataset(name ?? Name, SampleShape, f, l, NumClasses, ClassNames);
    }
}

/// <summary>Train, validation and test parts of one data set.</summary>
public sealed record DataSplits(Dataset Train, Dataset Validation, Dataset Test);
