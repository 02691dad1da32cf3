using System.Runtime.Intrinsics;
using System.Text.Json;
using HetQ.Numerics;

namespace HetQ.Nn.Layers;

/// <summary>Max or average pooling, 1D ([L, C]) or 2D ([H, W, C]); strides default to the pool size.
/// Average pooling with "same" padding divides by the number of input elements in the window (Keras).</summary>
public sealed class Pool : UnaryLayer
{
    public bool IsMax { get; }
    public int Rank { get; }
    public int[] PoolSize { get; }
    public int[] Strides { get; }
    public Padding Padding { get; }
    internal Window Geometry { get; private set; } = null!;

    private Tensor? _y, _gradIn;
    private int[] _argmax = Array.Empty<int>();

    public Pool(bool isMax, int rank, int[] poolSize, int[]? strides, Padding padding)
    {
        IsMax = isMax;
        Rank = rank;
        PoolSize = poolSize;
        Strides = strides ?? poolSize;
        Padding = padding;
    }

    public override string Type => (IsMax ? "max_pool" : "avg_pool") + (Rank == 1 ? "1d" : "2d");

    protected override int[] Build(int[] s, Random rng)
    {
        if (s.Length != Rank + 1) throw ShapeError($"expects a rank-{Rank + 1} sample shape");
        Geometry = Rank == 1
            ? Window.Create(1, s[0], s[^1], 1, PoolSize[0], 1, Strides[0], Padding, Name)
            : Window.Create(s[0], s[1], s[^1], PoolSize[0], PoolSize[1], Strides[0], Strides[1], Padding, Name);
        return Rank == 1 ? new[] { Geometry.OutW, s[^1] } : new[] { Geometry.OutH, Geometry.OutW, s[^1] };
    }

    protected override Tensor Forward(Tensor x, ForwardContext ctx)
    {
        int n = x.Shape[0], c = x.Shape[^1];
        var y = Ensure(ref _y, n, OutputShape);
        if (IsMax && _argmax.Length != y.Length) _argmax = new int[y.Length];
        if (IsMax) MaxForward(x.Data, y.Data, n, c);
        else AverageForward(x.Data, y.Data, n, c);
        return y;
    }

    /// <summary>Max over each window, per channel, with the index of the first maximal input (in window scan order) kept
    /// for the backward pass; eight channels at a time.</summary>
    private void MaxForward(float[] xd, float[] yd, int n, int c)
    {
        var g = Geometry;
        var lanes = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7);
        for (int b = 0; b < n; b++)
            for (int oy = 0; oy < g.OutH; oy++)
                for (int ox = 0; ox < g.OutW; ox++)
                {
                    int yo = ((b * g.OutH + oy) * g.OutW + ox) * c;
                    int y0 = Math.Max(0, oy * g.SH - g.PadTop), y1 = Math.Min(g.InH, oy * g.SH - g.PadTop + g.KH);
                    int x0 = Math.Max(0, ox * g.SW - g.PadLeft), x1 = Math.Min(g.InW, ox * g.SW - g.PadLeft + g.KW);
                    int first = ((b * g.InH + y0) * g.InW + x0) * c;
                    int ch = 0;
                    for (; ch + 8 <= c; ch += 8)
                    {
                        var best = Vector256.Create(xd.AsSpan(first + ch, 8));
                        var arg = Vector256.Create(first + ch) + lanes;
                        for (int iy = y0; iy < y1; iy++)
                            for (int ix = iy == y0 ? x0 + 1 : x0; ix < x1; ix++)
                            {
                                int i = ((b * g.InH + iy) * g.InW + ix) * c + ch;
                                var v = Vector256.Create(xd.AsSpan(i, 8));
                                var more = Vector256.GreaterThan(v, best);
                                best = Vector256.ConditionalSelect(more, v, best);
                                arg = Vector256.ConditionalSelect(more.AsInt32(), Vector256.Create(i) + lanes, arg);
                            }
                        best.CopyTo(yd.AsSpan(yo + ch, 8));
                        arg.CopyTo(_argmax.AsSpan(yo + ch, 8));
                    }
                    for (; ch < c; ch++)
                    {
                        float best = xd[first + ch];
                        int arg = first + ch;
                        for (int iy = y0; iy < y1; iy++)
                            for (int ix = x0; ix < x1; ix++)
                            {
                                int i = ((b * g.InH + iy) * g.InW + ix) * c + ch;
                                if (xd[i] > best) { best = xd[i]; arg = i; }
                            }
                        yd[yo + ch] = best;
                        _argmax[yo + ch] = arg;
                    }
                }
    }

    private void AverageForward(float[] xd, float[] yd, int n, int c)
    {
        var g = Geometry;
        for (int b = 0; b < n; b++)
            for (int oy = 0; oy < g.OutH; oy++)
                for (int ox = 0; ox < g.OutW; ox++)
                {
                    int yo = ((b * g.OutH + oy) * g.OutW + ox) * c;
                    var (y0, y1, x0, x1) = g.Clip(oy, ox);
                    for (int ch = 0; ch < c; ch++)
                    {
                        float sum = 0;
                        for (int iy = y0; iy < y1; iy++)
                            for (int ix = x0; ix < x1; ix++) sum += xd[((b * g.InH + iy) * g.InW + ix) * c + ch];
                        yd[yo + ch] = sum / ((y1 - y0) * (x1 - x0));
                    }
                }
    }

    protected override Tensor BackwardUnary(Tensor gradOutput)
    {
        int n = gradOutput.Shape[0], c = gradOutput.Shape[^1];
        var g = Geometry;
        var gx = Ensure(ref _gradIn, n, InputShapes[0]);
        Array.Clear(gx.Data);
        float[] gy = gradOutput.Data, gxd = gx.Data;
        if (IsMax)
        {
            for (int i = 0; i < gy.Length; i++) gxd[_argmax[i]] += gy[i];
            return gx;
        }
        for (int b = 0; b < n; b++)
            for (int oy = 0; oy < g.OutH; oy++)
                for (int ox = 0; ox < g.OutW; ox++)
                {
                    int yo = ((b * g.OutH + oy) * g.OutW + ox) * c;
                    var (y0, y1, x0, x1) = g.Clip(oy, ox);
                    float inv = 1f / ((y1 - y0) * (x1 - x0));
                    for (int iy = y0; iy < y1; iy++)
                        for (int ix = x0; ix < x1; ix++)
                        {
                            int xo = ((b * g.InH + iy) * g.InW + ix) * c;
                            for (int ch = 0; ch < c; ch++) gxd[xo + ch] += gy[yo + ch] * inv;
                        }
                }
        return gx;
    }

    public override Layer CloneForWorker()
    {
        var c = CopyBuildTo(new Pool(IsMax, Rank, PoolSize, Strides, Padding));
        c.Geometry = Geometry;
        return c;
    }

    public override void WriteConfig(Utf8JsonWriter w)
    {
        LayerConfig.WriteInts(w, "pool_size", PoolSize);
        LayerConfig.WriteInts(w, "strides", Strides);
        w.WriteString("padding", LayerConfig.PaddingName(Padding));
    }
}

/// <summary>Mean over all axes but the channel axis: [.., C] -> [C].</summary>
public sealed class GlobalAveragePool : UnaryLayer
{
    private Tensor? _y, _gradIn;

    public override string Type => "global_avg_pool";

    protected override int[] Build(int[] s, Random rng)
    {
        if (s.Length < 2) throw ShapeError("expects a sample shape with spatial axes and channels");
        return new[] { s[^1] };
    }

    protected override Tensor Forward(Tensor x, ForwardContext ctx)
    {
        int n = x.Shape[0], c = x.Shape[^1], per = x.RowSize / c;
        var y = Ensure(ref _y, n, OutputShape);
        Array.Clear(y.Data);
        for (int b = 0; b < n; b++)
        {
            var yr = y.Data.AsSpan(b * c, c);
            for (int p = 0; p < per; p++) System.Numerics.Tensors.TensorPrimitives.Add(yr, x.Data.AsSpan((b * per + p) * c, c), yr);
            System.Numerics.Tensors.TensorPrimitives.Multiply(yr, 1f / per, yr);
        }
        return y;
    }

    protected override Tensor BackwardUnary(Tensor gradOutput)
    {
        int n = gradOutput.Shape[0], c = gradOutput.Shape[^1], per = Tensor.Size(InputShapes[0]) / c;
        var gx = Ensure(ref _gradIn, n, InputShapes[0]);
        for (int b = 0; b < n; b++)
            for (int p = 0; p < per; p++)
                for (int ch = 0; ch < c; ch++) gx.Data[(b * per + p) * c + ch] = gradOutput.Data[b * c + ch] / per;
        return gx;
    }

    public override Layer CloneForWorker() => CopyBuildTo(new GlobalAveragePool());

    public override void WriteConfig(Utf8JsonWriter w) { }
}
