using System.Globalization;

namespace HetQ.Data;

/// <summary>Reads the hls4ml LHC jet-tagging data set (OpenML <c>hls4ml_lhc_jets_hlf</c>, 16
/// high-level features, classes g q t w z) from its OpenML ARFF or a CSV with header, and the
/// whitespace-separated .dat reference jets (features and one-hot labels).</summary>
internal static class JetsReader
{
    /// <summary>The five jet classes in the data set's order: gluon, quark, top, W, Z.</summary>
    public static IReadOnlyList<string> ClassNames { get; } = ["g", "q", "t", "w", "z"];

    /// <summary>The number of high-level features per jet.</summary>
    public const int FeatureCount = 16;

    /// <summary>The jets of an .arff or .csv(.gz) file, unscaled, classes in the order g q t w z.</summary>
    public static Dataset Read(string path, string? name = null)
    {
        name ??= "jets";
        string p = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? path[..^3] : path;
        if (p.EndsWith(".arff", StringComparison.OrdinalIgnoreCase)) return ReadArff(path, name);
        if (p.EndsWith(".csv", StringComparison.OrdinalIgnoreCase)) return ReadCsv(path, name);
        throw new HetQException($"{name}: {path}: expected an OpenML .arff or a .csv file (optionally .gz)");
    }

    /// <summary>An OpenML ARFF: numeric feature attributes, then the nominal class attribute last.</summary>
    public static Dataset ReadArff(string path, string? name = null)
    {
        name ??= "jets";
        ArffTable t = ArffReader.Read(path, name);
        int cols = t.Attributes.Length;
        ArffAttribute cls = t.Attributes[^1];
        if (cls.Values is null)
            throw new HetQException($"{name}: {path}: the last attribute '{cls.Name}' must be the nominal class {{g,q,t,w,z}}, it is numeric");
        CheckFeatureCount(cols - 1, path, name);
        foreach (ArffAttribute a in t.Attributes[..^1])
            if (a.IsNominal) throw new HetQException($"{name}: {path}: feature attribute '{a.Name}' must be numeric, it is nominal");
        int[] map = new int[cls.Values.Length];
        for (int k = 0; k < map.Length; k++)
            map[k] = ClassIndex(cls.Values[k]) ?? throw new HetQException(
                $"{name}: {path}: class value '{cls.Values[k]}' of attribute '{cls.Name}' is not one of {string.Join(", ", ClassNames)}");
        var features = new float[t.Rows * (cols - 1)];
        var labels = new int[t.Rows];
        for (int i = 0; i < t.Rows; i++)
        {
            t.Values.AsSpan(i * cols, cols - 1).CopyTo(features.AsSpan(i * (cols - 1)));
            labels[i] = map[(int)t.Values[i * cols + cols - 1]];
        }
        return new Dataset(name, [cols - 1], features, labels, ClassNames.Count, [.. ClassNames]);
    }

    /// <summary>A CSV with a header row: 16 feature columns and a class column (named "class", else
    /// the last) holding g q t w z or 0..4.</summary>
    public static Dataset ReadCsv(string path, string? name = null)
    {
        name ??= "jets";
        byte[] bytes = DataFile.ReadAllBytes(path, name);
        CsvReader.CsvColumns c = CsvReader.ReadColumns(bytes, path, name, header: true, (header, count) =>
        {
            if (header is null || Array.TrueForAll(header, h => CsvReader.TryParseNumber(h, out _)))
                throw new HetQException($"{name}: {path}: expected a header row naming the columns, the first row holds numbers");
            int named = Array.FindIndex(header, h => string.Equals(h.Trim('\'', '"'), "class", StringComparison.OrdinalIgnoreCase));
            return named >= 0 ? named : count - 1;
        });
        CheckFeatureCount(c.FeatureCount, path, name);
        var labels = new int[c.LabelText.Length];
        for (int i = 0; i < labels.Length; i++)
        {
            string v = c.LabelText[i].Trim().Trim('\'', '"');
            int? k = ClassIndex(v);
            if (k is null && int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n < ClassNames.Count) k = n;
            labels[i] = k ?? throw new HetQException(
                $"{name}: {path} line {c.LineNumbers[i]}: class '{CsvReader.Clip(v)}' is not one of {string.Join(", ", ClassNames)} or 0..4");
        }
        return new Dataset(name, [c.FeatureCount], c.Features, labels, ClassNames.Count, [.. ClassNames]);
    }

    /// <summary>Whitespace-separated jets: a features file (one jet per line, 16 values) and a labels
    /// file, one-hot (5 values per line) or one class index per line. Values are kept as they are.</summary>
    public static Dataset ReadDat(string featuresPath, string labelsPath, string? name = null)
    {
        name ??= "jets-dat";
        (float[] x, int rows, int cols) = ReadMatrix(featuresPath, name);
        CheckFeatureCount(cols, featuresPath, name);
        (float[] y, int labelRows, int labelCols) = ReadMatrix(labelsPath, name);
        if (labelRows != rows)
            throw new HetQException($"{name}: {featuresPath} has {rows} jets but {labelsPath} has {labelRows} label rows");
        var labels = new int[rows];
        if (labelCols == 1)
        {
            for (int i = 0; i < rows; i++)
            {
                float v = y[i];
                if (v < 0 || v >= ClassNames.Count || v != MathF.Floor(v))
                    throw new HetQException($"{name}: {labelsPath} line {i + 1}: label {v} is not a class index 0..4");
                labels[i] = (int)v;
            }
        }
        else if (labelCols == ClassNames.Count)
        {
            for (int i = 0; i < rows; i++)
            {
                ReadOnlySpan<float> r = y.AsSpan(i * labelCols, labelCols);
                int hot = r.IndexOf(1f);
                int ones = 0, zeros = 0;
                foreach (float v in r) { if (v == 1f) ones++; else if (v == 0f) zeros++; }
                if (ones != 1 || zeros != labelCols - 1)
                    throw new HetQException($"{name}: {labelsPath} line {i + 1}: not a one-hot row (one 1 and four 0s expected)");
                labels[i] = hot;
            }
        }
        else throw new HetQException($"{name}: {labelsPath}: {labelCols} values per line; expected 5 (one-hot g q t w z) or 1 (class index)");
        return new Dataset(name, [cols], x, labels, ClassNames.Count, [.. ClassNames]);
    }

    /// <summary>A whitespace-separated matrix of numbers; every non-empty line one row of equal length.</summary>
    internal static (float[] Values, int Rows, int Cols) ReadMatrix(string path, string what)
    {
        string text = DataFile.ReadAllText(path, what);
        var values = new List<float>();
        int rows = 0, cols = -1, lineNo = 0;
        foreach (string line in text.Split('\n'))
        {
            lineNo++;
            string[] parts = line.Split((char[])[' ', '\t', '\r', ','], StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 0 || parts[0].StartsWith('#')) continue;
            if (cols < 0) cols = parts.Length;
            else if (parts.Length != cols)
                throw new HetQException($"{what}: {path} line {lineNo}: {parts.Length} values, but the first row has {cols}");
            foreach (string p in parts)
            {
                if (!CsvReader.TryParseNumber(p, out float v) || !float.IsFinite(v))
                    throw new HetQException($"{what}: {path} line {lineNo}: '{CsvReader.Clip(p)}' is not a finite number");
                values.Add(v);
            }
            rows++;
        }
        if (rows == 0) throw new HetQException($"{what}: {path} has no rows");
        return ([.. values], rows, cols);
    }

    private static int? ClassIndex(string v)
    {
        for (int k = 0; k < ClassNames.Count; k++)
            if (string.Equals(v, ClassNames[k], StringComparison.OrdinalIgnoreCase)) return k;
        return null;
    }

    private static void CheckFeatureCount(int count, string path, string name)
    {
        if (count != FeatureCount)
            throw new HetQException($"{name}: {path}: {count} feature columns; the jet data set has {FeatureCount} (plus the class)");
    }
}
