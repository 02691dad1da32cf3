using System.Text.Encodings.Web;
using System.Text.Json;

namespace HetQ.Cli;

/// <summary>The one JSON writer of every `--json` verb: compact, one object per line, with `&lt;`, `&gt;`, `'` and `&amp;` written as
/// themselves (`ap_fixed&lt;16,6&gt;`, not `ap_fixed\u003C16,6\u003E`). Safe on stdout: the output is never embedded in HTML.</summary>
internal static class CliJson
{
    /// <summary>The options every verb serializes with.</summary>
    public static readonly JsonSerializerOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The value as JSON text.</summary>
    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Options);

    /// <summary>Writes the value as one line of JSON to stdout.</summary>
    public static void Print<T>(T value) => Console.WriteLine(Serialize(value));
}
