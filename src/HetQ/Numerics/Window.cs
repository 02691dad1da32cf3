using System.Text.Json.Serialization;

namespace HetQ.Numerics;

/// <summary>How a window op pads its input (Keras's names): none, or enough zeros for an output of ceil(in/stride).</summary>
public enum Padding
{
    /// <summary>No padding: only windows that lie inside the input.</summary>
    Valid,
    /// <summary>Output ceil(in/stride), the padding split with the smaller half before.</summary>
    Same,
}

/// <summary>The geometry of a window op (convolution, depthwise convolution, pooling) over a channels-last input; a
/// 1D op has InH = KH = SH = 1. The one window type of training, emulation, cost and hardware: the loop over an
/// output position's taps is written here once (<see cref="Taps"/>, <see cref="Clip"/>, <see cref="TapTable"/>).
/// In a graph file a window is its constructor's fields only (the derived counts are not written).</summary>
public sealed record Window(int InH, int InW, int Channels, int KH, int KW, int SH, int SW, int PadTop, int PadLeft, int OutH, int OutW)
{
    /// <summary>The window of <paramref name="padding"/> over an input of inH x inW x channels; a bad size or stride is
    /// an error naming <paramref name="layer"/>.</summary>
    public static Window Create(int inH, int inW, int channels, int kh, int kw, int sh, int sw, Padding padding, string layer)
    {
        if (kh <= 0 || kw <= 0 || sh <= 0 || sw <= 0) throw new HetQException($"layer '{layer}': kernel and strides must be positive");
        int oh, ow, pt = 0, pl = 0;
        switch (padding)
        {
            case Padding.Valid:
                if (inH < kh || inW < kw) throw new HetQException($"layer '{layer}': window {kh}x{kw} larger than input {inH}x{inW} with padding 'valid'");
                oh = (inH - kh) / sh + 1;
                ow = (inW - kw) / sw + 1;
                break;
            case Padding.Same:
                oh = (inH + sh - 1) / sh;
                ow = (inW + sw - 1) / sw;
                pt = Math.Max((oh - 1) * sh + kh - inH, 0) / 2;
                pl = Math.Max((ow - 1) * sw + kw - inW, 0) / 2;
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(padding), padding, null);
        }
        return new Window(inH, inW, channels, kh, kw, sh, sw, pt, pl, oh, ow);
    }

    /// <summary>A dense layer as a window: one position, one tap, <paramref name="inputs"/> channels.</summary>
    public static Window Dense(int inputs) => new(1, 1, inputs, 1, 1, 1, 1, 0, 0, 1, 1);

    /// <summary>A dense layer applied at each of <paramref name="positions"/> positions (a 1x1 convolution).</summary>
    public static Window Pointwise(int positions, int channels) => new(1, positions, channels, 1, 1, 1, 1, 0, 0, 1, positions);

    /// <summary>One window over all spatial positions of a channels-last sample shape (global pooling).</summary>
    public static Window Global(int[] shape)
    {
        int c = shape[^1], positions = Tensor.Size(shape) / c;
        return shape.Length == 3 ? new Window(shape[0], shape[1], c, shape[0], shape[1], 1, 1, 0, 0, 1, 1) : new Window(1, positions, c, 1, positions, 1, 1, 0, 0, 1, 1);
    }

    /// <summary>Kernel taps (KH·KW).</summary>
    [JsonIgnore] public int TapCount => KH * KW;

    /// <summary>Output positions (OutH·OutW).</summary>
    [JsonIgnore] public int Positions => OutH * OutW;

    /// <summary>True when every window lies inside the input (no tap in the padding).</summary>
    [JsonIgnore] public bool IsUnpadded => PadTop == 0 && PadLeft == 0 && (OutH - 1) * SH + KH <= InH && (OutW - 1) * SW + KW <= InW;

    /// <summary>The input rows [Y0, Y1) and columns [X0, X1) that the window of output (oy, ox) covers inside the input.</summary>
    public (int Y0, int Y1, int X0, int X1) Clip(int oy, int ox)
    {
        int y = oy * SH - PadTop, x = ox * SW - PadLeft;
        return (Math.Max(0, y), Math.Min(InH, y + KH), Math.Max(0, x), Math.Min(InW, x + KW));
    }

    /// <summary>The input positions (y, x) and kernel taps (ky, kx) of output (oy, ox) that lie inside the input
    /// (taps in the padding are left out).</summary>
    public IEnumerable<(int Y, int X, int KY, int KX)> Taps(int oy, int ox)
    {
        var (y0, y1, x0, x1) = Clip(oy, ox);
        for (int iy = y0; iy < y1; iy++)
            for (int ix = x0; ix < x1; ix++)
                yield return (iy, ix, iy - (oy * SH - PadTop), ix - (ox * SW - PadLeft));
    }

    /// <summary>For each output position (oy·OutW + ox), its taps inside the input as (input pixel iy·InW + ix,
    /// kernel tap ky·KW + kx), in the order of <see cref="Taps"/>: computed once by a kernel, read per sample.</summary>
    public (int Pixel, int Tap)[][] TapTable()
    {
        var table = new (int, int)[Positions][];
        for (int oy = 0; oy < OutH; oy++)
            for (int ox = 0; ox < OutW; ox++)
                table[oy * OutW + ox] = Taps(oy, ox).Select(t => (t.Y * InW + t.X, t.KY * KW + t.KX)).ToArray();
        return table;
    }
}
