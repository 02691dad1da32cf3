using System.Text;

namespace HetQ.Data;

/// <summary>One attribute of an ARFF file: numeric (<see cref="Values"/> null) or nominal.</summary>
internal sealed record ArffAttribute(string Name, string[]? Values)
{
    public bool IsNominal => Values is not null;
}

/// <summary>An ARFF file in memory: attributes and a row-major matrix of values; nominal values are
/// stored as the index of the value in the attribute's declaration.</summary>
internal sealed record ArffTable(string Relation, ArffAttribute[] Attributes, float[] Values, int Rows);

/// <summary>Reads dense ARFF files (Weka / OpenML): @relation, @attribute (numeric, real, integer,
/// nominal {a,b,...}), @data; % comments; single- or double-quoted names and values.</summary>
internal static class ArffReader
{
    public static ArffTable Read(string path, string what)
        => Parse(DataFile.ReadAllBytes(path, what), path, what);

    public static ArffTable Parse(byte[] bytes, string path, string what)
    {
        using var reader = new StreamReader(new MemoryStream(bytes, writable: false), Encoding.UTF8);
        string relation = "";
        var attributes = new List<ArffAttribute>();
        var values = new List<float>();
        var fields = new List<string>();
        Dictionary<string, int>[] nominalIndex = [];
        bool inData = false;
        int lineNo = 0, rows = 0;
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNo++;
            string t = line.Trim();
            if (t.Length == 0 || t[0] == '%') continue;
            string Where() => $"{what}: {path} line {lineNo}";
            if (!inData)
            {
                if (t[0] != '@') throw new HetQException($"{Where()}: expected @relation, @attribute or @data, found '{CsvReader.Clip(t)}'");
                string keyword = t.Split((char[])[' ', '\t'], 2)[0].ToLowerInvariant();
                string rest = t[keyword.Length..].Trim();
                switch (keyword)
                {
                    case "@relation":
                        relation = Unquote(rest);
                        break;
                    case "@attribute":
                        attributes.Add(ParseAttribute(rest, Where()));
                        break;
                    case "@data":
                        if (attributes.Count == 0) throw new HetQException($"{Where()}: @data before any @attribute");
                        nominalIndex = attributes.Select(a => a.Values is null ? [] :
                            a.Values.Select((v, k) => (v, k)).ToDictionary(p => p.v, p => p.k, StringComparer.Ordinal)).ToArray();
                        inData = true;
                        break;
                    default:
                        throw new HetQException($"{Where()}: unknown declaration {keyword}");
                }
                continue;
            }
            if (t[0] == '{') throw new HetQException($"{Where()}: sparse ARFF rows are not supported");
            SplitValues(t, fields, Where);
            if (fields.Count != attributes.Count)
                throw new HetQException($"{Where()}: {fields.Count} values, but {attributes.Count} attributes are declared");
            for (int j = 0; j < fields.Count; j++)
            {
                string f = fields[j];
                ArffAttribute a = attributes[j];
                if (f == "?") throw new HetQException($"{Where()}: missing value '?' for attribute '{a.Name}'");
                if (a.Values is not null)
                {
                    if (!nominalIndex[j].TryGetValue(f, out int k))
                        throw new HetQException($"{Where()}: '{CsvReader.Clip(f)}' is not a value of nominal attribute '{a.Name}' {{{string.Join(",", a.Values)}}}");
                    values.Add(k);
                }
                else if (CsvReader.TryParseNumber(f, out float v) && float.IsFinite(v)) values.Add(v);
                else throw new HetQException($"{Where()}: '{CsvReader.Clip(f)}' is not a number (attribute '{a.Name}')");
            }
            rows++;
        }
        if (!inData) throw new HetQException($"{what}: {path}: no @data section; is it an ARFF file?");
        return new ArffTable(relation, [.. attributes], [.. values], rows);
    }

    private static ArffAttribute ParseAttribute(string rest, string where)
    {
        string name;
        int i;
        if (rest.Length > 0 && rest[0] is '\'' or '"')
        {
            int close = rest.IndexOf(rest[0], 1);
            if (close < 0) throw new HetQException($"{where}: unterminated quoted attribute name");
            name = rest[1..close];
            i = close + 1;
        }
        else
        {
            i = 0;
            while (i < rest.Length && !char.IsWhiteSpace(rest[i]) && rest[i] != '{') i++;
            name = rest[..i];
        }
        if (name.Length == 0) throw new HetQException($"{where}: @attribute without a name");
        string type = rest[i..].Trim();
        if (type.StartsWith('{'))
        {
            if (!type.EndsWith('}')) throw new HetQException($"{where}: nominal attribute '{name}' lacks its closing brace");
            var parts = new List<string>();
            SplitValues(type[1..^1], parts, () => where);
            if (parts.Count == 0 || parts.Exists(p => p.Length == 0))
                throw new HetQException($"{where}: nominal attribute '{name}' has an empty value list or an empty value");
            return new ArffAttribute(name, [.. parts]);
        }
        return type.ToLowerInvariant() switch
        {
            "numeric" or "real" or "integer" => new ArffAttribute(name, null),
            "" => throw new HetQException($"{where}: attribute '{name}' has no type"),
            _ => throw new HetQException($"{where}: attribute '{name}' has type '{CsvReader.Clip(type)}'; only numeric, real, integer and nominal {{...}} are supported"),
        };
    }

    /// <summary>Splits on commas; values may be quoted with ' or " (backslash escapes the quote).</summary>
    private static void SplitValues(string text, List<string> fields, Func<string> where)
    {
        fields.Clear();
        var sb = new StringBuilder();
        int i = 0;
        while (true)
        {
            while (i < text.Length && char.IsWhiteSpace(text[i])) i++;
            if (i < text.Length && text[i] is '\'' or '"')
            {
                char q = text[i++];
                sb.Clear();
                while (true)
                {
                    if (i >= text.Length) throw new HetQException($"{where()}: unterminated quoted value");
                    if (text[i] == '\\' && i + 1 < text.Length) { sb.Append(text[i + 1]); i += 2; continue; }
                    if (text[i] == q) { i++; break; }
                    sb.Append(text[i++]);
                }
                while (i < text.Length && char.IsWhiteSpace(text[i])) i++;
                if (i < text.Length && text[i] != ',') throw new HetQException($"{where()}: text after a closing quote");
                fields.Add(sb.ToString());
            }
            else
            {
                int start = i;
                while (i < text.Length && text[i] != ',') i++;
                string v = text[start..i].Trim();
                int comment = v.IndexOf('%');
                if (comment >= 0 && i >= text.Length) v = v[..comment].Trim(); // trailing comment on the row
                fields.Add(v);
            }
            if (i >= text.Length) return;
            i++;
        }
    }

    private static string Unquote(string s)
        => s.Length >= 2 && s[0] is '\'' or '"' && s[^1] == s[0] ? s[1..^1] : s;
}
