using System.Text.Json;

namespace HetQ.Data;

/// <summary>The kinds of data set that <see cref="DatasetLoader"/> can load, named in configs as
/// digits, fashion-mnist, mnist, idx, csv, npz, jets, jets-dat.</summary>
public enum DataSourceKind { Digits, FashionMnist, Mnist, Idx, Csv, Npz, Jets, JetsDat }

/// <summary>The "data" section of a configuration: which data set, where its files are, and how
/// to split, scale and shape it. Parse it with <see cref="Parse"/>; load it with <see cref="DatasetLoader"/>.</summary>
public sealed record DataConfig
{
    public DataSourceKind Kind { get; init; } = DataSourceKind.Digits;
    /// <summary>File (csv, npz, jets) or folder (fashion-mnist, mnist); relative to the config file.</summary>
    public string? Path { get; init; }
    public string? TrainImages { get; init; }
    public string? TrainLabels { get; init; }
    public string? TestImages { get; init; }
    public string? TestLabels { get; init; }
    /// <summary>jets-dat: the whitespace-separated features file.</summary>
    public string? Features { get; init; }
    /// <summary>jets-dat: the labels file (one-hot or class index per line).</summary>
    public string? Labels { get; init; }
    public int LabelColumn { get; init; } = -1;
    /// <summary>csv: whether the first row is a header; null: detected (a row with a non-number).</summary>
    public bool? Header { get; init; }
    /// <summary>Factor applied to every feature; null: the kind's default (1/255 images, 1/16 digits, 1 others).</summary>
    public float? Scale { get; init; }
    /// <summary>Standardize features with mean and std of the training part; null: the kind's default (jets only).</summary>
    public bool? Standardize { get; init; }
    public double ValidationFraction { get; init; } = 0.1;
    /// <summary>For sets without a test part, the fraction held out as test; null: 0.2. 1 puts every
    /// sample, in file order, into the test part.</summary>
    public double? TestFraction { get; init; }
    public bool Stratify { get; init; } = true;
    public long Seed { get; init; } = 42;
    /// <summary>Keep only the first N training samples (after shuffling), for quick runs.</summary>
    public int? LimitTrain { get; init; }
    /// <summary>Sample shape, channels last (e.g. [28,28,1]); null: flat.</summary>
    public IReadOnlyList<int>? Shape { get; init; }
    /// <summary>"input": the targets are the features (an autoencoder); null: the labels.</summary>
    public string? Targets { get; init; }
    /// <summary>Feature columns (0-based, of the flat sample) that become real-valued targets and leave the inputs.</summary>
    public IReadOnlyList<int>? TargetColumns { get; init; }
    /// <summary>A feature column (0-based) that becomes the per-sample loss weight and leaves the inputs.</summary>
    public int? WeightColumn { get; init; }
    /// <summary>Classes (indices or names) held out as the anomaly: left out of training, label 1 in the test part
    /// (and in validation, with weight 0), every other class label 0.</summary>
    public IReadOnlyList<string>? AnomalyClasses { get; init; }
    /// <summary>Classes (indices or names) that are the signal of a binary tagger: label 1, every other class 0.</summary>
    public IReadOnlyList<string>? SignalClasses { get; init; }
    /// <summary>Average k×k blocks of square images (28x28 with 4 gives 7x7).</summary>
    public int? Downsample { get; init; }

    /// <summary>The config name of <see cref="Kind"/>.</summary>
    public string Name => KindNames[Kind];

    public static DataConfig Default { get; } = new();

    internal static readonly Dictionary<DataSourceKind, string> KindNames = new()
    {
        [DataSourceKind.Digits] = "digits", [DataSourceKind.FashionMnist] = "fashion-mnist",
        [DataSourceKind.Mnist] = "mnist", [DataSourceKind.Idx] = "idx", [DataSourceKind.Csv] = "csv",
        [DataSourceKind.Npz] = "npz", [DataSourceKind.Jets] = "jets", [DataSourceKind.JetsDat] = "jets-dat",
    };

    private static readonly string[] KnownKeys =
    [
        "name", "path", "train_images", "train_labels", "test_images", "test_labels", "features", "labels",
        "label_column", "header", "scale", "standardize", "validation_fraction", "test_fraction", "stratify",
        "seed", "limit_train", "shape", "targets", "target_columns", "weight_column", "anomaly_classes", "signal_classes",
        "downsample",
    ];

    /// <summary>Keys that only some kinds take; the others reject them.</summary>
    private static readonly Dictionary<string, DataSourceKind[]> KindKeys = new()
    {
        ["path"] = [DataSourceKind.FashionMnist, DataSourceKind.Mnist, DataSourceKind.Csv, DataSourceKind.Npz, DataSourceKind.Jets],
        ["train_images"] = [DataSourceKind.Idx], ["train_labels"] = [DataSourceKind.Idx],
        ["test_images"] = [DataSourceKind.Idx], ["test_labels"] = [DataSourceKind.Idx],
        ["features"] = [DataSourceKind.JetsDat], ["labels"] = [DataSourceKind.JetsDat],
        ["label_column"] = [DataSourceKind.Csv], ["header"] = [DataSourceKind.Csv],
        ["test_fraction"] = [DataSourceKind.Digits, DataSourceKind.Idx, DataSourceKind.Csv, DataSourceKind.Npz, DataSourceKind.Jets, DataSourceKind.JetsDat],
    };

    /// <summary>A config from JSON: an object as in the README, or just a name string ("digits").
    /// Errors name the key, prefixed by <paramref name="context"/> (e.g. "data"); <paramref name="topLevel"/>: the object is
    /// a whole data-set file, which may name its schema (`$schema`).</summary>
    public static DataConfig Parse(JsonElement json, string context = "data", bool topLevel = false)
    {
        if (json.ValueKind == JsonValueKind.String) return new DataConfig { Kind = ParseKind(json.GetString()!, context + ".name") };
        if (json.ValueKind != JsonValueKind.Object)
            throw new HetQException($"{context}: expected an object like {{ \"name\": \"digits\" }}, got {Describe(json)}");

        var seen = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (JsonProperty p in json.EnumerateObject())
        {
            if (topLevel && p.Name == Nn.JsonSpec.SchemaKey) continue; // a data-set file may name its schema
            if (Array.IndexOf(KnownKeys, p.Name) < 0)
                throw new HetQException($"{context}: unknown key '{p.Name}'; known keys: {string.Join(", ", KnownKeys)}");
            if (!seen.TryAdd(p.Name, p.Value)) throw new HetQException($"{context}.{p.Name}: key given twice");
        }
        var kind = seen.TryGetValue("name", out JsonElement n) ? ParseKind(String(n, context + ".name"), context + ".name") : DataSourceKind.Digits;
        foreach ((string key, DataSourceKind[] kinds) in KindKeys)
            if (seen.ContainsKey(key) && Array.IndexOf(kinds, kind) < 0)
                throw new HetQException($"{context}.{key}: does not apply to data set '{KindNames[kind]}'"
                    + (key == "test_fraction" ? " (it has its own test part)" : $"; it applies to {string.Join(", ", kinds.Select(k => KindNames[k]))}"));

        string? Str(string key) => seen.TryGetValue(key, out JsonElement e) ? String(e, $"{context}.{key}") : null;
        double? Num(string key, double min, double max, bool maxInclusive)
        {
            if (!seen.TryGetValue(key, out JsonElement e)) return null;
            if (e.ValueKind != JsonValueKind.Number) throw new HetQException($"{context}.{key}: expected a number, got {Describe(e)}");
            double v = e.GetDouble();
            if (!(v >= min && (maxInclusive ? v <= max : v < max)))
                throw new HetQException($"{context}.{key}: {v} is out of range; expected {min} <= value {(maxInclusive ? "<=" : "<")} {max}");
            return v;
        }
        long? Int(string key, long min, long max)
        {
            if (!seen.TryGetValue(key, out JsonElement e)) return null;
            if (e.ValueKind != JsonValueKind.Number || !e.TryGetInt64(out long v))
                throw new HetQException($"{context}.{key}: expected an integer, got {Describe(e)}");
            if (v < min || v > max) throw new HetQException($"{context}.{key}: {v} is out of range; expected {min}..{max}");
            return v;
        }
        bool? Bool(string key)
        {
            if (!seen.TryGetValue(key, out JsonElement e)) return null;
            return e.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw new HetQException($"{context}.{key}: expected true or false, got {Describe(e)}"),
            };
        }

        var cfg = new DataConfig
        {
            Kind = kind,
            Path = Str("path"),
            TrainImages = Str("train_images"),
            TrainLabels = Str("train_labels"),
            TestImages = Str("test_images"),
            TestLabels = Str("test_labels"),
            Features = Str("features"),
            Labels = Str("labels"),
            LabelColumn = (int)(Int("label_column", int.MinValue, int.MaxValue) ?? -1),
            Header = Bool("header"),
            Scale = Num("scale", 0, float.MaxValue, true) is double s ? (s > 0 ? (float)s : throw new HetQException($"{context}.scale: must be positive, got {s}")) : null,
            Standardize = Bool("standardize"),
            ValidationFraction = Num("validation_fraction", 0, 1, false) ?? 0.1,
            TestFraction = Num("test_fraction", 0, 1, true),
            Stratify = Bool("stratify") ?? true,
            Seed = Int("seed", long.MinValue, long.MaxValue) ?? 42,
            LimitTrain = (int?)Int("limit_train", 1, int.MaxValue),
            Shape = seen.TryGetValue("shape", out JsonElement sh) ? ParseShape(sh, context + ".shape") : null,
            Targets = Str("targets") is { } tg ? (tg == "input" ? tg : throw new HetQException($"{context}.targets: must be \"input\" (an autoencoder), given \"{CsvReader.Clip(tg)}\"; real-valued targets from columns are target_columns")) : null,
            TargetColumns = seen.TryGetValue("target_columns", out JsonElement tc) ? ParseColumns(tc, context + ".target_columns") : null,
            WeightColumn = (int?)Int("weight_column", 0, int.MaxValue),
            AnomalyClasses = seen.TryGetValue("anomaly_classes", out JsonElement ac) ? ParseClasses(ac, context + ".anomaly_classes") : null,
            SignalClasses = seen.TryGetValue("signal_classes", out JsonElement sc) ? ParseClasses(sc, context + ".signal_classes") : null,
            Downsample = (int?)Int("downsample", 1, 64),
        };
        if (cfg.AnomalyClasses is not null && cfg.SignalClasses is not null)
            throw new HetQException($"{context}: anomaly_classes and signal_classes do not go together (one makes an anomaly set, the other a tagger)");
        if (cfg.Targets is not null && cfg.TargetColumns is not null)
            throw new HetQException($"{context}: targets \"input\" and target_columns do not go together");
        RequireKeys(cfg, context);
        return cfg;
    }

    private static void RequireKeys(DataConfig c, string context)
    {
        void Need(string? value, string key, string example)
        {
            if (string.IsNullOrWhiteSpace(value))
                throw new HetQException($"{context}.{key}: required for data set '{c.Name}' (e.g. \"{key}\": \"{example}\")");
        }
        switch (c.Kind)
        {
            case DataSourceKind.Mnist: Need(c.Path, "path", "data/mnist"); break;
            case DataSourceKind.Csv: Need(c.Path, "path", "data.csv"); break;
            case DataSourceKind.Npz: Need(c.Path, "path", "data.npz"); break;
            case DataSourceKind.Jets: Need(c.Path, "path", "hls4ml_lhc_jets_hlf.arff"); break;
            case DataSourceKind.JetsDat:
                Need(c.Features, "features", "jets100_features.dat");
                Need(c.Labels, "labels", "jets100_labels_onehot.dat");
                break;
            case DataSourceKind.Idx:
                Need(c.TrainImages, "train_images", "train-images-idx3-ubyte.gz");
                Need(c.TrainLabels, "train_labels", "train-labels-idx1-ubyte.gz");
                if ((c.TestImages is null) != (c.TestLabels is null))
                    throw new HetQException($"{context}: test_images and test_labels go together; give both or neither");
                if (c.TestImages is not null && c.TestFraction is not null)
                    throw new HetQException($"{context}.test_fraction: does not apply when test_images and test_labels are given");
                break;
        }
    }

    private static DataSourceKind ParseKind(string name, string key)
    {
        foreach ((DataSourceKind k, string n) in KindNames)
            if (n == name) return k;
        throw new HetQException($"{key}: unknown data set '{name}'; known: {string.Join(", ", KindNames.Values)}");
    }

    private static string String(JsonElement e, string key)
        => e.ValueKind == JsonValueKind.String ? e.GetString()! : throw new HetQException($"{key}: expected a string, got {Describe(e)}");

    private static int[] ParseShape(JsonElement e, string key)
    {
        if (e.ValueKind != JsonValueKind.Array || e.GetArrayLength() == 0)
            throw new HetQException($"{key}: expected a non-empty array of positive integers like [28, 28, 1], got {Describe(e)}");
        var shape = new int[e.GetArrayLength()];
        int i = 0;
        foreach (JsonElement d in e.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt32(out int v) || v <= 0)
                throw new HetQException($"{key}[{i}]: expected a positive integer, got {Describe(d)}");
            shape[i++] = v;
        }
        return shape;
    }

    private static int[] ParseColumns(JsonElement e, string key)
    {
        if (e.ValueKind != JsonValueKind.Array || e.GetArrayLength() == 0)
            throw new HetQException($"{key}: expected a non-empty array of column indices like [0, 3], got {Describe(e)}");
        var cols = new List<int>();
        foreach (JsonElement d in e.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt32(out int v) || v < 0)
                throw new HetQException($"{key}[{cols.Count}]: expected a column index 0 or more, got {Describe(d)}");
            if (cols.Contains(v)) throw new HetQException($"{key}: column {v} is given twice");
            cols.Add(v);
        }
        return [.. cols];
    }

    private static string[] ParseClasses(JsonElement e, string key)
    {
        if (e.ValueKind != JsonValueKind.Array || e.GetArrayLength() == 0)
            throw new HetQException($"{key}: expected a non-empty array of class indices or names like [1, \"Bag\"], got {Describe(e)}");
        var names = new List<string>();
        foreach (JsonElement d in e.EnumerateArray())
        {
            string v = d.ValueKind switch
            {
                JsonValueKind.Number when d.TryGetInt32(out int i) && i >= 0 => i.ToString(System.Globalization.CultureInfo.InvariantCulture),
                JsonValueKind.String when d.GetString()!.Length > 0 => d.GetString()!,
                _ => throw new HetQException($"{key}[{names.Count}]: expected a class index or name, got {Describe(d)}"),
            };
            names.Add(v);
        }
        return [.. names];
    }

    private static string Describe(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => $"the string \"{CsvReader.Clip(e.GetString()!)}\"",
        JsonValueKind.Number => $"the number {e.GetRawText()}",
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.True or JsonValueKind.False => e.GetRawText(),
        _ => "null",
    };

    public bool Equals(DataConfig? other)
        => other is not null && Kind == other.Kind && Path == other.Path && TrainImages == other.TrainImages
           && TrainLabels == other.TrainLabels && TestImages == other.TestImages && TestLabels == other.TestLabels
           && Features == other.Features && Labels == other.Labels && LabelColumn == other.LabelColumn
           && Header == other.Header && Scale == other.Scale && Standardize == other.Standardize
           && ValidationFraction == other.ValidationFraction && TestFraction == other.TestFraction
           && Stratify == other.Stratify && Seed == other.Seed && LimitTrain == other.LimitTrain
           && (Shape is null ? other.Shape is null : other.Shape is not null && Shape.SequenceEqual(other.Shape))
           && Targets == other.Targets && WeightColumn == other.WeightColumn && Downsample == other.Downsample
           && Same(TargetColumns, other.TargetColumns) && Same(AnomalyClasses, other.AnomalyClasses) && Same(SignalClasses, other.SignalClasses);

    private static bool Same<T>(IReadOnlyList<T>? a, IReadOnlyList<T>? b) => a is null ? b is null : b is not null && a.SequenceEqual(b);

    public override int GetHashCode()
    {
        var h = new HashCode();
        h.Add(Kind); h.Add(Path); h.Add(TrainImages); h.Add(Features); h.Add(Seed);
        h.Add(ValidationFraction); h.Add(TestFraction); h.Add(LimitTrain);
        if (Shape is not null) foreach (int d in Shape) h.Add(d);
        return h.GetHashCode();
    }
}
