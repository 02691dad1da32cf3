namespace HetQ.Numerics;

/// <summary>A dense float32 tensor, row-major, channels last (N, H, W, C) like Keras.</summary>
public sealed class Tensor
{
    public float[] Data { get; }
    public int[] Shape { get; }
    public int Length => Data.Length;

    public Tensor(int[] shape)
    {
        Shape = (int[])shape.Clone();
        Data = new float[Size(shape)];
    }

    public Tensor(int[] shape, float[] data)
    {
        if (data.Length != Size(shape))
            throw new ArgumentException($"data length {data.Length} does not match shape [{string.Join(",", shape)}]");
        Shape = (int[])shape.Clone();
        Data = data;
    }

    public static int Size(ReadOnlySpan<int> shape)
    {
        int n = 1;
        foreach (int d in shape) n *= d;
        return n;
    }

    /// <summary>Number of rows (first dimension).</summary>
    public int Rows => Shape.Length == 0 ? 1 : Shape[0];

    /// <summary>Elements per row (product of all but the first dimension).</summary>
    public int RowSize => Shape.Length == 0 ? 1 : Data.Length / Math.Max(1, Shape[0]);

    public Span<float> Row(int i) => Data.AsSpan(i * RowSize, RowSize);

    public Tensor Reshape(params int[] shape) => new(shape, Data);

    public Tensor Clone() => new(Shape, (float[])Data.Clone());

    public override string ToString() => $"Tensor[{string.Join(",", Shape)}]";
}
