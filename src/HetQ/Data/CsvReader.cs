using System.Globalization;
using System.Text;

namespace HetQ.Data;

/// <summary>Reads comma-separated numeric data (gzip'd or plain, optional header, one label column)
/// into a <see cref="Dataset"/>.</summary>
internal static class CsvReader
{
    private const int MaxClasses = 10_000;

    /// <summary>A CSV file as a flat data set: every column except <paramref name="labelColumn"/>
    /// (negative counts from the end, -1: the last) is a feature, multiplied by <paramref name="scale"/>.
    /// <paramref name="header"/> says whether the first row names the columns; null: a first row
    /// with any non-numeric field is a header.</summary>
    /// <remarks>Labels that are all non-negative integers are class indices; otherwise the distinct
    /// label strings, sorted ordinally, become the classes.</remarks>
    public static Dataset Read(string path, string? name = null, int labelColumn = -1, bool? header = null, float scale = 1f)
    {
        name ??= "csv";
        return Read(DataFile.ReadAllBytes(path, name), path, name, labelColumn, header, scale);
    }

    internal static Dataset Read(byte[] bytes, string path, string name, int labelColumn, bool? header, float scale,
        string[]? classNames = null)
    {
        CsvColumns c = ReadColumns(bytes, path, name, header, (_, count) =>
        {
            int col = labelColumn < 0 ? count + labelColumn : labelColumn;
            if (col < 0 || col >= count)
                throw new HetQException($"{name}: {path}: label column {labelColumn} does not exist, the file has {count} columns");
            return col;
        });
        Normalization.Scale(c.Features, scale);
        (int[] labels, string[]? names) = MapLabels(c, path, name);
        int numClasses = names?.Length ?? (labels.Length == 0 ? 0 : labels.Max() + 1);
        if (classNames is not null)
        {
            if (numClasses > classNames.Length)
                throw new HetQException($"{name}: {path}: label {numClasses - 1} is out of range, the data set has {classNames.Length} classes");
            (numClasses, names) = (classNames.Length, classNames);
        }
        return new Dataset(name, [c.FeatureCount], c.Features, labels, numClasses, names);
    }

    private static (int[] Labels, string[]? Names) MapLabels(CsvColumns c, string path, string name)
    {
        var labels = new int[c.LabelText.Length];
        bool integral = true;
        for (int i = 0; i < labels.Length && integral; i++)
        {
            integral = double.TryParse(c.LabelText[i], NumberStyles.Float, CultureInfo.InvariantCulture, out double v)
                       && v >= 0 && v == Math.Floor(v) && v < int.MaxValue;
            if (integral) labels[i] = (int)v;
        }
        if (integral)
        {
            int max = labels.Length == 0 ? 0 : labels.Max();
            if (max >= MaxClasses)
                throw new HetQException($"{name}: {path}: the label column {c.LabelColumn} holds values up to {max}; is it the right column?");
            return (labels, null);
        }
        string[] names = c.LabelText.Distinct().Order(StringComparer.Ordinal).ToArray();
        if (names.Length > MaxClasses)
            throw new HetQException($"{name}: {path}: the label column {c.LabelColumn} has {names.Length} distinct non-integer values; is it the right column?");
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int k = 0; k < names.Length; k++) index[names[k]] = k;
        for (int i = 0; i < labels.Length; i++) labels[i] = index[c.LabelText[i]];
        return (labels, names);
    }

    /// <summary>The columns of a CSV file: features (all numeric) and the label column as text.</summary>
    internal sealed record CsvColumns(string[]? Header, int LabelColumn, int FeatureCount, float[] Features, string[] LabelText, int[] LineNumbers);

    /// <remarks><paramref name="chooseLabelColumn"/> gets the header (or null) and the column count
    /// and returns the label column index.</remarks>
    internal static CsvColumns ReadColumns(byte[] bytes, string path, string what, bool? header,
        Func<string[]?, int, int> chooseLabelColumn)
    {
        using var reader = new StreamReader(new MemoryStream(bytes, writable: false), Encoding.UTF8);
        var features = new List<float>();
        var labelText = new List<string>();
        var lines = new List<int>();
        var interned = new Dictionary<string, string>(StringComparer.Ordinal);
        var fields = new List<string>();
        string[]? headerNames = null;
        int columns = -1, labelCol = -1, lineNo = 0;
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNo++;
            if (line.Length == 0 || string.IsNullOrWhiteSpace(line)) continue;
            SplitFields(line, fields, path, what, lineNo);
            if (columns < 0)
            {
                columns = fields.Count;
                bool isHeader = header ?? fields.Exists(f => !TryParseNumber(f, out _));
                if (isHeader) headerNames = [.. fields];
                if (columns < 2)
                    throw new HetQException($"{what}: {path} line {lineNo}: {columns} column; expected features and a label separated by commas");
                labelCol = chooseLabelColumn(headerNames, columns);
                if (isHeader) continue;
            }
            if (fields.Count != columns)
                throw new HetQException($"{what}: {path} line {lineNo}: {fields.Count} columns, but the first row has {columns}");
            for (int j = 0; j < columns; j++)
            {
                if (j == labelCol)
                {
                    string t = fields[j];
                    if (!interned.TryGetValue(t, out string? shared)) interned[t] = shared = t;
                    labelText.Add(shared);
                    continue;
                }
                if (!TryParseNumber(fields[j], out float v) || !float.IsFinite(v))
                    throw new HetQException($"{what}: {path} line {lineNo}, column {j + 1}: '{Clip(fields[j])}' is not a finite number");
                features.Add(v);
            }
            lines.Add(lineNo);
        }
        if (columns < 0) throw new HetQException($"{what}: {path} is empty");
        return new CsvColumns(headerNames, labelCol, columns - 1, [.. features], [.. labelText], [.. lines]);
    }

    /// <summary>Splits one CSV line on commas; double-quoted fields may contain commas and "" escapes.
    /// Fields are trimmed and unquoted.</summary>
    internal static void SplitFields(string line, List<string> fields, string path, string what, int lineNo)
    {
        fields.Clear();
        var sb = new StringBuilder();
        int i = 0;
        while (true)
        {
            while (i < line.Length && (line[i] == ' ' || line[i] == '\t')) i++;
            sb.Clear();
            if (i < line.Length && line[i] == '"')
            {
                i++;
                while (true)
                {
                    if (i >= line.Length)
                        throw new HetQException($"{what}: {path} line {lineNo}: unterminated quoted field");
                    if (line[i] == '"')
                    {
                        if (i + 1 < line.Length && line[i + 1] == '"') { sb.Append('"'); i += 2; continue; }
                        i++;
                        break;
                    }
                    sb.Append(line[i++]);
                }
                while (i < line.Length && line[i] != ',')
                {
                    if (!char.IsWhiteSpace(line[i]))
                        throw new HetQException($"{what}: {path} line {lineNo}: text after a closing quote");
                    i++;
                }
                fields.Add(sb.ToString());
            }
            else
            {
                int start = i;
                while (i < line.Length && line[i] != ',') i++;
                fields.Add(line[start..i].Trim());
            }
            if (i >= line.Length) return;
            i++; // the comma
        }
    }

    internal static bool TryParseNumber(string s, out float value)
        => float.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out value);

    internal static string Clip(string s) => s.Length <= 40 ? s : s[..37] + "...";
}
