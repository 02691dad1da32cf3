namespace HetQ.Nn.Layers;

/// <summary>Output size and padding of a 2D window (convolution or pooling) over NHWC input,
/// with Keras's "valid" and "same" rules (same: output ceil(in/stride), padding split with the
/// smaller half before).</summary>
public readonly record struct ConvGeometry(int InH, int InW, int KH, int KW, int SH, int SW, int OutH, int OutW, int PadTop, int PadLeft)
{
    public static ConvGeometry Create(int inH, int inW, int kh, int kw, int sh, int sw, string padding, string layer)
    {
        if (kh <= 0 || kw <= 0 || sh <= 0 || sw <= 0) throw new HetQException($"layer '{layer}': kernel and strides must be positive");
        int oh, ow, pt = 0, pl = 0;
        switch (padding)
        {
            case "valid":
                oh = (inH - kh) / sh + 1;
                ow = (inW - kw) / sw + 1;
                if (inH < kh || inW < kw) throw new HetQException($"layer '{layer}': window {kh}x{kw} larger than input {inH}x{inW} with padding 'valid'");
                break;
            case "same":
                oh = (inH + sh - 1) / sh;
                ow = (inW + sw - 1) / sw;
                pt = Math.Max((oh - 1) * sh + kh - inH, 0) / 2;
                pl = Math.Max((ow - 1) * sw + kw - inW, 0) / 2;
                break;
            default:
                throw new HetQException($"layer '{layer}': padding must be 'valid' or 'same', given '{padding}'");
        }
        return new ConvGeometry(inH, inW, kh, kw, sh, sw, oh, ow, pt, pl);
    }
}
