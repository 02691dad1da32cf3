namespace HetQ.Quantization;

/// <summary>A quantizer as training uses it: the vectorised grid path when the quantizer has one, else the
/// quantizer's own forward; stochastic quantizers draw from the caller's random source in training.</summary>
public sealed class FakeQuantizer
{
    public IQuantizer Quantizer { get; }
    private readonly FastFakeQuant? _fast;

    public FakeQuantizer(IQuantizer quantizer)
    {
        Quantizer = quantizer;
        _fast = FastFakeQuant.TryCreate(quantizer);
    }

    public string Spec => Quantizer.Spec;

    /// <summary>y = q(x); <paramref name="channels"/> is the size of the last axis (per-channel scales).</summary>
    public void Forward(ReadOnlySpan<float> x, Span<float> y, int channels, bool training, Random? rng)
    {
        if (Quantizer is LearnedQuantizer learned)
        {
            learned.Run(x, y, training);
            return;
        }
        if (_fast is not null)
        {
            _fast.Forward(x, y);
            return;
        }
        if (training && Quantizer is IStochasticQuantizer s)
        {
            s.ForwardTraining(x, y, channels, rng ?? new Random(0));
            return;
        }
        Quantizer.Forward(x, y, channels);
    }

    /// <summary>gradIn = STE(gradOut) at x; gradIn may alias gradOut.</summary>
    public void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> gradOut, Span<float> gradIn)
    {
        if (_fast is not null) _fast.Backward(x, gradOut, gradIn);
        else Quantizer.Backward(x, gradOut, gradIn);
    }

    /// <summary>The learned-width quantizer this wraps, if any.</summary>
    public LearnedQuantizer? Learned => Quantizer as LearnedQuantizer;

    /// <summary>The quantizer a worker replica uses: itself, or for a learned quantizer one with its own gradients.</summary>
    public FakeQuantizer CloneForWorker() => Quantizer is LearnedQuantizer l && l.IsBound ? new FakeQuantizer(l.ShareForWorker()) : this;

    /// <summary>Binds a learned-width template to a tensor (its own bit parameters); other quantizers unchanged.</summary>
    public static FakeQuantizer For(IQuantizer q, string name, int[] shape) =>
        new(q is LearnedQuantizer l ? l.Bind(name, shape) : q);

    public override string ToString() => Spec;
}
