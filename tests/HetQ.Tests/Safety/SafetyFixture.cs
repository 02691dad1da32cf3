using System.Security.Cryptography;
using System.Text;

namespace HetQ.Tests.Safety;

/// <summary>What the safety tests share: a trained, quantized digits model and its design (written once), a way to run the
/// CLI in process, and a snapshot of a directory tree (paths and contents) to prove that nothing was written or lost.</summary>
public sealed class SafetyFixture : IDisposable
{
    public const string DigitsQat = """
    {
      "name": "digits-qat",
      "seed": 42,
      "data": { "name": "digits", "validation_fraction": 0.1, "test_fraction": 0.2 },
      "model": { "layers": [
          { "type": "dense", "units": 16, "activation": "relu", "name": "fc1" },
          { "type": "dense", "units": 10, "name": "output" } ] },
      "quantization": {
        "input": "ap_ufixed<5,1,RND_CONV,SAT>",
        "default": { "kernel": "quantized_bits(6,0,alpha=1)", "bias": "quantized_bits(6,0,alpha=1)", "activation": "quantized_relu(6,1)" }
      },
      "loss": { "type": "softmax_cross_entropy" },
      "optimizer": { "type": "adam", "learning_rate": 0.003 },
      "epochs": 1,
      "batch_size": 32
    }
    """;

    private static readonly object Gate = new();

    public string Root { get; } = Path.Combine(Path.GetTempPath(), "hetq-safety-" + Guid.NewGuid().ToString("N"));
    public string Model => Path.Combine(Root, "model");
    public string Design => Path.Combine(Root, "model", "hw");

    public SafetyFixture()
    {
        Directory.CreateDirectory(Root);
        string cfg = Path.Combine(Root, "train.json");
        File.WriteAllText(cfg, DigitsQat);
        var (code, _, err) = Run("train", cfg, "--out", Model);
        if (code != 0) throw new InvalidOperationException("fixture: train failed: " + err);
        (code, _, err) = Run("hw", Model);
        if (code != 0) throw new InvalidOperationException("fixture: hw failed: " + err);
    }

    /// <summary>Runs `hetq ARGS` in process; stdout and stderr captured.</summary>
    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        lock (Gate)
        {
            var (oldOut, oldErr) = (Console.Out, Console.Error);
            var (o, e) = (new StringWriter(), new StringWriter());
            Console.SetOut(o);
            Console.SetError(e);
            try
            {
                return (HetQ.Cli.Cli.Run(args), o.ToString(), e.ToString());
            }
            finally
            {
                Console.SetOut(oldOut);
                Console.SetError(oldErr);
            }
        }
    }

    /// <summary>Every path under <paramref name="dir"/> with a hash of its contents (links by their target).</summary>
    public static SortedDictionary<string, string> Snapshot(string dir)
    {
        var map = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (!Directory.Exists(dir)) return map;
        foreach (var p in Directory.EnumerateFileSystemEntries(dir, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
        {
            string rel = Path.GetRelativePath(dir, p);
            var info = new FileInfo(p);
            if (info.LinkTarget is { } link) map[rel] = "link:" + link;
            else if (Directory.Exists(p)) map[rel] = "dir";
            else map[rel] = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(p)));
        }
        return map;
    }

    /// <summary>Copies a directory tree (for a case that edits a model or design).</summary>
    public static string Copy(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var f in Directory.GetFiles(from)) File.Copy(f, Path.Combine(to, Path.GetFileName(f)));
        foreach (var d in Directory.GetDirectories(from)) Copy(d, Path.Combine(to, Path.GetFileName(d)));
        return to;
    }

    public static void Edit(string file, string from, string to)
    {
        string text = File.ReadAllText(file);
        if (!text.Contains(from, StringComparison.Ordinal)) throw new InvalidOperationException($"{file}: '{from}' not found");
        File.WriteAllText(file, ReplaceFirst(text, from, to), new UTF8Encoding(false));
    }

    private static string ReplaceFirst(string text, string from, string to)
    {
        int at = text.IndexOf(from, StringComparison.Ordinal);
        return text[..at] + to + text[(at + from.Length)..];
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}
