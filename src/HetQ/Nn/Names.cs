namespace HetQ.Nn;

/// <summary>The rules for names and paths a model, configuration or design file may hold. Layer names become Verilog
/// identifiers and file names become paths, so they are checked where they are read (the writers can trust them):
/// a layer name is an identifier (an ASCII letter or '_', then letters, digits or '_', at most 64 characters); a model
/// name and other free text has no control characters; a file name named inside an artefact is a plain name inside it.</summary>
internal static class Names
{
    public const int MaxIdentifier = 64;
    public const int MaxText = 128;

    /// <summary>An ASCII identifier: [A-Za-z_][A-Za-z0-9_]*, 1 to <see cref="MaxIdentifier"/> characters.</summary>
    public static bool IsIdentifier(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxIdentifier) return false;
        if (!(char.IsAsciiLetter(name[0]) || name[0] == '_')) return false;
        foreach (char c in name) if (!(char.IsAsciiLetterOrDigit(c) || c == '_')) return false;
        return true;
    }

    /// <summary>Printable text: no control characters or line separators, at most <see cref="MaxText"/> characters.</summary>
    public static bool IsText(string? text) =>
        text is not null && text.Length <= MaxText && !text.Any(c => char.IsControl(c) || c is '\u2028' or '\u2029' or '\u0085');

    /// <summary>A file name that stays inside its directory: no separator, not '.' or '..', no control characters.</summary>
    public static bool IsPlainFileName(string? name) =>
        !string.IsNullOrEmpty(name) && name.Length <= 255 && name is not ("." or "..") && name.IndexOfAny(new[] { '/', '\\', ':' }) < 0
        && !name.Any(char.IsControl) && !Path.IsPathRooted(name);

    public static void CheckIdentifier(string? name, Func<HetQException> error)
    {
        if (!IsIdentifier(name)) throw error();
    }

    public static void CheckText(string? text, Func<HetQException> error)
    {
        if (!IsText(text)) throw error();
    }

    /// <summary>A user's layer-name pattern, anchored (the whole name must match): linear-time matching
    /// (<see cref="System.Text.RegularExpressions.RegexOptions.NonBacktracking"/>) with a one-second timeout besides, so
    /// no pattern can hang a run; a bad or unsupported pattern is an error from <paramref name="error"/>.</summary>
    public static System.Text.RegularExpressions.Regex Pattern(string pattern, Func<string, HetQException> error)
    {
        if (pattern.Length > 1000) throw error("the pattern is longer than 1000 characters");
        try
        {
            return new System.Text.RegularExpressions.Regex("^(?:" + pattern + ")$",
                System.Text.RegularExpressions.RegexOptions.NonBacktracking | System.Text.RegularExpressions.RegexOptions.CultureInvariant,
                TimeSpan.FromSeconds(1));
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException)
        {
            throw error($"'{Files.SafeOutput.Printable(pattern)}' is not a supported regular expression ({e.Message}; back-references and look-arounds are not supported)");
        }
    }

    /// <summary>Whether <paramref name="name"/> matches <paramref name="pattern"/> as <see cref="Pattern"/> builds it.</summary>
    public static bool Matches(string name, string pattern, Func<string, HetQException> error) => Pattern(pattern, error).IsMatch(name);

    /// <summary>The layer-name rule, for messages.</summary>
    public static string IdentifierRule => "must be an identifier: an ASCII letter or '_', then letters, digits or '_', at most 64 characters";
}
