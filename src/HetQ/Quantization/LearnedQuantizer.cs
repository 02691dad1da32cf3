using System.Runtime.Intrinsics;
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

    /// <summary>Activations: how codes are rounded, RND (round half up, the default) or TRN (floor); imported HGQ
    /// models use both. Weights always round RND.</summary>
    public Rounding Rounding { get; }

    /// <summary>Activations: what happens past the range, SAT (the default) or WRAP (two's complement, as HGQ's proxies do).</summary>
    public Overflow Overflow { get; }

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

    public LearnedQuantizer(LearnedRole role, BitGranularity granularity, float initial, int minBits, int maxBits,
        Rounding rounding = Rounding.RND, Overflow overflow = Overflow.SAT)
    {
        if (minBits > maxBits) throw new HetQException($"learned_fixed: min {minBits} is above max {maxBits}");
        if (rounding is not (Rounding.RND or Rounding.TRN)) throw new HetQException($"learned_fixed: rounding {rounding} is not supported (RND, TRN)");
        if (overflow is not (Overflow.SAT or Overflow.WRAP)) throw new HetQException($"learned_fixed: overflow {overflow} is not supported (SAT, WRAP)");
        if (role == LearnedRole.Weight && (rounding != Rounding.RND || overflow != Overflow.SAT))
            throw new HetQException("learned_fixed: rounding and overflow apply to activations only");
        Rounding = rounding;
        Overflow = overflow;
        Role = role;
        Granularity = granularity;
        Initial = initial;
        MinBits = minBits;
        MaxBits = maxBits;
    }

    public string Spec => string.Create(CultureInfo.InvariantCulture,
        $"learned_fixed(role={(Role == LearnedRole.Weight ? "weight" : "activation")},granularity={Granularity.ToString().ToLowerInvariant()},init={Initial:R},min={MinBits},max={MaxBits}{(Rounding == Rounding.RND ? "" : $",round={Rounding}")}{(Overflow == Overflow.SAT ? "" : $",overflow={Overflow}")})");

    int IQuantizer.Bits => Math.Max(0, MaxBits);
    public bool IsStochastic => false;
    public IReadOnlyList<double>? Values => null;
    public bool IsBound => FracBits is not null;
    public int Size => _size;
    public IReadOnlyList<int> Shape => _shape;

    private static readonly Regex SpecPattern = new(@"^learned_fixed\((.*)\)$", RegexOptions.CultureInvariant);

    /// <summary>Parses <c>learned_fixed(role=weight|activation, granularity=element|channel|layer, init=F, min=N, max=N[, round=RND|TRN][, overflow=SAT|WRAP])</c>.</summary>
    public static LearnedQuantizer Parse(string spec)
    {
        var m = SpecPattern.Match(spec.Replace(" ", "", StringComparison.Ordinal));
        if (!m.Success) throw new HetQException($"'{spec}': expected learned_fixed(role=..., granularity=..., init=..., min=..., max=...)");
        var role = LearnedRole.Activation;
        var gran = BitGranularity.Element;
        float init = 6;
        int min = -8, max = 8;
        var rounding = Rounding.RND;
        var overflow = Overflow.SAT;
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
                case "round": rounding = v switch { "RND" => Rounding.RND, "TRN" => Rounding.TRN, _ => throw new HetQException($"'{spec}': round must be RND or TRN") }; break;
                case "overflow": overflow = v switch { "SAT" => Overflow.SAT, "WRAP" => Overflow.WRAP, _ => throw new HetQException($"'{spec}': overflow must be SAT or WRAP") }; break;
                default: throw new HetQException($"'{spec}': unknown argument '{kv[0]}' (role, granularity, init, min, max, round, overflow)");
            }
        }
        return new LearnedQuantizer(role, gran, init, min, max, rounding, overflow);
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
        var q = new LearnedQuantizer(Role, Granularity, Initial, MinBits, MaxBits, Rounding, Overflow) { _shape = shape, _size = Math.Max(1, Numerics.Tensor.Size(shape)) };
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
        return new LearnedQuantizer(Role, Granularity, Initial, MinBits, MaxBits, Rounding, Overflow)
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
    public int Fractional(int g) => Math.Clamp((int)MathF.Round(FracBits!.Value[g]), MinBits, MaxBits);

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
    /// is always 0), with this quantizer's rounding and overflow.</summary>
    public FixedFormat?[] ElementFormats()
    {
        var (ghi, glo) = GroupRanges();
        var formats = new FixedFormat?[_size];
        for (int e = 0; e < _size; e++)
        {
            var (signed, width, integer) = ElementType(e, ghi, glo);
            if (width > 0) formats[e] = new FixedFormat(new FixedType(signed, width, integer), Rounding, Overflow);
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

    // Per-element scale 2^F and code bounds of the current bits and range, in buffers this instance reuses (each
    // worker replica has its own instance; a kernel's buffers are large and reallocating them per batch thrashes the GC).
    private double[] _scale = [], _inv = [], _lo = [], _hi = [];
    private bool[] _live = [];
    private double[] _pow = [], _invPow = [];
    private bool _fresh;
    private float[] _obsMax = [], _obsMin = [];

    private void Bounds()
    {
        if (_scale.Length != _size || _inv.Length != _size)
        {
            _scale = new double[_size];
            _inv = new double[_size];
            _live = new bool[_size];
            _lo = new double[_size];
            _hi = new double[_size];
        }
        var bits = FracBits!.Value;
        if (_pow.Length == 0)
        {
            _pow = new double[MaxBits - MinBits + 1];
            _invPow = new double[_pow.Length];
            for (int f = MinBits; f <= MaxBits; f++)
            {
                _pow[f - MinBits] = Math.ScaleB(1.0, f);
                _invPow[f - MinBits] = Math.ScaleB(1.0, -f);
            }
        }
        int min = MinBits, max = MaxBits;
        bool element = Granularity == BitGranularity.Element;
        for (int e = 0; e < _size; e++)
        {
            int g = element ? e : Group(e);
            float b = bits[g];
            int f = Math.Clamp((int)MathF.Round(b), min, max);
            _scale[e] = _pow[f - min];
            _inv[e] = _invPow[f - min];
            // Past the clamp the rounded F does not move: no gradient pushes b further out.
            _live[e] = b >= min && b <= max;
        }
        if (Role == LearnedRole.Weight)
        {
            Array.Fill(_lo, double.NegativeInfinity);
            Array.Fill(_hi, double.PositiveInfinity);
            return;
        }
        var (ghi, glo) = GroupRanges();
        for (int e = 0; e < _size; e++)
        {
            var (signed, w, _) = ElementType(e, ghi, glo);
            if (w <= 0) { _lo[e] = _hi[e] = 0; continue; }
            _lo[e] = signed ? -Math.ScaleB(1.0, w - 1) : 0;
            _hi[e] = signed ? Math.ScaleB(1.0, w - 1) - 1 : Math.ScaleB(1.0, w) - 1;
        }
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
        if (Role == LearnedRole.Weight && Granularity == BitGranularity.Element && x.Length == _size && Vector256.IsHardwareAccelerated)
        {
            WeightsFast(x, y);
            if (!training) CommonWeightType(y);
            return;
        }
        if (training && Role == LearnedRole.Activation) Observe(x);
        Bounds();
        _fresh = true;
        double[] scale = _scale, inv = _inv, lo = _lo, hi = _hi;
        if (Role == LearnedRole.Weight)
        {
            for (int i = 0, e = 0; i < x.Length; i++, e = e + 1 == _size ? 0 : e + 1)
                y[i] = (float)(Math.Floor(x[i] * scale[e] + 0.5) * inv[e]);
            if (!training) CommonWeightType(y);
            return;
        }
        if (Rounding != Rounding.RND || Overflow != Overflow.SAT)
        {
            double half = Rounding == Rounding.TRN ? 0 : 0.5;
            for (int i = 0, e = 0; i < x.Length; i++, e = e + 1 == _size ? 0 : e + 1)
            {
                double v = Math.Floor(x[i] * scale[e] + half);
                if (Overflow == Overflow.WRAP)
                {
                    double span = hi[e] - lo[e] + 1;
                    v = lo[e] + (v - lo[e] - span * Math.Floor((v - lo[e]) / span));
                }
                else
                {
                    v = v < lo[e] ? lo[e] : v > hi[e] ? hi[e] : v;
                }
                y[i] = (float)(v * inv[e]);
            }
            return;
        }
        for (int i = 0, e = 0; i < x.Length; i++, e = e + 1 == _size ? 0 : e + 1)
        {
            double v = Math.Floor(x[i] * scale[e] + 0.5);
            v = v < lo[e] ? lo[e] : v > hi[e] ? hi[e] : v;
            y[i] = (float)(v * inv[e]);
        }
    }

    private float[] _scaleF = [], _invF = [], _liveF = [];
    private bool _fastFresh;

    // Per-weight widths, vectorised: F = clamp(round(b)) as a float exponent, y = round-half-even(x·2^F)·2^-F (exact in
    // float: scaling by a power of two is exact and Round is; ties go to even, which only chooses the codes).
    private void WeightsFast(ReadOnlySpan<float> x, Span<float> y)
    {
        if (_scaleF.Length != _size)
        {
            _scaleF = new float[_size];
            _invF = new float[_size];
            _liveF = new float[_size];
        }
        var bits = FracBits!.Value;
        var vmin = Vector256.Create((float)MinBits);
        var vmax = Vector256.Create((float)MaxBits);
        var bias = Vector256.Create(127);
        var one = Vector256.Create(1f);
        int i = 0;
        for (; i + 8 <= _size; i += 8)
        {
            var b = Vector256.Create(bits.AsSpan(i, 8));
            var f = Vector256.Min(Vector256.Max(Vector256.Round(b), vmin), vmax);
            var fi = Vector256.ConvertToInt32(f);
            var scale = Vector256.ShiftLeft(fi + bias, 23).AsSingle();
            var inv = Vector256.ShiftLeft(bias - fi, 23).AsSingle();
            var live = Vector256.GreaterThanOrEqual(b, vmin) & Vector256.LessThanOrEqual(b, vmax);
            scale.CopyTo(_scaleF.AsSpan(i, 8));
            inv.CopyTo(_invF.AsSpan(i, 8));
            (live & one).CopyTo(_liveF.AsSpan(i, 8));
            var xv = Vector256.Create(x.Slice(i, 8));
            (Vector256.Round(xv * scale) * inv).CopyTo(y.Slice(i, 8));
        }
        for (; i < _size; i++)
        {
            float b = bits[i];
            int f = Math.Clamp((int)MathF.Round(b), MinBits, MaxBits);
            _scaleF[i] = MathF.ScaleB(1f, f);
            _invF[i] = MathF.ScaleB(1f, -f);
            _liveF[i] = b >= MinBits && b <= MaxBits ? 1 : 0;
            y[i] = MathF.Round(x[i] * _scaleF[i]) * _invF[i];
        }
        if (_scale.Length != _size) _scale = new double[_size];
        for (int e = 0; e < _size; e++) _scale[e] = _scaleF[e];
        _fastFresh = true;
    }

    // df += −ln2·(q(x) − x)·dy for per-weight bits, vectorised; weights never saturate, so dx = dy.
    private void WeightsFastBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> gradOut, Span<float> gradIn)
    {
        var df = FracBits!.Grad;
        var k = Vector256.Create(-0.6931471805599453f);
        int i = 0;
        for (; i + 8 <= _size; i += 8)
        {
            var xv = Vector256.Create(x.Slice(i, 8));
            var s = Vector256.Create(_scaleF.AsSpan(i, 8));
            var inv = Vector256.Create(_invF.AsSpan(i, 8));
            var live = Vector256.Create(_liveF.AsSpan(i, 8));
            var dy = Vector256.Create(gradOut.Slice(i, 8));
            var d = Vector256.Create(df.AsSpan(i, 8));
            (d + k * (Vector256.Round(xv * s) * inv - xv) * dy * live).CopyTo(df.AsSpan(i, 8));
            dy.CopyTo(gradIn.Slice(i, 8));
        }
        for (; i < _size; i++)
        {
            df[i] += -0.6931471805599453f * (MathF.Round(x[i] * _scaleF[i]) * _invF[i] - x[i]) * gradOut[i] * _liveF[i];
            gradIn[i] = gradOut[i];
        }
    }

    // The finest step among non-zero outputs and the largest |code| at that step: the frozen kernel's common type.
    private void CommonWeightType(ReadOnlySpan<float> y)
    {
        double fineScale = 0;
        for (int i = 0, e = 0; i < y.Length; i++, e = e + 1 == _size ? 0 : e + 1)
            if (y[i] != 0 && _scale[e] > fineScale) fineScale = _scale[e];
        double maxAbs = 0;
        if (fineScale != 0)
            for (int i = 0; i < y.Length; i++)
                if (y[i] != 0) maxAbs = Math.Max(maxAbs, Math.Abs(y[i] * fineScale));
        _lastFrac = fineScale == 0 ? int.MinValue : (int)Math.Round(Math.Log2(fineScale));
        _lastMax = maxAbs;
    }

    private void Observe(ReadOnlySpan<float> x)
    {
        if (_obsMax.Length != _size)
        {
            _obsMax = new float[_size];
            _obsMin = new float[_size];
        }
        var mx = _obsMax;
        var mn = _obsMin;
        Array.Clear(mx);
        Array.Clear(mn);
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
        if (_fastFresh && x.Length == _size)
        {
            _fastFresh = false;
            if (FracBits!.Trainable && FracBits.Grad.Length > 0) WeightsFastBackward(x, gradOut, gradIn);
            else gradOut.CopyTo(gradIn);
            return;
        }
        // The bounds of the forward pass of this batch (the bits do not change between forward and backward).
        if (!_fresh) Bounds();
        _fresh = false;
        double[] scale = _scale, inv = _inv, lo = _lo, hi = _hi;
        var live = _live;
        var df = FracBits!.Grad;
        bool train = FracBits.Trainable && df.Length > 0;
        const double ln2 = 0.6931471805599453;
        bool element = Granularity == BitGranularity.Element;
        for (int i = 0, e = 0; i < x.Length; i++, e = e + 1 == _size ? 0 : e + 1)
        {
            double v = Math.Floor(x[i] * scale[e] + 0.5);
            float dy = gradOut[i];
            bool clipped = v < lo[e] || v > hi[e];
            if (clipped)
            {
                gradIn[i] = 0;
                continue;
            }
            // Past the clamp of F the rounded bits do not move: no gradient pushes further out.
            if (train && live[e]) df[element ? e : Group(e)] += (float)(-ln2 * (v * inv[e] - x[i]) * dy);
            gradIn[i] = dy;
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
