using System.Reflection;

namespace HetQ.Data;

/// <summary>Loads the data set a <see cref="DataConfig"/> describes and splits it into train,
/// validation and test parts, deterministically for a given seed.</summary>
public static class DatasetLoader
{
    /// <summary>Where the Debian package dataset-fashion-mnist installs its four IDX files.</summary>
    public const string FashionMnistDefaultPath = "/usr/share/datasets/fashion-mnist";

    public static IReadOnlyList<string> FashionMnistClassNames { get; } =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    public static IReadOnlyList<string> DigitClassNames { get; } = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

    private const double DefaultTestFraction = 0.2;
    private const string FashionHint = "install it with `apt-get install dataset-fashion-mnist`";
    private const string MnistHint = "put the MNIST IDX files train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz there";

    /// <summary>The train, validation and test parts of the configured data set. Relative paths are
    /// resolved against <paramref name="baseDirectory"/> (the config file's folder).</summary>
    public static DataSplits Load(DataConfig cfg, string baseDirectory)
    {
        string name = cfg.Name;
        string Resolve(string p) => DataFile.Resolve(p, baseDirectory);
        (Dataset all, Dataset? test) = cfg.Kind switch
        {
            DataSourceKind.Digits => (LoadDigits(cfg.Scale ?? 1f / 16f), null),
            DataSourceKind.FashionMnist => LoadIdxFolder(Resolve(cfg.Path ?? FashionMnistDefaultPath), name, cfg.Scale,
                [.. FashionMnistClassNames], FashionHint),
            DataSourceKind.Mnist => LoadIdxFolder(Resolve(cfg.Path!), name, cfg.Scale, [.. DigitClassNames], MnistHint),
            DataSourceKind.Idx => LoadIdx(cfg, Resolve),
            DataSourceKind.Csv => (CsvReader.Read(Resolve(cfg.Path!), name, cfg.LabelColumn, cfg.Header, cfg.Scale ?? 1f), null),
            DataSourceKind.Npz => NpzLoader.Load(Resolve(cfg.Path!), name, cfg.Scale),
            DataSourceKind.Jets => (Scaled(JetsReader.Read(Resolve(cfg.Path!), name), cfg.Scale), null),
            DataSourceKind.JetsDat => (Scaled(JetsReader.ReadDat(Resolve(cfg.Features!), Resolve(cfg.Labels!), name), cfg.Scale), null),
            _ => throw new System.Diagnostics.UnreachableException(),
        };
        if (all.Count == 0)
            throw new HetQException($"{name}: the data set has no samples");
        if (test is not null && cfg.TestFraction is not null)
            throw new HetQException($"data.test_fraction: does not apply, {name} has its own test part");
        return Split(all, test, cfg);
    }

    /// <summary>The embedded 8x8 digits (1797 samples, 64 features, classes 0..9), pixels times
    /// <paramref name="scale"/> (1/16 maps them to [0,1]).</summary>
    public static Dataset LoadDigits(float scale = 1f / 16f)
    {
        const string resource = "HetQ.Data.Embedded.digits.csv.gz";
        using Stream s = Assembly.GetExecutingAssembly().GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"embedded resource {resource} is missing from the HetQ assembly");
        using var ms = new MemoryStream();
        s.CopyTo(ms);
        byte[] bytes = DataFile.Gunzip(ms.ToArray(), "embedded digits.csv.gz", "digits");
        return CsvReader.Read(bytes, "embedded digits.csv.gz", "digits", -1, false, scale, [.. DigitClassNames]);
    }

    /// <summary>Splits off test (when absent) and validation, standardizes when asked, limits the
    /// training part and reshapes samples, following <paramref name="cfg"/>.</summary>
    internal static DataSplits Split(Dataset all, Dataset? test, DataConfig cfg)
    {
        string name = cfg.Name;
        if (cfg.Downsample is int k and > 1)
        {
            all = TaskData.Downsample(all, k, "data.downsample");
            if (test is not null) test = TaskData.Downsample(test, k, "data.downsample");
        }
        Dataset train;
        if (test is null)
        {
            double f = cfg.TestFraction ?? DefaultTestFraction;
            if (f >= 1)
            {
                // Everything is test data, in file order (e.g. reference jets checked row by row).
                train = all.Subset([], name + "/train");
                test = all.Subset(Enumerable.Range(0, all.Count).ToArray(), name + "/test");
            }
            else
            {
                (int[] a, int[] b) = Cut(all, f, cfg, stream: 1);
                train = all.Subset(a, name);
                test = all.Subset(b, name + "/test");
            }
        }
        else
        {
            train = all;
            test = Renamed(test, name + "/test");
        }
        (int[] t, int[] v) = Cut(train, cfg.ValidationFraction, cfg, stream: 2);
        var splits = new DataSplits(train.Subset(t, name + "/train"), train.Subset(v, name + "/validation"), test);

        if (cfg.Standardize ?? cfg.Kind == DataSourceKind.Jets)
            splits = Normalization.Standardize(splits);
        if (cfg.LimitTrain is int limit && limit < splits.Train.Count)
            splits = splits with { Train = splits.Train.Subset(Enumerable.Range(0, limit).ToArray()) };
        if (cfg.Shape is not null)
        {
            int[] shape = [.. cfg.Shape];
            int size = 1;
            foreach (int d in shape) size *= d;
            int have = 1;
            foreach (int d in all.SampleShape) have *= d;
            if (size != have)
                throw new HetQException($"data.shape: [{string.Join(", ", shape)}] holds {size} values, but a sample of {name} has {have}");
            splits = new DataSplits(Reshaped(splits.Train, shape), Reshaped(splits.Validation, shape), Reshaped(splits.Test, shape));
        }
        return TaskData.Apply(splits, cfg);
    }

    private static (int[] First, int[] Second) Cut(Dataset d, double fraction, DataConfig cfg, long stream)
    {
        long seed = SeededRandom.Derive(cfg.Seed, stream);
        return cfg.Stratify ? Splitting.Stratified(d.Labels, fraction, seed) : Splitting.Random(d.Count, fraction, seed);
    }

    private static (Dataset, Dataset?) LoadIdxFolder(string folder, string name, float? scale, string[] classNames, string hint)
    {
        string train = FindIdx(folder, "train", "images-idx3-ubyte", name, hint);
        string trainLabels = FindIdx(folder, "train", "labels-idx1-ubyte", name, hint);
        string test = FindIdx(folder, "t10k", "images-idx3-ubyte", name, hint);
        string testLabels = FindIdx(folder, "t10k", "labels-idx1-ubyte", name, hint);
        Dataset a = Flat(IdxReader.ReadDataset(train, trainLabels, name, scale ?? 1f / 255f, classNames, hint));
        Dataset b = Flat(IdxReader.ReadDataset(test, testLabels, name, scale ?? 1f / 255f, classNames, hint));
        CheckSameFeatures(a, b, train, test, name);
        return (a, b);
    }

    /// <summary>The file of an MNIST-style folder, accepting the usual spellings
    /// (train-images-idx3-ubyte, train-images.idx3-ubyte, each plain or .gz).</summary>
    private static string FindIdx(string folder, string part, string stem, string name, string hint)
    {
        string dashed = $"{part}-{stem}", dotted = $"{part}-{stem.Replace("-idx", ".idx", StringComparison.Ordinal)}";
        string[] candidates = [dashed + ".gz", dashed, dotted + ".gz", dotted];
        foreach (string c in candidates)
        {
            string p = Path.Combine(folder, c);
            if (File.Exists(p)) return p;
        }
        throw new HetQException($"{name}: file not found: {Path.Combine(folder, candidates[0])} ({hint})");
    }

    private static (Dataset, Dataset?) LoadIdx(DataConfig cfg, Func<string, string> resolve)
    {
        float scale = cfg.Scale ?? 1f / 255f;
        string name = cfg.Name;
        Dataset train = Flat(IdxReader.ReadDataset(resolve(cfg.TrainImages!), resolve(cfg.TrainLabels!), name, scale));
        if (cfg.TestImages is null) return (train, null);
        Dataset test = Flat(IdxReader.ReadDataset(resolve(cfg.TestImages), resolve(cfg.TestLabels!), name, scale));
        CheckSameFeatures(train, test, cfg.TrainImages!, cfg.TestImages, name);
        int classes = Math.Max(train.NumClasses, test.NumClasses);
        return (WithClasses(train, classes), WithClasses(test, classes));
    }

    internal static void CheckSameFeatures(Dataset train, Dataset test, string trainPath, string testPath, string name)
    {
        if (train.SampleSize != test.SampleSize && train.Count > 0 && test.Count > 0)
            throw new HetQException($"{name}: {trainPath} has samples of {train.SampleSize} values but {testPath} has {test.SampleSize}");
    }

    internal static Dataset WithClasses(Dataset d, int numClasses)
        => d.NumClasses == numClasses ? d : d.With(numClasses: numClasses);

    private static Dataset Flat(Dataset d) => Reshaped(d, [d.SampleSize == 0 ? d.SampleShape.Aggregate(1, (a, b) => a * b) : d.SampleSize]);

    private static Dataset Reshaped(Dataset d, int[] shape) => d.With(sampleShape: shape);

    private static Dataset Renamed(Dataset d, string name) => d.With(name: name);

    private static Dataset Scaled(Dataset d, float? scale)
    {
        if (scale is float s) Normalization.Scale(d.Features, s);
        return d;
    }
}
