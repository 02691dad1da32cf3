using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;

namespace HetQ.Data;

/// <summary>An array read from a .npy file: NumPy dtype string, shape, and the values as float32.</summary>
internal sealed record NpyArray(string Dtype, int[] Shape, float[] Values)
{
    public int Count => Shape.Length == 0 ? 1 : Shape[0];
}

/// <summary>Reads NumPy .npy arrays (little-endian, C order; float32/64, signed and unsigned
/// integers, bool) and .npz archives of them.</summary>
internal static partial class NpyReader
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>The array of a .npy file.</summary>
    public static NpyArray Read(string path, string? what = null)
    {
        what ??= "npy";
        return Parse(DataFile.ReadAllBytes(path, what), path, what);
    }

    /// <summary>The arrays of a .npz archive (compressed or not), keyed by entry name without ".npy".</summary>
    public static IReadOnlyDictionary<string, NpyArray> ReadNpz(string path, string? what = null)
    {
        what ??= "npz";
        DataFile.RequireExists(path, what);
        var result = new Dictionary<string, NpyArray>(StringComparer.Ordinal);
        try
        {
            using ZipArchive zip = ZipFile.OpenRead(path);
            foreach (ZipArchiveEntry entry in zip.Entries)
            {
                if (entry.FullName.EndsWith('/')) continue;
                string key = entry.FullName.EndsWith(".npy", StringComparison.Ordinal) ? entry.FullName[..^4] : entry.FullName;
                using Stream s = entry.Open();
                using var ms = new MemoryStream();
                s.CopyTo(ms);
                result[key] = Parse(ms.ToArray(), $"{path}[{entry.FullName}]", what);
            }
        }
        catch (InvalidDataException e)
        {
            throw new HetQException($"{what}: {path} is not a valid .npz (zip) archive (truncated or corrupt): {e.Message}", e);
        }
        catch (IOException e)
        {
            throw new HetQException($"{what}: cannot read {path}: {e.Message}", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new HetQException($"{what}: cannot read {path}: {e.Message}", e);
        }
        return result;
    }

    internal static NpyArray Parse(byte[] bytes, string path, string what)
    {
        if (bytes.Length < 10 || !bytes.AsSpan(0, 6).SequenceEqual(Magic))
            throw new HetQException($"{what}: {path} is not a .npy file (bad magic; expected \\x93NUMPY)");
        int major = bytes[6];
        int headerLen, headerStart;
        if (major == 1) { headerLen = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8)); headerStart = 10; }
        else if (major is 2 or 3)
        {
            if (bytes.Length < 12) throw new HetQException($"{what}: {path} is truncated in its header");
            headerLen = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8)), int.MaxValue);
            headerStart = 12;
        }
        else throw new HetQException($"{what}: {path}: unsupported .npy format version {major}.{bytes[7]}");
        if ((long)headerStart + headerLen > bytes.Length)
            throw new HetQException($"{what}: {path} is truncated: the header declares {headerLen} bytes but the file ends first");
        string header = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(bytes, headerStart, headerLen);

        string descr = Field(DescrPattern(), header, "descr", path, what);
        string fortran = Field(FortranPattern(), header, "fortran_order", path, what);
        string shapeText = Field(ShapePattern(), header, "shape", path, what);
        if (fortran == "True")
            throw new HetQException($"{what}: {path}: fortran_order arrays are not supported; save it in C order (numpy.ascontiguousarray)");
        int[] shape = ParseShape(shapeText, path, what);

        (int size, Func<ReadOnlySpan<byte>, float> read) = Element(descr, path, what);
        long count = 1;
        foreach (int d in shape) if (count <= Array.MaxLength) count *= d;
        int dataStart = headerStart + headerLen;
        long expected = count * size;
        if (count > Array.MaxLength || dataStart + expected > bytes.Length)
            throw new HetQException($"{what}: {path} is truncated: shape ({string.Join(", ", shape)}) of {descr} needs {expected} data bytes, the file has {bytes.Length - dataStart}");
        if (dataStart + expected < bytes.Length)
            throw new HetQException($"{what}: {path} is corrupt: {bytes.Length - dataStart - expected} bytes follow the data the header declares");
        var values = new float[count];
        ReadOnlySpan<byte> data = bytes.AsSpan(dataStart);
        for (int i = 0; i < values.Length; i++) values[i] = read(data.Slice(i * size, size));
        return new NpyArray(descr, shape, values);
    }

    private static (int Size, Func<ReadOnlySpan<byte>, float> Read) Element(string descr, string path, string what)
    {
        if (descr.Length < 3 || descr[0] is not ('<' or '>' or '|' or '='))
            throw new HetQException($"{what}: {path}: unsupported dtype '{descr}'");
        if (descr[0] == '>' && descr[1..] is not ("u1" or "i1" or "b1"))
            throw new HetQException($"{what}: {path}: big-endian dtype '{descr}' is not supported; save it little-endian (array.astype('<{descr[1..]}'))");
        return descr[1..] switch
        {
            "f4" => (4, b => BinaryPrimitives.ReadSingleLittleEndian(b)),
            "f8" => (8, b => (float)BinaryPrimitives.ReadDoubleLittleEndian(b)),
            "f2" => (2, b => (float)BinaryPrimitives.ReadHalfLittleEndian(b)),
            "u1" => (1, b => b[0]),
            "b1" => (1, b => b[0] != 0 ? 1f : 0f),
            "i1" => (1, b => (sbyte)b[0]),
            "i2" => (2, b => BinaryPrimitives.ReadInt16LittleEndian(b)),
            "u2" => (2, b => BinaryPrimitives.ReadUInt16LittleEndian(b)),
            "i4" => (4, b => BinaryPrimitives.ReadInt32LittleEndian(b)),
            "u4" => (4, b => BinaryPrimitives.ReadUInt32LittleEndian(b)),
            "i8" => (8, b => BinaryPrimitives.ReadInt64LittleEndian(b)),
            "u8" => (8, b => BinaryPrimitives.ReadUInt64LittleEndian(b)),
            _ => throw new HetQException($"{what}: {path}: unsupported dtype '{descr}' (supported: float16/32/64, int8..64, uint8..64, bool)"),
        };
    }

    private static string Field(Regex pattern, string header, string key, string path, string what)
    {
        Match m = pattern.Match(header);
        if (!m.Success) throw new HetQException($"{what}: {path}: the .npy header has no valid '{key}' entry: {header.Trim()}");
        return m.Groups[1].Value;
    }

    private static int[] ParseShape(string text, string path, string what)
    {
        string[] parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var shape = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            string p = parts[i].TrimEnd('L');
            if (!int.TryParse(p, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out shape[i]))
                throw new HetQException($"{what}: {path}: bad shape ({text}) in the .npy header");
        }
        return shape;
    }

    [GeneratedRegex(@"['""]descr['""]\s*:\s*['""]([^'""]+)['""]")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"['""]fortran_order['""]\s*:\s*(True|False)")]
    private static partial Regex FortranPattern();

    [GeneratedRegex(@"['""]shape['""]\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}
