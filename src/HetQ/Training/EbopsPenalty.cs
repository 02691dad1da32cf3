using System.Runtime.Intrinsics;
using HetQ.Cost;
using HetQ.Graph;
using HetQ.Hardware;
using HetQ.Nn;
using HetQ.Nn.Layers;
using HetQ.Numerics;
using HetQ.Quantization;

namespace HetQ.Training;

/// <summary>One epoch of a learned-width run: the beta it trained with and the surrogate EBOPs at its end.</summary>
public sealed record BetaStep(int Epoch, double Beta, double Ebops);

/// <summary>beta·EBOPs + l1·Σ|f| as a training penalty, HGQ's surrogate over every dense, Conv1D/2D and
/// DepthwiseConv2D layer: EBOPs = Σ over every product the layer computes (each output position, each kernel tap
/// inside the input) of the significant bits of the weight code (as <see cref="WeightedLayer.SignificantBits"/>
/// counts them, 0 for a zero weight) times the width of the input element it multiplies (k + I + F, 0 when pruned):
/// the cost model's EBOPs of the frozen graph. dEBOPs/dF of a weight is the sum of the widths of the input elements it
/// multiplies, of an input element the sum of the significant bits of the weights it meets (where both are non-zero);
/// the integer bits come from magnitudes and ranges, with no gradient. A layer whose input is neither the model input,
/// a quantized layer output, nor one of those through flatten, dropout or one max pooling (average pooling, add) adds no
/// term; through max pooling an input element's width is that of the join of its window's types, as the frozen graph has it.</summary>
/// <remarks>With <see cref="PenaltyCost.Luts"/> the cost is the LUT surrogate instead: the resource model's price of an adder bit
/// where both operands vary (xilinx's <c>adder_both_bits</c> coefficient) times Σ over the same products of the
/// canonical signed digits of the weight code (each digit is one term of width the input's width in the writer's adder
/// trees) times the input element's width. Its gradient: an input element's F gets the price times the summed digits
/// of the weights it meets; a weight's F the price times the summed input widths times <see cref="DigitsPerBit"/> (one more bit of
/// F adds a third of a digit on average). Sharing across outputs, requantization
/// and ReLU logic are not in the surrogate.</remarks>
public sealed class EbopsPenalty(Model model, BitwidthsConfig config) : ITrainingPenalty
{
    /// <summary>The LUT price of one adder bit where both operands vary, from the resource model's xilinx fit.</summary>
    public static double LutPerAdderBit => ResourceModel.Current.Targets[Synthesis.Name(SynthesisTarget.Xilinx)].Lut["adder_both_bits"];

    private readonly PenaltyCost _cost = config.Cost;

    private double _beta = config.Beta.Start;
    private double _integral;
    private readonly List<BetaStep> _steps = [];

    /// <summary>The beta of the current step.</summary>
    public double Beta => _beta;

    /// <summary>The surrogate cost at the last step: EBOPs, or LUTs with the LUT surrogate.</summary>
    public double LastEbops { get; private set; }

    /// <summary>Each finished epoch's beta and the EBOPs at its end (the controller's measurements).</summary>
    public IReadOnlyList<BetaStep> Steps => _steps;

    public void BeginBatch(int epoch, int epochs, int batch, int batches)
    {
        if (batch == 0 && epoch > 1)
        {
            _steps.Add(new BetaStep(epoch - 1, _beta, LastEbops));
            BeginEpoch(model);
            if (config.Controller is { } c) _beta = Steer(c, LastEbops);
        }
        if (config.Controller is null) _beta = config.Beta.At((epoch - 1 + (double)batch / batches) / epochs);
    }

    /// <summary>After the last epoch: records its step.</summary>
    public void Finish(int epoch) => _steps.Add(new BetaStep(epoch, _beta, LastEbops));

    /// <summary>The PI law in log space: e = ln(EBOPs / target), ln beta = ln start + kp·e + ki·Σe, clamped to
    /// [min, max]; while clamped the sum does not grow (no wind-up).</summary>
    private double Steer(BetaController c, double ebops)
    {
        if (!(ebops > 0)) return _beta;
        double e = Math.Log(ebops / c.TargetEbops);
        _integral += e;
        double log = Math.Log(config.Beta.Start) + c.Kp * e + c.Ki * _integral;
        double lo = Math.Log(c.Min), hi = Math.Log(c.Max);
        if (log > hi || log < lo)
        {
            _integral -= e;
            log = Math.Clamp(log, lo, hi);
        }
        return Math.Exp(log);
    }

    /// <summary>After a batch, on one thread: every learned activation quantizer takes the range its workers saw
    /// (<see cref="LearnedQuantizer.EndBatch"/>).</summary>
    public static void EndBatch(Model model)
    {
        model.InputQuantizer?.Learned?.EndBatch();
        foreach (var n in model.Nodes) n.Layer.OutputQuantizer?.Learned?.EndBatch();
    }

    /// <summary>Every learned activation quantizer of the model starts a new epoch (its range becomes last epoch's).</summary>
    public static void BeginEpoch(Model model)
    {
        model.InputQuantizer?.Learned?.BeginEpoch();
        foreach (var n in model.Nodes) n.Layer.OutputQuantizer?.Learned?.BeginEpoch();
    }

    public double AddGradient()
    {
        EndBatch(model);
        double ebops = Compute(model, (float)_beta, gradient: true, _cost, config.Stream);
        LastEbops = ebops;
        double l1 = 0;
        if (config.L1 > 0)
            foreach (var q in Learned(model))
            {
                var f = q.FracBits!;
                for (int g = 0; g < f.Length; g++)
                {
                    l1 += Math.Abs(f.Value[g]);
                    f.Grad[g] += (float)config.L1 * MathF.Sign(f.Value[g]);
                }
            }
        return _beta * ebops + config.L1 * l1;
    }

    /// <summary>The surrogate EBOPs of the model's current weights (quantized afresh, as the freezer does) and widths,
    /// without touching any gradient.</summary>
    public static long Measure(Model model)
    {
        foreach (var p in model.Parameters) p.Refresh(false, null);
        return (long)Compute(model, 0, gradient: false, PenaltyCost.Ebops);
    }

    /// <summary>The LUT surrogate of the model's current weights and widths (see the class remarks).</summary>
    public static double MeasureLuts(Model model)
    {
        foreach (var p in model.Parameters) p.Refresh(false, null);
        return Compute(model, 0, gradient: false, PenaltyCost.Luts);
    }

    /// <summary>The cost and, when <paramref name="gradient"/>, beta times its gradient added to the bits' gradients.</summary>
    internal static double Compute(Model model, float beta, bool gradient, PenaltyCost cost, bool perWindow = false)
    {
        double ebops = 0;
        for (int i = 0; i < model.Nodes.Count; i++)
        {
            var layer = model.Nodes[i].Layer;
            var (kernel, g, cols) = layer switch
            {
                Dense d => (d.Kernel, Window.Dense(d.Kernel.Shape[0]), d.Kernel.Shape[1]),
                Conv c => (c.Kernel, c.Geometry, c.Filters),
                DepthwiseConv2D w => (w.Kernel, w.Geometry, w.DepthMultiplier),
                _ => (null, null, 0),
            };
            if (kernel?.Quantizer?.Learned is not { } kq || g is null) continue;
            int ch = g.Channels;
            var (iq, width, pool) = Source(model, model.Nodes[i].Inputs[0]);
            if (iq is null && width == 0) continue;
            int inputs = g.InH * g.InW * ch;
            int[] ba;
            int[]? groups = null;
            if (iq is null) ba = Enumerable.Repeat(width, inputs).ToArray();
            else if (pool is null) ba = iq.ElementWidths();
            else (ba, groups) = Pooled(iq, pool);
            if (ba.Length != inputs) continue;
            if (cost == PenaltyCost.Luts)
            {
                float price = (float)LutPerAdderBit;
                ebops += price * Layer(kernel, kq, g, ch, cols, iq, ba, groups, beta * price, gradient, digits: true, perWindow);
            }
            else ebops += Layer(kernel, kq, g, ch, cols, iq, ba, groups, beta, gradient, digits: false, perWindow);
        }
        return ebops;
    }

    // Rows r = tap·ch + k of the kernel (tap = ky·KW + kx) hold the cols weights that input channel k meets at that tap:
    // the output channels of a convolution, the multiplier's channels of a depthwise one, the units of a dense layer
    // (a 1x1 window over one position).
    // With digits, a weight counts its code's canonical signed digits instead of its significant bits, and its F's
    // gradient is scaled by DigitsPerBit.
    private static double Layer(Parameter kernel, LearnedQuantizer kq, Window g, int ch, int cols, LearnedQuantizer? iq, int[] ba,
        int[]? groups, float beta, bool gradient, bool digits, bool perWindow = false)
    {
        int rows = g.KH * g.KW * ch;
        var w = kernel.Effective.AsSpan(0, rows * cols);
        var rowBits = System.Buffers.ArrayPool<long>.Shared.Rent(rows);
        if (digits)
        {
            var counts = System.Buffers.ArrayPool<int>.Shared.Rent(w.Length);
            CodeDigits(w, counts);
            for (int r = 0; r < rows; r++) rowBits[r] = System.Numerics.Tensors.TensorPrimitives.Sum<int>(counts.AsSpan(r * cols, cols));
            System.Buffers.ArrayPool<int>.Shared.Return(counts);
        }
        else
            for (int r = 0; r < rows; r++) rowBits[r] = SumOfCodeBits(w.Slice(r * cols, cols));
        // Σ over the positions of the widths of the input elements each row meets.
        var rowWidths = System.Buffers.ArrayPool<long>.Shared.Rent(rows);
        Array.Clear(rowWidths, 0, rows);
        var fa = gradient ? iq?.FracBits?.Grad : null;
        if (perWindow)
        {
            // One window: every tap of the kernel meets one element of each input channel, whose width (per layer or
            // per channel) is the same at every position: element k of the input stands for channel k.
            for (int tap = 0; tap < g.KH * g.KW; tap++)
                for (int k = 0; k < ch; k++)
                {
                    int a = ba[k], row = tap * ch + k;
                    if (a <= 0) continue;
                    rowWidths[row] += a;
                    if (fa is not null) fa[groups?[k] ?? iq!.Group(k)] += beta * rowBits[row];
                }
        }
        else
        {
            for (int oy = 0; oy < g.OutH; oy++)
                for (int ky = 0; ky < g.KH; ky++)
                {
                    int y = oy * g.SH + ky - g.PadTop;
                    if (y < 0 || y >= g.InH) continue;
                    for (int ox = 0; ox < g.OutW; ox++)
                        for (int kx = 0; kx < g.KW; kx++)
                        {
                            int x = ox * g.SW + kx - g.PadLeft;
                            if (x < 0 || x >= g.InW) continue;
                            int row = (ky * g.KW + kx) * ch, input = (y * g.InW + x) * ch;
                            for (int k = 0; k < ch; k++)
                            {
                                int a = ba[input + k];
                                if (a <= 0) continue;
                                rowWidths[row + k] += a;
                                if (fa is not null) fa[groups?[input + k] ?? iq!.Group(input + k)] += beta * rowBits[row + k];
                            }
                        }
                }
        }
        double total = 0;
        var fk = gradient ? kq.FracBits!.Grad : null;
        bool element = kq.Granularity == BitGranularity.Element;
        for (int r = 0; r < rows; r++)
        {
            total += (double)rowBits[r] * rowWidths[r];
            if (fk is null || rowWidths[r] == 0) continue;
            float d = beta * rowWidths[r] * (digits ? DigitsPerBit : 1);
            if (element) AddWhereNonZero(w.Slice(r * cols, cols), fk.AsSpan(r * cols, cols), d);
            else
                for (int c = 0, e = r * cols; c < cols; c++, e++)
                    if (w[e] != 0) fk[kq.Group(e)] += d;
        }
        System.Buffers.ArrayPool<long>.Shared.Return(rowBits);
        System.Buffers.ArrayPool<long>.Shared.Return(rowWidths);
        return total;
    }

    // A weight q is its code times 2^-F, and scaling by a power of two keeps a float's significand, so the code's odd
    // part is the significand's odd part: its significant bits are 24 − tzcnt(1.m) for a normal float (0 for q = 0),
    // whatever F is. Eight at a time: the lowest set bit of the significand, converted to float, has exponent tzcnt.

    /// <summary>The significant bits of the code of each weight (0 for a zero weight), as <see cref="Cost.WeightedLayer.SignificantBits"/> counts them.</summary>
    internal static void CodeBits(ReadOnlySpan<float> w, Span<int> bits)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
            for (; i + 8 <= w.Length && CodeBits(Vector256.Create(w.Slice(i, 8))) is { } v; i += 8) v.CopyTo(bits.Slice(i, 8));
        for (; i < w.Length; i++) bits[i] = CodeBits(w[i]);
    }

    /// <summary>The sum of <see cref="CodeBits(ReadOnlySpan{float}, Span{int})"/> over <paramref name="w"/>.</summary>
    internal static long SumOfCodeBits(ReadOnlySpan<float> w)
    {
        int i = 0;
        var sum = Vector256<int>.Zero;
        if (Vector256.IsHardwareAccelerated)
            for (; i + 8 <= w.Length && CodeBits(Vector256.Create(w.Slice(i, 8))) is { } v; i += 8) sum += v;
        long total = Vector256.Sum(sum);
        for (; i < w.Length; i++) total += CodeBits(w[i]);
        return total;
    }

    /// <summary>Eight weights' significant bits; null when one is subnormal (exponent field 0, not zero: the scalar count takes those).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static Vector256<int>? CodeBits(Vector256<float> w)
    {
        var u = w.AsInt32();
        var nonZero = ~Vector256.Equals(u & Vector256.Create(0x7FFFFFFF), Vector256<int>.Zero);
        if (!Vector256.EqualsAll(Vector256.Equals(u & Vector256.Create(0x7F800000), Vector256<int>.Zero) & nonZero, Vector256<int>.Zero)) return null;
        var significand = (u & Vector256.Create(0x007FFFFF)) | Vector256.Create(0x00800000);
        var lowest = Vector256.ConvertToSingle(significand & -significand).AsInt32();
        return (Vector256.Create(127 + 24) - Vector256.ShiftRightLogical(lowest, 23)) & nonZero;
    }

    private static int CodeBits(float q)
    {
        uint s = Significand(q);
        return s == 0 ? 0 : 32 - System.Numerics.BitOperations.LeadingZeroCount(s) - System.Numerics.BitOperations.TrailingZeroCount(s);
    }

    /// <summary>The canonical signed digits of the code of each weight (0 for a zero weight): those of the code's odd part,
    /// the same count (<see cref="Digits"/> does not change under a shift).</summary>
    internal static void CodeDigits(ReadOnlySpan<float> w, Span<int> digits)
    {
        for (int i = 0; i < w.Length; i++)
        {
            uint s = Significand(w[i]);
            digits[i] = s == 0 ? 0 : Digits(s >> System.Numerics.BitOperations.TrailingZeroCount(s));
        }
    }

    /// <summary>The significand of |q| as an integer (with the leading one of a normal float), 0 for ±0.</summary>
    private static uint Significand(float q)
    {
        uint u = BitConverter.SingleToUInt32Bits(q) & 0x7FFFFFFF;
        uint m = u & 0x007FFFFF;
        return u >> 23 == 0 ? m : m | 0x00800000;
    }

    /// <summary>grad[e] += d where w[e] is not zero, and += 0 where it is (as the scalar sum does, −0 becomes +0).</summary>
    private static void AddWhereNonZero(ReadOnlySpan<float> w, Span<float> grad, float d)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var vd = Vector256.Create(d);
            for (; i + 8 <= w.Length; i += 8)
            {
                var add = ~Vector256.Equals(Vector256.Create(w.Slice(i, 8)), Vector256<float>.Zero) & vd;
                (Vector256.Create(grad.Slice(i, 8)) + add).CopyTo(grad.Slice(i, 8));
            }
        }
        for (; i < w.Length; i++) grad[i] += w[i] != 0 ? d : 0;
    }

    /// <summary>The digits one more fractional bit adds to a weight code on average: the density of canonical signed digits
    /// (1/3 for long codes; 0.25-0.38 measured for codes of 1 to 6 bits).</summary>
    public const float DigitsPerBit = 1f / 3;

    /// <summary>The nonzero canonical signed digits of |code| (as <c>Arithmetic.Csd</c> gives them): popcount((3n ^ n) >> 1).</summary>
    public static int Digits(long code) => System.Numerics.BitOperations.PopCount((ulong)(((3 * code) ^ code) >> 1));

    /// <summary>The quantizer (learned) or the constant width of the tensor node <paramref name="k"/> outputs, looking
    /// through flatten and dropout, and through one max pooling of a learned quantizer's output (then with the pooling
    /// window, else null); (null, 0, null) when it has neither.</summary>
    private static (LearnedQuantizer? Q, int Width, Window? Pool) Source(Model model, int k)
    {
        while (k >= 0 && model.Nodes[k].Layer is Flatten or Dropout) k = model.Nodes[k].Inputs[0];
        Window? pool = null;
        if (k >= 0 && model.Nodes[k].Layer is Pool { IsMax: true, OutputQuantizer: null } p && model.Nodes[k].Inputs[0] is int before
            && (before < 0 ? model.InputQuantizer : model.Nodes[before].Layer.OutputQuantizer)?.Learned is not null)
        {
            pool = p.Geometry;
            k = before;
        }
        var fq = k < 0 ? model.InputQuantizer : model.Nodes[k].Layer.OutputQuantizer;
        if (fq is null) return (null, 0, null);
        if (fq.Learned is { } l) return (l, 0, pool);
        return (null, fq.Quantizer.HardwareType?.Width ?? 0, null);
    }

    /// <summary>The widths of a max pooling's output elements over <paramref name="q"/>'s elements, as the frozen graph
    /// types them (<see cref="Lowering.MaxPoolElements"/>: the join of the window's types), and for each the bit group
    /// its width's gradient goes to: that of the first element of the window with the join's fractional bits (for
    /// per-channel and per-layer widths the window's one group).</summary>
    private static (int[] Widths, int[] Groups) Pooled(LearnedQuantizer q, Window g)
    {
        var x = q.ElementTypes();
        if (x.Length != g.InH * g.InW * g.Channels) return ([], []);
        var y = Lowering.MaxPoolElements(g, x);
        var widths = new int[y.Length];
        var groups = new int[y.Length];
        int c = g.Channels;
        for (int oy = 0; oy < g.OutH; oy++)
            for (int ox = 0; ox < g.OutW; ox++)
            {
                var (y0, y1, x0, x1) = g.Clip(oy, ox);
                for (int ch = 0; ch < c; ch++)
                {
                    int o = (oy * g.OutW + ox) * c + ch;
                    if (y[o] is not { } t) continue;
                    widths[o] = t.Width;
                    int chosen = -1;
                    for (int iy = y0; iy < y1 && chosen < 0; iy++)
                        for (int ix = x0; ix < x1 && chosen < 0; ix++)
                        {
                            int e = (iy * g.InW + ix) * c + ch;
                            if (x[e] is { } s && s.FractionalBits == t.FractionalBits) chosen = e;
                        }
                    groups[o] = q.Group(chosen);
                }
            }
        return (widths, groups);
    }

    /// <summary>Every learned quantizer of the model (input, parameters, outputs).</summary>
    public static IEnumerable<LearnedQuantizer> Learned(Model model)
    {
        if (model.InputQuantizer?.Learned is { } i) yield return i;
        foreach (var n in model.Nodes)
        {
            foreach (var p in n.Layer.Parameters)
                if (p.Quantizer?.Learned is { } l) yield return l;
            if (n.Layer.OutputQuantizer?.Learned is { } o) yield return o;
        }
    }
}
