using System.IO.Compression;
using System.Text;

namespace HetQ.Data;

/// <summary>Writes NumPy .npy files (version 1.0, little-endian float64 or int64, C order) and .npz archives of
/// them, atomically (a temporary file beside the target, then a move).</summary>
public static class NpyWriter
{
    public static void Write(string path, double[] values, int[] shape) => Atomic(path, s => WriteTo(s, values, shape));

    public static void Write(string path, long[] values, int[] shape) => Atomic(path, s => WriteTo(s, values, shape));

    /// <summary>An .npz with one array per entry (name without ".npy"), float64 or int64.</summary>
    public static void WriteNpz(string path, IReadOnlyList<(string Name, Array Values, int[] Shape)> arrays) => Atomic(path, s =>
    {
        using var zip = new ZipArchive(s, ZipArchiveMode.Create, leaveOpen: true);
        foreach (var (name, values, shape) in arrays)
        {
            using var e = zip.CreateEntry(name + ".npy", CompressionLevel.Optimal).Open();
            switch (values)
            {
                case double[] d: WriteTo(e, d, shape); break;
                case long[] l: WriteTo(e, l, shape); break;
                default: throw new ArgumentException($"array '{name}': float64 or int64 values expected", nameof(arrays));
            }
        }
    });

    private static void WriteTo(Stream s, double[] values, int[] shape)
    {
        Header(s, "<f8", shape, values.Length);
        var buf = new byte[8];
        foreach (double v in values)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteDoubleLittleEndian(buf, v);
            s.Write(buf);
        }
    }

    private static void WriteTo(Stream s, long[] values, int[] shape)
    {
        Header(s, "<i8", shape, values.Length);
        var buf = new byte[8];
        foreach (long v in values)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(buf, v);
            s.Write(buf);
        }
    }

    private static void Header(Stream s, string dtype, int[] shape, int count)
    {
        if (shape.Aggregate(1L, (a, b) => a * b) != count) throw new ArgumentException($"shape [{string.Join(",", shape)}] does not hold {count} values", nameof(shape));
        string dims = shape.Length == 1 ? $"{shape[0]}," : string.Join(", ", shape);
        string dict = $"{{'descr': '{dtype}', 'fortran_order': False, 'shape': ({dims}), }}";
        // Magic, version 1.0, header length; the header is padded with spaces to a multiple of 64 and ends in \n.
        int total = 10 + dict.Length + 1;
        int pad = (64 - total % 64) % 64;
        string header = dict + new string(' ', pad) + "\n";
        s.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0]);
        s.Write(BitConverter.GetBytes((ushort)header.Length));
        s.Write(Encoding.ASCII.GetBytes(header));
    }

    private static void Atomic(string path, Action<Stream> write)
    {
        string full = Path.GetFullPath(path);
        string tmp = full + ".tmp-" + Environment.ProcessId;
        try
        {
            using (var f = File.Create(tmp)) write(f);
            File.Move(tmp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }
}
