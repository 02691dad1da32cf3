using System.Globalization;
using System.Text.RegularExpressions;
using HetQ.Nn;

namespace HetQ.Quantization;

/// <summary>What a learned-width quantizer quantizes: a kernel or bias (integer bits from each weight's magnitude,
/// no saturation) or an activation / the model input (integer bits from the range seen in training, saturation).</summary>
public enum LearnedRole { Weight, Activation }

/// <summary>How many fractional-bit parameters a learned quantizer has: one per element (per weight), one per
/// channel (the last axis) or one for the whole tensor.</summary>
public enum BitGranularity { Element, Channel, Layer }

/// <summary>HGQ-style fixed-point quantizer with trainable fractional bits f (a float per element, channel or
/// layer, rounded where used: F = clamp(round(f), min, max)). Forward: code = round-half-up(x·2^F), saturated for
/// activations to the type k + I + F (k = 1 when the observed range has negatives, I = floor(log2 max|x|) + 1 from
/// the range observed in training); value = code·2^-F; width ≤ 0 outputs 0 (pruned). Backward (HGQ's surrogate):
/// dx = dy inside the range, 0 outside; df = −ln2·(xq − x)·dy, straight through the rounding of f.</summary>
/// <remarks>A parsed instance is a template (<see cref="Bind"/> makes the per-tensor instance that owns the
/// bit parameters); worker replicas share the values and own the gradients (<see cref="ShareForWorker"/>).</remarks>
public sealed class LearnedQuantizer : IQuantizer
{
    public LearnedRole Role { get; }
    public BitGranularity Granularity { get; }
    public float Initial { get; }
    public int MinBits { get; }
    public int MaxBits { get; }

    /// <summary>The trainable fractional bits, one per group (null on an unbound template).</summary>
    public Parameter? FracBits { get; private set; }

    /// <summary>Activations: the range used for quantizing, [2 × elements] (max row, then min row), state.</summary>
    public Parameter? Range { get; private set; }

    private int[] _shape = [];
    private int _size, _channels;
    private Shared? _shared;

    /// <summary>Range bookkeeping common to all replicas: this epoch's running range, merged under a lock.</summary>
    private sealed class Shared
    {
        public float[] RunMax = [], RunMin = [];
        public bool Growing = true;
        public bool Seen;
        public readonly Lock Lock = new();
    }

    public LearnedQuantizer(LearnedRole role, BitGranularity granularity, float initial, int minBits, int maxBits)
    {
        if (minBits > maxBits) throw new HetQException($"learned_fixed: min {minBits} is above max {maxBits}");
        Role = role;
        Granularity = granularity;
        Initial = initial;
        MinBits = minBits;
        MaxBits = maxBits;
    }

    public string Spec => string.Create(CultureInfo.InvariantCulture,
        $"learned_fixed(role={(Role == LearnedRole.Weight ? "weight" : "activation")},granularity={Granularity.ToString().ToLowerInvariant()},init={Initial:R},min={MinBits},max={MaxBits})");

    int IQuantizer.Bits => Math.Max(0, MaxBits);
    public bool IsStochastic => false;
    public IReadOnlyList<double>? Values => null;
    public bool IsBound => FracBits is not null;
    public int Size => _size;
    public IReadOnlyList<int> Shape => _shape;

    private static readonly Regex SpecPattern = new(@"^learned_fixed\((.*)\)$", RegexOptions.CultureInvariant);

    /// <summary>Parses <c>learned_fixed(role=weight|activation, granularity=element|channel|layer, init=F, min=N, max=N)</c>.</summary>
    public static LearnedQuantizer Parse(string spec)
    {
        var m = SpecPattern.Match(spec.Replace(" ", "", StringComparison.Ordinal));
        if (!m.Success) throw new HetQException($"'{spec}': expected learned_fixed(role=..., granularity=..., init=..., min=..., max=...)");
        var role = LearnedRole.Activation;
        var gran = BitGranularity.Element;
        float init = 6;
        int min = -8, max = 8;
        foreach (var part in m.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = part.Split('=');
            if (kv.Length != 2) throw new HetQException($"'{spec}': '{part}' is not key=value");
            string v = kv[1];
            switch (kv[0])
            {
                case "role": role = v switch { "weight" => LearnedRole.Weight, "activation" => LearnedRole.Activation, _ => throw new HetQException($"'{spec}': role must be weight or activation") }; break;
                case "granularity": gran = ParseGranularity(v, spec); break;
                case "init": init = float.Parse(v, CultureInfo.InvariantCulture); break;
                case "min": min = int.Parse(v, CultureInfo.InvariantCulture); break;
                case "max": max = int.Parse(v, CultureInfo.InvariantCulture); break;
                default: throw new HetQException($"'{spec}': unknown argument '{kv[0]}' (role, granularity, init, min, max)");
            }
        }
        return new LearnedQuantizer(role, gran, init, min, max);
    }

    /// <summary>element (or weight), channel, layer.</summary>
    public static BitGranularity ParseGranularity(string v, string where) => v switch
    {
        "element" or "weight" => BitGranularity.Element,
        "channel" => BitGranularity.Channel,
        "layer" => BitGranularity.Layer,
        _ => throw new HetQException($"{where}: granularity must be weight/element, channel or layer, given '{v}'"),
    };

    /// <summary>A new instance for one tensor of sample shape <paramref name="shape"/> (for a kernel: its shape) with
    /// its own bit parameters named <paramref name="name"/>/bits (and /range for activations).</summary>
    public LearnedQuantizer Bind(string name, int[] shape)
    {
        var q = new LearnedQuantizer(Role, Granularity, Initial, MinBits, MaxBits) { _shape = shape, _size = Math.Max(1, Numerics.Tensor.Size(shape)) };
        q._channels = shape.Length == 0 ? 1 : shape[^1];
        int groups = Granularity switch { BitGranularity.Element => q._size, BitGranularity.Channel => q._channels, _ => 1 };
        q.FracBits = new Parameter(name + "/bits", [groups], trainable: true, Enumerable.Repeat(Initial, groups).ToArray());
        if (Role == LearnedRole.Activation)
        {
            q.Range = new Parameter(name + "/range", [2, q._size], trainable: false);
            q._shared = new Shared { RunMax = new float[q._size], RunMin = new float[q._size] };
        }
        return q;
    }

    /// <summary>A replica: shared values and range bookkeeping, own gradient.</summary>
    public LearnedQuantizer ShareForWorker()
    {
        if (FracBits is null) return this;
        return new LearnedQuantizer(Role, Granularity, Initial, MinBits, MaxBits)
        {
            _shape = _shape, _size = _size, _channels = _channels, _shared = _shared,
            FracBits = FracBits.ShareForWorker(), Range = Range?.ShareForWorker(),
        };
    }

    /// <summary>The parameters this quantizer owns (bits, and the range for activations).</summary>
    public IEnumerable<Parameter> Parameters
    {
        get
        {
            if (FracBits is not null) yield return FracBits;
            if (Range is not null) yield return Range;
        }
    }

    /// <summary>The bit group of element <paramref name="e"/>.</summary>
    public int Group(int e) => Granularity switch { BitGranularity.Element => e, BitGranularity.Channel => e % _channels, _ => 0 };

    /// <summary>F of group g: round(f), clamped to [min, max].</summary>
    public int Fractional(int g) => Math.Clamp((int)MathF.Round(FracBits!.Value[g], MidpointRounding.ToEven), MinBits, MaxBits);

    /// <summary>Starts a new epoch: the range observed in the last epoch becomes the quantization range (the first
    /// epoch grows the range as it goes).</summary>
    public void BeginEpoch()
    {
        if (_shared is null || Range is null) return;
        lock (_shared.Lock)
        {
            if (!_shared.Seen) return;
            _shared.RunMax.CopyTo(Range.Value, 0);
            _shared.RunMin.CopyTo(Range.Value, _size);
            Array.Clear(_shared.RunMax);
            Array.Clear(_shared.RunMin);
            _shared.Growing = false;
            _shared.Seen = false;
        }
    }

    /// <summary>The fixed-point format of every activation element, null where its width is 0 (pruned: the element
    /// is always 0). Rounding RND, overflow SAT.</summary>
    public FixedFormat?[] ElementFormats()
    {
        var (ghi, glo) = GroupRanges();
        var formats = new FixedFormat?[_size];
        for (int e = 0; e < _size; e++)
        {
            var (signed, width, integer) = ElementType(e, ghi, glo);
            if (width > 0) formats[e] = new FixedFormat(new FixedType(signed, width, integer), Rounding.RND, Overflow.SAT);
        }
        return formats;
    }

    /// <summary>(signed, width, ap_fixed integer bits incl. sign) of activation element e from its group's range and F.</summary>
    public (bool Signed, int Width, int Integer) ElementType(int e)
    {
        var (ghi, glo) = GroupRanges();
        return ElementType(e, ghi, glo);
    }

    private (bool Signed, int Width, int Integer) ElementType(int e, float[] ghi, float[] glo)
    {
        int g = Group(e);
        int f = Fractional(g);
        float hi = ghi[g], lo = glo[g];
        bool signed = lo < 0;
        float m = Math.Max(hi, -lo);
        if (!(m > 0)) return (signed, 0, 0);
        int i = (int)Math.Floor(Math.Log2(m)) + 1;
        int k1 = signed ? 1 : 0;
        return (signed, k1 + i + f, k1 + i);
    }

    /// <summary>The range of each bit group (max, min) from the per-element range.</summary>
    private (float[] Hi, float[] Lo) GroupRanges()
    {
        var r = Range!.Value;
        int groups = FracBits!.Length;
        var hi = new float[groups];
        var lo = new float[groups];
        for (int e = 0; e < _size; e++)
        {
            int g = Group(e);
            if (r[e] > hi[g]) hi[g] = r[e];
            if (r[_size + e] < lo[g]) lo[g] = r[_size + e];
        }
        return (hi, lo);
    }

    /// <summary>Element widths of an activation (0 = pruned): what the cost and the penalty multiply.</summary>
    public int[] ElementWidths()
    {
        var w = new int[_size];
        var (ghi, glo) = GroupRanges();
        for (int e = 0; e < _size; e++) w[e] = Math.Max(0, ElementType(e, ghi, glo).Width);
        return w;
    }

    // Per-element scale 2^F and code bounds of the current bits and range (activations).
    private (double[] Scale, double[] Lo, double[] Hi) Bounds()
    {
        var scale = new double[_size];
        var lo = new double[_size];
        var hi = new double[_size];
        var (ghi, glo) = Role == LearnedRole.Activation ? GroupRanges() : ([], []);
        for (int e = 0; e < _size; e++)
        {
            int f = Fractional(Group(e));
            scale[e] = Math.ScaleB(1.0, f);
            if (Role == LearnedRole.Weight) { lo[e] = double.NegativeInfinity; hi[e] = double.PositiveInfinity; continue; }
            var (signed, w, _) = ElementType(e, ghi, glo);
            if (w <= 0) { lo[e] = hi[e] = 0; continue; }
            lo[e] = signed ? -Math.ScaleB(1.0, w - 1) : 0;
            hi[e] = signed ? Math.ScaleB(1.0, w - 1) - 1 : Math.ScaleB(1.0, w) - 1;
        }
        return (scale, lo, hi);
    }

    // Largest F among non-zero outputs and largest |code| at that F, of the last forward (kernels: the common type).
    private int _lastFrac = int.MinValue;
    private double _lastMax;

    public float Quantize(float x)
    {
        Span<float> y = stackalloc float[1];
        Forward([x], y, 1);
        return y[0];
    }

    public void Forward(ReadOnlySpan<float> x, Span<float> y) => Forward(x, y, 1);

    public void Forward(ReadOnlySpan<float> x, Span<float> y, int channels) => Run(x, y, training: false);

    /// <summary>The forward pass; in training an activation quantizer records the range of <paramref name="x"/>.</summary>
    public void Run(ReadOnlySpan<float> x, Span<float> y, bool training)
    {
        if (FracBits is null) throw new HetQException($"{Spec}: not bound to a tensor");
        if (training && Role == LearnedRole.Activation) Observe(x);
        var (scale, lo, hi) = Bounds();
        int frac = int.MinValue;
        double maxAbs = 0;
        for (int i = 0; i < x.Length; i++)
        {
            int e = i % _size;
            double v = Math.Floor(x[i] * scale[e] + 0.5);
            if (v < lo[e]) v = lo[e];
            else if (v > hi[e]) v = hi[e];
            y[i] = (float)(v / scale[e]);
            if (Role == LearnedRole.Weight && v != 0)
            {
                int f = Fractional(Group(e));
                if (f > frac) frac = f;
            }
        }
        if (Role == LearnedRole.Weight)
        {
            for (int i = 0; i < x.Length; i++)
                if (y[i] != 0) maxAbs = Math.Max(maxAbs, Math.Abs(Math.ScaleB((double)y[i], frac)));
            _lastFrac = frac;
            _lastMax = maxAbs;
        }
    }

    private void Observe(ReadOnlySpan<float> x)
    {
        var mx = new float[_size];
        var mn = new float[_size];
        for (int i = 0; i < x.Length; i++)
        {
            int e = i % _size;
            float v = x[i];
            if (v > mx[e]) mx[e] = v;
            if (v < mn[e]) mn[e] = v;
        }
        var s = _shared!;
        lock (s.Lock)
        {
            s.Seen = true;
            for (int e = 0; e < _size; e++)
            {
                if (mx[e] > s.RunMax[e]) s.RunMax[e] = mx[e];
                if (mn[e] < s.RunMin[e]) s.RunMin[e] = mn[e];
            }
            if (s.Growing)
            {
                var r = Range!.Value;
                for (int e = 0; e < _size; e++)
                {
                    if (mx[e] > r[e]) r[e] = mx[e];
                    if (mn[e] < r[_size + e]) r[_size + e] = mn[e];
                }
            }
        }
    }

    /// <summary>dx = dy inside the range (0 where saturated); df[group] += −ln2·(xq − x)·dy.</summary>
    public void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> gradOut, Span<float> gradIn)
    {
        var (scale, lo, hi) = Bounds();
        var df = FracBits!.Grad;
        bool train = FracBits.Trainable && df.Length > 0;
        for (int i = 0; i < x.Length; i++)
        {
            int e = i % _size;
            double s = scale[e];
            double raw = x[i] * s;
            double v = Math.Floor(raw + 0.5);
            float dy = gradOut[i];
            bool clipped = v < lo[e] || v > hi[e];
            if (clipped) v = v < lo[e] ? lo[e] : hi[e];
            if (train)
            {
                int g = Group(e);
                int f = Fractional(g);
                float b = FracBits.Value[g];
                // Past the clamp of F the rounded bits do not move: no gradient pushes further out.
                if (!(f == MaxBits && b > MaxBits) && !(f == MinBits && b < MinBits) && !clipped)
                    df[g] += (float)(-Math.Log(2) * (v / s - x[i]) * dy);
            }
            gradIn[i] = clipped ? 0 : dy;
        }
    }

    /// <summary>Weights: the common type holding every code of the last forward (the finest step, the widest range).
    /// Activations: the common type of all element formats.</summary>
    public FixedType? HardwareType
    {
        get
        {
            if (FracBits is null) return null;
            if (Role == LearnedRole.Weight)
            {
                if (_lastFrac == int.MinValue) return new FixedType(true, 1, 1);
                int bits = _lastMax < 1 ? 0 : (int)Math.Floor(Math.Log2(_lastMax)) + 1;
                int width = bits + 1;
                return new FixedType(true, width, width - _lastFrac);
            }
            return CommonActivationFormat()?.Type ?? new FixedType(false, 1, 1);
        }
    }

    public string? NoHardwareTypeReason => FracBits is null ? "the learned quantizer is not bound to a tensor" : null;

    /// <summary>The finest step and widest range over all element formats of an activation; null when every element is pruned.</summary>
    public FixedFormat? CommonActivationFormat()
    {
        int frac = int.MinValue, top = int.MinValue;
        bool signed = false;
        foreach (var element in ElementFormats())
            if (element is { } f)
            {
                frac = Math.Max(frac, f.Type.FractionalBits);
                int intBits = f.Type.IntegerBits - (f.Type.Signed ? 1 : 0);
                top = Math.Max(top, intBits);
                signed |= f.Type.Signed;
            }
        if (frac == int.MinValue) return null;
        int k = signed ? 1 : 0;
        int width = k + top + frac;
        return new FixedFormat(new FixedType(signed, Math.Max(1, width), k + top + (width < 1 ? 1 - width : 0)), Rounding.RND, Overflow.SAT);
    }

    public override string ToString() => Spec;
}
