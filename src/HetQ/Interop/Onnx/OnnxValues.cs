using Google.Protobuf;
using Onnx;

namespace HetQ.Interop.Onnx;

/// <summary>Reads ONNX tensors and node attributes (through the protobuf classes compiled from onnx.proto).</summary>
internal static class OnnxValues
{
    /// <summary>Parses an ONNX model file; a missing or malformed file is a <see cref="HetQException"/> naming it.</summary>
    public static ModelProto Load(string file)
    {
        if (!File.Exists(file)) throw new HetQException($"{file}: file not found");
        try
        {
            using var stream = File.OpenRead(file);
            var model = ModelProto.Parser.ParseFrom(stream);
            if (model.Graph is null || model.Graph.Node.Count == 0) throw new HetQException($"{file}: the ONNX model has no graph nodes");
            return model;
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new HetQException($"{file}: not an ONNX model ({e.Message})", e);
        }
    }

    /// <summary>The values of a float, double or integer tensor as doubles, and its dimensions.</summary>
    public static (double[] Values, long[] Dims) Read(TensorProto t, string where)
    {
        long[] dims = t.Dims.ToArray();
        long count = dims.Aggregate(1L, (a, b) => a * b);
        if (t.HasDataLocation && t.DataLocation == TensorProto.Types.DataLocation.External)
            throw new HetQException($"{where}: tensor '{t.Name}' is stored in an external file; save the model with its weights inside (onnx.save(..., save_as_external_data=False))");
        var type = (TensorProto.Types.DataType)t.DataType;
        byte[] raw = t.RawData.ToByteArray();
        double[] v = type switch
        {
            TensorProto.Types.DataType.Float => raw.Length > 0 ? Cast<float>(raw).Select(x => (double)x).ToArray() : t.FloatData.Select(x => (double)x).ToArray(),
            TensorProto.Types.DataType.Double => raw.Length > 0 ? Cast<double>(raw) : t.DoubleData.ToArray(),
            TensorProto.Types.DataType.Int64 => raw.Length > 0 ? Cast<long>(raw).Select(x => (double)x).ToArray() : t.Int64Data.Select(x => (double)x).ToArray(),
            TensorProto.Types.DataType.Int32 => raw.Length > 0 ? Cast<int>(raw).Select(x => (double)x).ToArray() : t.Int32Data.Select(x => (double)x).ToArray(),
            _ => throw new HetQException($"{where}: tensor '{t.Name}' has data type {type}; float, double, int32 and int64 are supported"),
        };
        if (v.Length != count) throw new HetQException($"{where}: tensor '{t.Name}' has {v.Length} values for dimensions [{string.Join(",", dims)}]");
        return (v, dims);
    }

    private static T[] Cast<T>(byte[] raw) where T : struct
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX raw data is little-endian");
        return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, T>(raw).ToArray();
    }

    public static AttributeProto? Attribute(NodeProto n, string name) => n.Attribute.FirstOrDefault(a => a.Name == name);

    public static long Int(NodeProto n, string name, long fallback) => Attribute(n, name) is { } a ? a.I : fallback;

    public static float Float(NodeProto n, string name, float fallback) => Attribute(n, name) is { } a ? a.F : fallback;

    public static string String(NodeProto n, string name, string fallback) => Attribute(n, name) is { } a ? a.S.ToStringUtf8() : fallback;

    public static long[]? Ints(NodeProto n, string name) => Attribute(n, name) is { } a ? a.Ints.ToArray() : null;

    /// <summary>"Conv 'conv1'" or "Conv (node 3)": how a message names a node.</summary>
    public static string Describe(NodeProto n, int index) =>
        string.IsNullOrEmpty(n.Name) ? $"{n.OpType} (node {index})" : $"{n.OpType} '{n.Name}'";
}
