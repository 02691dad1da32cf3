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
public sealed partial class LearnedQuantizer : IQuantizer
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

    /// <summary>Range bookkeeping common to all replicas: this epoch's running range, merged under a lock (elementwise
    /// max and min, so the order in which workers arrive does not change it).</summary>
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

    /// <summary>After a training batch, on one thread: in the first epoch (while the range grows) the range observed so
    /// far by every worker becomes the quantization range of the next batch. Within a batch each worker quantizes with
    /// the range before the batch widened by its own share only, so the result does not depend on which worker is
    /// faster (a seed and a thread count give one run).</summary>
    public void EndBatch()
    {
        if (_shared is null || Range is null) return;
        lock (_shared.Lock)
        {
            if (!_shared.Growing || !_shared.Seen) return;
            var r = Range.Value;
            for (int e = 0; e < _size; e++)
            {
                if (_shared.RunMax[e] > r[e]) r[e] = _shared.RunMax[e];
                if (_shared.RunMin[e] < r[_size + e]) r[_size + e] = _shared.RunMin[e];
            }
        }
    }

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

    // Per-element scale 2^F and code bounds of the current bits and range, in buffers this instance reuses (each
    // worker replica has its own instance; a kernel's buffers are large and reallocating them per batch thrashes the GC).
    private double[] _scale = [], _inv = [], _lo = [], _hi = [];
    private bool[] _live = [];
    private double[] _pow = [], _invPow = [];
    private bool _fresh;
    private float[] _obsMax = [], _obsMin = [];

    private void Bounds(float[]? range = null)
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
        // The integer bits of each group come from the range, which changes once an epoch (every batch while it
        // grows): they are recomputed when the range differs from the one they were computed from.
        GroupTypes(range ?? Range!.Value);
        if (_loF.Length != _size)
        {
            _scaleA = new float[_size];
            _invA = new float[_size];
            _loF = new float[_size];
            _hiF = new float[_size];
        }
        // The float path of the activations is exact while codes fit in 22 bits and 2^±F are normal floats.
        _floatExact = MinBits >= -100 && MaxBits <= 100;
        for (int e = 0; e < _size; e++)
        {
            int g = element ? e : Group(e);
            int integer = _groupInt[g];
            int w = integer == int.MinValue ? 0 : integer + Math.Clamp((int)MathF.Round(bits[g]), min, max);
            _scaleA[e] = (float)_scale[e];
            _invA[e] = (float)_inv[e];
            if (w <= 0)
            {
                _lo[e] = _hi[e] = 0;
                _loF[e] = _hiF[e] = 0;
                continue;
            }
            bool signed = _groupSigned[g];
            if (w > 22) _floatExact = false;
            _lo[e] = signed ? -Math.ScaleB(1.0, w - 1) : 0;
            _hi[e] = signed ? Math.ScaleB(1.0, w - 1) - 1 : Math.ScaleB(1.0, w) - 1;
            _loF[e] = (float)_lo[e];
            _hiF[e] = (float)_hi[e];
        }
    }

    /// <summary>Each group's sign and integer bits (<see cref="IntegerBits"/>) from <paramref name="range"/>, kept until the range changes.</summary>
    private void GroupTypes(float[] range)
    {
        if (range.AsSpan().SequenceEqual(_typesFrom)) return;
        var (ghi, glo) = GroupRanges(range);
        if (_groupInt.Length != ghi.Length) _groupInt = new int[ghi.Length];
        if (_groupSigned.Length != ghi.Length) _groupSigned = new bool[ghi.Length];
        for (int g = 0; g < ghi.Length; g++)
        {
            var (signed, integer) = IntegerBits(ghi[g], glo[g]);
            _groupSigned[g] = signed;
            _groupInt[g] = integer;
        }
        _typesFrom = (float[])range.Clone();
    }

    private float[] _typesFrom = [];
    private int[] _groupInt = [];
    private bool[] _groupSigned = [];
    private float[] _scaleA = [], _invA = [], _loF = [], _hiF = [];
    private bool _floatExact;

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
            WeightsFast(x, y, training);
            if (!training) CommonWeightType(y);
            return;
        }
        Bounds(training && Role == LearnedRole.Activation ? Observe(x) : null);
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
        if (ActivationsVectorised(x.Length))
        {
            ActivationsFast(x, y);
            return;
        }
        for (int i = 0, e = 0; i < x.Length; i++, e = e + 1 == _size ? 0 : e + 1)
        {
            double v = Math.Floor(x[i] * scale[e] + 0.5);
            v = v < lo[e] ? lo[e] : v > hi[e] ? hi[e] : v;
            y[i] = (float)(v * inv[e]);
        }
    }

    // The first epoch's range for this worker's batch share: the range before the batch widened by the share.
    private float[] _growing = [];

    /// <summary>Records the range of x; while the range grows (first epoch), returns the range this worker quantizes
    /// this batch with (the shared range is widened only after the batch, by <see cref="EndBatch"/>), else null.</summary>
    private float[]? Observe(ReadOnlySpan<float> x)
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
        // Row by row (one sample of _size elements at a time), elementwise max and min.
        int whole = x.Length - x.Length % _size;
        for (int i = 0; i < whole; i += _size)
        {
            var row = x.Slice(i, _size);
            System.Numerics.Tensors.TensorPrimitives.Max(row, mx, mx);
            System.Numerics.Tensors.TensorPrimitives.Min(row, mn, mn);
        }
        for (int i = whole; i < x.Length; i++)
        {
            int e = i - whole;
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
            if (!s.Growing) return null;
        }
        var r = Range!.Value;
        if (_growing.Length != r.Length) _growing = new float[r.Length];
        for (int e = 0; e < _size; e++)
        {
            _growing[e] = Math.Max(r[e], mx[e]);
            _growing[_size + e] = Math.Min(r[_size + e], mn[e]);
        }
        return _growing;
    }

    /// <summary>dx = dy inside the range (0 where saturated); df[group] += −ln2·(xq − x)·dy.</summary>
    /// <summary>The bits' gradient of <see cref="Backward"/> without dx (the model input's quantizer: nothing reads it).</summary>
    public void BackwardBits(ReadOnlySpan<float> x, ReadOnlySpan<float> gradOut)
    {
        if (Role == LearnedRole.Activation && Granularity == BitGranularity.Element && ActivationsVectorised(x.Length))
        {
            if (!_fresh) Bounds();
            _fresh = false;
            var df = FracBits!.Grad;
            ActivationsFastBackward(x, gradOut, [], df, FracBits.Trainable && df.Length > 0);
            return;
        }
        var dx = System.Buffers.ArrayPool<float>.Shared.Rent(x.Length);
        Backward(x, gradOut, dx.AsSpan(0, x.Length));
        System.Buffers.ArrayPool<float>.Shared.Return(dx);
    }

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
        if (element && Role == LearnedRole.Activation && ActivationsVectorised(x.Length))
        {
            ActivationsFastBackward(x, gradOut, gradIn, df, train);
            return;
        }
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

    public override string ToString() => Spec;
}
