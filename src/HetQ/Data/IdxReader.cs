using System.Buffers.Binary;

namespace HetQ.Data;

/// <summary>An array read from an IDX file: its dimensions and its values as float32.</summary>
internal sealed record IdxArray(int[] Dims, float[] Values)
{
    public int Count => Dims.Length == 0 ? 1 : Dims[0];
}

/// <summary>Reads IDX files (the MNIST / Fashion-MNIST format), gzip'd or raw.</summary>
internal static class IdxReader
{
    /// <summary>The whole array of an IDX file, converted to float32.</summary>
    public static IdxArray Read(string path, string? what = null, string? hint = null)
    {
        what ??= "idx";
        byte[] bytes = DataFile.ReadAllBytes(path, what, hint);
        return Parse(bytes, path, what);
    }

    /// <summary>A labels file: a one-dimensional IDX array of non-negative integers.</summary>
    public static int[] ReadLabels(string path, string? what = null, string? hint = null)
    {
        what ??= "idx";
        IdxArray a = Read(path, what, hint);
        if (a.Dims.Length != 1)
            throw new HetQException($"{what}: {path}: a labels file must have 1 dimension, this one has {a.Dims.Length} ({Shape(a.Dims)})");
        var labels = new int[a.Values.Length];
        for (int i = 0; i < labels.Length; i++)
        {
            float v = a.Values[i];
            if (v < 0 || v != MathF.Floor(v))
                throw new HetQException($"{what}: {path}: label {i} is {v}, not a non-negative integer");
            labels[i] = (int)v;
        }
        return labels;
    }

    /// <summary>An images file and its labels file as a data set; pixels are multiplied by
    /// <paramref name="scale"/> (1/255 maps uint8 pixels to [0,1]). Samples keep their image
    /// shape, channels last: (h, w) files become [h, w, 1].</summary>
    public static Dataset ReadDataset(string imagesPath, string labelsPath, string name, float scale = 1f / 255f,
        string[]? classNames = null, string? hint = null)
    {
        IdxArray images = Read(imagesPath, name, hint);
        int[] labels = ReadLabels(labelsPath, name, hint);
        if (images.Dims.Length < 1)
            throw new HetQException($"{name}: {imagesPath}: an images file needs at least 1 dimension");
        if (images.Count != labels.Length)
            throw new HetQException($"{name}: {imagesPath} has {images.Count} images but {labelsPath} has {labels.Length} labels");
        int[] sampleShape = images.Dims.Length switch
        {
            1 => [1],
            3 => [images.Dims[1], images.Dims[2], 1],
            _ => images.Dims[1..],
        };
        Normalization.Scale(images.Values, scale);
        int numClasses = classNames?.Length ?? 0;
        foreach (int l in labels) numClasses = Math.Max(numClasses, l + 1);
        if (classNames is not null && numClasses > classNames.Length)
            throw new HetQException($"{name}: {labelsPath} has label {numClasses - 1}, but the data set has only {classNames.Length} classes");
        return new Dataset(name, sampleShape, images.Values, labels, numClasses, classNames);
    }

    internal static IdxArray Parse(byte[] bytes, string path, string what)
    {
        if (bytes.Length < 4)
            throw new HetQException($"{what}: {path} is truncated: {bytes.Length} bytes, shorter than the 4-byte IDX magic");
        if (bytes[0] != 0 || bytes[1] != 0)
            throw new HetQException($"{what}: {path} is not an IDX file: bad magic {bytes[0]:x2} {bytes[1]:x2} {bytes[2]:x2} {bytes[3]:x2} (expected 00 00 <type> <dims>)");
        byte type = bytes[2];
        int elemSize = type switch
        {
            0x08 or 0x09 => 1,
            0x0B => 2,
            0x0C or 0x0D => 4,
            0x0E => 8,
            _ => throw new HetQException($"{what}: {path}: bad magic, unknown IDX element type 0x{type:x2} (expected 08, 09, 0B, 0C, 0D or 0E)"),
        };
        int ndims = bytes[3];
        int header = 4 + 4 * ndims;
        if (bytes.Length < header)
            throw new HetQException($"{what}: {path} is truncated: the header declares {ndims} dimensions ({header} bytes) but the file has {bytes.Length} bytes");
        var dims = new int[ndims];
        long count = 1;
        for (int d = 0; d < ndims; d++)
        {
            int n = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(4 + 4 * d));
            if (n < 0)
                throw new HetQException($"{what}: {path}: dimension {d} is negative ({n}); corrupt header");
            dims[d] = n;
            if (count <= Array.MaxLength) count *= n; // stays far from overflow; too large is reported below

        }
        long expected = header + count * elemSize;
        if (count > Array.MaxLength || expected > bytes.Length)
            throw new HetQException($"{what}: {path} is truncated: the header says {Shape(dims)} of {TypeName(type)} ({count * elemSize} data bytes) but only {bytes.Length - header} data bytes follow");
        if (expected < bytes.Length)
            throw new HetQException($"{what}: {path} is corrupt: {bytes.Length - expected} bytes follow the {Shape(dims)} {TypeName(type)} data the header declares");
        return new IdxArray(dims, Convert(bytes.AsSpan(header), type, (int)count));
    }

    private static float[] Convert(ReadOnlySpan<byte> data, byte type, int count)
    {
        var v = new float[count];
        switch (type)
        {
            case 0x08:
                for (int i = 0; i < count; i++) v[i] = data[i];
                break;
            case 0x09:
                for (int i = 0; i < count; i++) v[i] = (sbyte)data[i];
                break;
            case 0x0B:
                for (int i = 0; i < count; i++) v[i] = BinaryPrimitives.ReadInt16BigEndian(data[(2 * i)..]);
                break;
            case 0x0C:
                for (int i = 0; i < count; i++) v[i] = BinaryPrimitives.ReadInt32BigEndian(data[(4 * i)..]);
                break;
            case 0x0D:
                for (int i = 0; i < count; i++) v[i] = BinaryPrimitives.ReadSingleBigEndian(data[(4 * i)..]);
                break;
            case 0x0E:
                for (int i = 0; i < count; i++) v[i] = (float)BinaryPrimitives.ReadDoubleBigEndian(data[(8 * i)..]);
                break;
            default:
                throw new System.Diagnostics.UnreachableException();
        }
        return v;
    }

    private static string TypeName(byte type) => type switch
    {
        0x08 => "uint8", 0x09 => "int8", 0x0B => "int16", 0x0C => "int32", 0x0D => "float32", _ => "float64",
    };

    internal static string Shape(int[] dims) => dims.Length == 0 ? "a scalar" : string.Join("x", dims);
}
