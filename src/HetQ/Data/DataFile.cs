using System.Buffers.Binary;
using System.IO.Compression;

namespace HetQ.Data;

/// <summary>Reads data files whole, gzip'd or plain, turning IO and format failures into
/// <see cref="HetQException"/>s that name the file.</summary>
internal static class DataFile
{
    /// <summary>The bytes of <paramref name="path"/>, decompressed when it starts with the gzip magic.
    /// <paramref name="what"/> (e.g. "fashion-mnist") prefixes error messages; <paramref name="hint"/>
    /// (e.g. how to install the file) is appended to the not-found message.</summary>
    public static byte[] ReadAllBytes(string path, string what, string? hint = null)
    {
        RequireExists(path, what, hint);
        byte[] raw;
        try
        {
            raw = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new HetQException($"{what}: cannot read {path}: {e.Message}", e);
        }
        return IsGzip(raw) ? Gunzip(raw, path, what) : raw;
    }

    /// <summary>The text of <paramref name="path"/> (UTF-8), decompressed when gzip'd.</summary>
    public static string ReadAllText(string path, string what, string? hint = null)
        => System.Text.Encoding.UTF8.GetString(ReadAllBytes(path, what, hint));

    public static void RequireExists(string path, string what, string? hint = null)
    {
        if (File.Exists(path)) return;
        string where = Directory.Exists(path) ? $"{path} is a directory, not a file" : $"file not found: {path}";
        throw new HetQException($"{what}: {where}{(hint is null ? "" : $" ({hint})")}");
    }

    public static bool IsGzip(ReadOnlySpan<byte> bytes) => bytes.Length >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b;

    /// <summary>The decompressed bytes. GZipStream silently stops at a truncated end, so the length
    /// is checked against the trailer's ISIZE (single-member files, as gzip writes them).</summary>
    public static byte[] Gunzip(byte[] compressed, string path, string what)
    {
        byte[] result;
        try
        {
            using var input = new MemoryStream(compressed, writable: false);
            using var gz = new GZipStream(input, CompressionMode.Decompress);
            using var output = new MemoryStream(capacity: (int)Math.Min(compressed.Length * 4L, Array.MaxLength / 2));
            gz.CopyTo(output);
            result = output.ToArray();
        }
        catch (InvalidDataException e)
        {
            throw new HetQException($"{what}: {path} is not a valid gzip file (truncated or corrupt): {e.Message}", e);
        }
        catch (EndOfStreamException e)
        {
            throw new HetQException($"{what}: {path} is a truncated gzip file", e);
        }
        if (compressed.Length < 18)
            throw new HetQException($"{what}: {path} is a truncated gzip file ({compressed.Length} bytes)");
        uint isize = BinaryPrimitives.ReadUInt32LittleEndian(compressed.AsSpan(compressed.Length - 4));
        if (isize != (uint)result.Length)
            throw new HetQException($"{what}: {path} is a truncated or corrupt gzip file: it decompresses to {result.Length} bytes "
                + $"but its trailer says {isize} (if it is several gzip members concatenated, decompress it first)");
        return result;
    }

    /// <summary><paramref name="path"/> resolved against <paramref name="baseDirectory"/> when relative.</summary>
    public static string Resolve(string path, string baseDirectory)
    {
        if (path.StartsWith("~/", StringComparison.Ordinal))
            path = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), path[2..]);
        return Path.GetFullPath(Path.IsPathRooted(path) ? path : Path.Combine(baseDirectory, path));
    }
}
