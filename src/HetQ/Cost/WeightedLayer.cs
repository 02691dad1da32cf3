using System.Numerics;
using HetQ.Graph;
using HetQ.Numerics;
using HetQ.Quantization;

namespace HetQ.Cost;

/// <summary>Counts of one dense, convolution or depthwise convolution node, from its weight codes and geometry.
/// The three ops are one shape here: at every output position, each output channel sums, over the kernel taps that
/// fall inside the input (padding taps multiply a constant zero and cost nothing), the products of its non-zero
/// weights with the input, plus the bias.</summary>
internal sealed class WeightedLayer
{
    public long Parameters { get; private init; }
    public long ZeroWeights { get; private init; }
    public long ParameterBits { get; private init; }
    public long KernelBits { get; private init; }
    public long BiasBits { get; private init; }
    public long Multiplications { get; private init; }
    public long Additions { get; private init; }
    public double Bops { get; private init; }
    public long Ebops { get; private init; }
    public MultiplierKind Multiplier { get; private init; }
    public int DistinctWeights { get; private init; }
    public FixedType WeightType { get; private init; }
    public FixedType AccType { get; private init; }

    /// <summary>The significant bits of a weight code, HGQ's "exact" kernel bit width: the bits of |code| from its
    /// highest to its lowest set bit (HGQ's _get_arr_bits: high − low; no sign bit for kernels, and trailing zeros
    /// are a free shift). 5 (101) → 3, 6 (110) → 2, −4 → 1, 0 → 0.</summary>
    public static int SignificantBits(long code)
    {
        if (code == 0) return 0;
        ulong m = (ulong)Math.Abs(code);
        m >>= BitOperations.TrailingZeroCount(m);
        return 64 - BitOperations.LeadingZeroCount(m);
    }

    /// <summary>The counts of a weighted op whose input elements all have type <paramref name="input"/>.</summary>
    public static WeightedLayer Of(WeightedOp op, FixedType input) =>
        Create(op.Geometry, op.OutChannels, op.Weights, op.WeightType, op.Bias, op.BiasType, op.AccType, input, op.Codes);

    /// <summary>As <see cref="Of(WeightedOp, FixedType)"/>; with per-element input types (learned bit widths) the EBOPs
    /// multiply each weight's significant bits by the width of the input element it multiplies (0 for a pruned element).</summary>
    public static WeightedLayer Of(WeightedOp op, TensorType input)
    {
        var w = Of(op, input.Type);
        if (input.Elements is null) return w;
        return new WeightedLayer
        {
            Parameters = w.Parameters, ZeroWeights = w.ZeroWeights, ParameterBits = w.ParameterBits, KernelBits = w.KernelBits,
            BiasBits = w.BiasBits, Multiplications = w.Multiplications, Additions = w.Additions, Bops = w.Bops,
            Ebops = ElementEbops(op, input), Multiplier = w.Multiplier, DistinctWeights = w.DistinctWeights, WeightType = w.WeightType, AccType = w.AccType,
        };
    }

    // Σ over every product of the kernel's significant bits times its input element's width: the bits each (tap, input
    // channel) multiplies, summed over the outputs once, then weighted by the element each tap of each position reads.
    private static long ElementEbops(WeightedOp op, TensorType input)
    {
        var g = op.Geometry;
        int ch = g.Channels;
        var bits = new long[g.TapCount, ch];
        for (int t = 0; t < g.TapCount; t++)
            for (int o = 0; o < op.OutChannels; o++)
                foreach (var (k, code) in op.Codes(t, o)) bits[t, k] += SignificantBits(code);
        long total = 0;
        for (int oy = 0; oy < g.OutH; oy++)
            for (int ox = 0; ox < g.OutW; ox++)
                foreach (var (y, x, ky, kx) in g.Taps(oy, ox))
                    for (int k = 0; k < ch; k++)
                        total += bits[ky * g.KW + kx, k] * input.ElementWidth((y * g.InW + x) * ch + k);
        return total;
    }

    // codes(t, o): the weight codes that output channel o multiplies at kernel tap t (t = ky·KW + kx).
    private static WeightedLayer Create(Window g, int outChannels, long[] weights, FixedType wt, long[]? bias, FixedType? bt, FixedType acc,
        FixedType input, Func<int, int, IEnumerable<(int InChannel, long Code)>> codes)
    {
        int taps = g.KH * g.KW;
        var nonZero = new long[taps, outChannels];
        var bits = new long[taps, outChannels];
        for (int t = 0; t < taps; t++)
            for (int o = 0; o < outChannels; o++)
                foreach (var (_, c) in codes(t, o))
                {
                    if (c == 0) continue;
                    nonZero[t, o]++;
                    bits[t, o] += SignificantBits(c);
                }

        long mults = 0, adds = 0, weightBits = 0;
        var terms = new long[outChannels];
        for (int oy = 0; oy < g.OutH; oy++)
            for (int ox = 0; ox < g.OutW; ox++)
            {
                Array.Clear(terms);
                foreach (var (_, _, ky, kx) in g.Taps(oy, ox))
                {
                    int t = ky * g.KW + kx;
                    for (int o = 0; o < outChannels; o++)
                    {
                        terms[o] += nonZero[t, o];
                        weightBits += bits[t, o];
                    }
                }
                for (int o = 0; o < outChannels; o++)
                {
                    mults += terms[o];
                    long n = terms[o] + (bias is not null && bias[o] != 0 ? 1 : 0);
                    adds += Math.Max(n - 1, 0);
                }
            }

        long zeros = weights.LongCount(c => c == 0);
        long kernelBits = (long)weights.Length * wt.Width;
        long biasBits = bias is null ? 0 : (long)bias.Length * bt!.Value.Width;
        // BOPs per output: n = fan-in of one output (the whole window, padding included), m = outputs of all positions.
        long fanIn = weights.Length / Math.Max(outChannels, 1);
        long outputs = (long)outChannels * g.OutH * g.OutW;
        double p = weights.Length == 0 ? 0 : (double)zeros / weights.Length;
        double ba = input.Width, bw = wt.Width;
        double bops = fanIn == 0 ? 0 : outputs * fanIn * ((1 - p) * ba * bw + ba + bw + Math.Log2(fanIn));
        var (kind, distinct) = Classify(weights);
        return new WeightedLayer
        {
            Parameters = weights.Length + (bias?.Length ?? 0),
            ZeroWeights = zeros,
            ParameterBits = kernelBits + biasBits,
            KernelBits = kernelBits,
            BiasBits = biasBits,
            Multiplications = mults,
            Additions = adds,
            Bops = bops,
            Ebops = weightBits * input.Width,
            Multiplier = kind,
            DistinctWeights = distinct,
            WeightType = wt,
            AccType = acc,
        };
    }

    /// <summary>The multiplier the weight codes need (QTools's multiplier table by weight quantizer):
    /// every code ±c (no zero): binary, a mux; codes in {0, c} or {−c, 0}: an AND gate; codes in {−c, 0, +c}:
    /// ternary, two muxes; every non-zero |code| a power of two: a shifter; otherwise a full multiplier.</summary>
    private static (MultiplierKind Kind, int Distinct) Classify(long[] weights)
    {
        var values = weights.Where(c => c != 0).Distinct().ToArray();
        if (values.Length == 0) return (MultiplierKind.Fixed, 0);
        bool zeros = weights.Contains(0L);
        var magnitudes = values.Select(Math.Abs).Distinct().ToArray();
        if (magnitudes.Length == 1)
        {
            if (values.Length == 2) return (zeros ? MultiplierKind.Ternary : MultiplierKind.Binary, 2);
            if (zeros) return (MultiplierKind.And, 1);
        }
        if (magnitudes.All(m => long.IsPow2(m))) return (MultiplierKind.Shift, values.Length);
        return (MultiplierKind.Fixed, values.Length);
    }
}
