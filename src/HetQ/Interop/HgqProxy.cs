using System.Globalization;
using HetQ.Nn;
using HetQ.Quantization;
using PureHDF;
using PureHDF.VOL.Native;

namespace HetQ.Interop;

/// <summary>The per-element fixed-point format of one HGQ <c>FixedPointQuantizer</c>: keep_negative k, bits b and
/// integer bits I (sign included) for every element of the tensor it quantizes, broadcast to the sample shape;
/// rounding and overflow as HGQ names them.</summary>
internal sealed record HgqFormat(int[] K, int[] B, int[] I, string Rounding, string Overflow)
{
    /// <summary>True when every element has the same (k, b, I).</summary>
    public bool Uniform => K.All(v => v == K[0]) && B.All(v => v == B[0]) && I.All(v => v == I[0]);
}

/// <summary>Imports HGQ (v1) proxy models, the Keras models <c>HGQ.proxy.to_proxy_model</c> writes for hls4ml: plain
/// Keras layers whose kernels and biases already hold their quantized values, with a <c>FixedPointQuantizer</c> layer
/// after each quantized tensor. A FixedPointQuantizer computes, per element (HGQ's <c>gfixed_quantizer</c>),
/// <c>sat(rnd(x·2^f), k, b)·2^-f</c> with f = b − I, zero where b = 0: exactly ap_fixed&lt;b, I&gt; (k = 1) or
/// ap_ufixed&lt;b, I&gt; (k = 0). A uniform one becomes that ap_fixed quantizer; a heterogeneous one a learned per-element
/// quantizer whose bits and range are set to give each element its (k, b, I); kernels and biases get per-weight learned
/// quantizers at the fewest fractional bits that hold each value exactly. What cannot be mapped exactly is an error.</summary>
internal static class HgqProxy
{
    public static bool IsQuantizer(string className) => className is "FixedPointQuantizer" or "HGQ>FixedPointQuantizer" or Hgq2Layers.QuantizerClass;

    /// <summary>HGQ's trainable layers (HDense, HQuantize, ...) are not proxies: they must be converted first.</summary>
    public static bool IsHgqLayer(string className) =>
        className.StartsWith("HGQ>", StringComparison.Ordinal) && !IsQuantizer(className)
        || className is "HQuantize" or "HDense" or "HConv1D" or "HConv2D" or "HActivation" or "HAdd" or "HBatchNormalization"
            or "HDenseBatchNorm" or "HConv2DBatchNorm" or "PReshape" or "PFlatten" or "PConcatenate" or "PMaxPooling2D"
            or "PAvgPool2D" or "PDropout" or "Signature";

    /// <summary>Fractional bits a weight may need at most (a float bias that was never quantized needs more: an error).</summary>
    private const int MaxWeightFrac = 32;

    /// <summary>Reads the keep_negative / bits / integers variables of every FixedPointQuantizer layer from a Keras 2
    /// weights file (the layout of <see cref="KerasWeights"/>), broadcast to each layer's sample shape.</summary>
    public static Dictionary<string, HgqFormat> ReadFormats(NativeFile h5, string file, IEnumerable<KerasLayer> quantizers, Func<KerasLayer, int[]> sampleShape)
    {
        IH5Group group = h5.AttributeExists("layer_names") ? h5
            : h5.LinkExists("model_weights") ? h5.Group("model_weights")
            : throw new HetQException($"{file}: not a Keras weights file (no 'layer_names' attribute on the root or on 'model_weights')");
        var formats = new Dictionary<string, HgqFormat>(StringComparer.Ordinal);
        foreach (var q in quantizers)
        {
            string where = $"{file}: layer '{q.Name}' ({q.ClassName})";
            if (!group.LinkExists(q.Name)) throw new HetQException($"{where}: the weights file has no group for it (keep_negative, bits, integers)");
            var g = group.Group(q.Name);
            var names = g.AttributeExists("weight_names") ? g.Attribute("weight_names").Read<string[]>().Select(n => n.TrimEnd('\0')).ToArray() : [];
            int[] shape = sampleShape(q);
            int[] Var(string role)
            {
                string name = names.FirstOrDefault(n => KerasWeights.Role(n) == role)
                    ?? throw new HetQException($"{where}: no '{role}' variable (weight_names: {string.Join(", ", names)})");
                return Broadcast(ReadInts(g.Dataset(name), $"{where}: {role}"), g.Dataset(name).Space.Dimensions, shape, true, $"{where}: {role}");
            }
            string rnd = q.Config.String("RND", "TRN"), sat = q.Config.String("SAT", "WRAP");
            formats[q.Name] = new HgqFormat(Var("keep_negative"), Var("bits"), Var("integers"), rnd, sat);
        }
        return formats;
    }

    private static int[] ReadInts(IH5Dataset ds, string where)
    {
        if (ds.Type.Class == H5DataTypeClass.FixedPoint && ds.Type.Size == 1) return ds.Read<sbyte[]>().Select(v => (int)v).ToArray();
        if (ds.Type.Class == H5DataTypeClass.FixedPoint && ds.Type.Size == 4) return ds.Read<int[]>();
        if (ds.Type.Class == H5DataTypeClass.FloatingPoint && ds.Type.Size == 4)
            return ds.Read<float[]>().Select(v => v == Math.Round(v) ? (int)v : throw new HetQException($"{where}: {v} is not a whole number of bits")).ToArray();
        throw new HetQException($"{where}: {ds.Type.Class} of {ds.Type.Size} bytes; HGQ writes int8");
    }

    /// <summary>NumPy broadcasting of a bit-width array to the sample shape (with <paramref name="batchAxis"/>, the array
    /// has a leading batch axis of 1, as HGQ keeps for activations).</summary>
    internal static int[] Broadcast(int[] values, ulong[] dims, int[] shape, bool batchAxis, string where)
    {
        var full = batchAxis ? new[] { 1 }.Concat(shape).ToArray() : shape;
        if (dims.Length > full.Length) throw new HetQException($"{where}: shape [{string.Join(",", dims)}] does not fit the tensor [{string.Join(",", shape)}]");
        var d = Enumerable.Repeat(1L, full.Length - dims.Length).Concat(dims.Select(v => (long)v)).ToArray();
        for (int a = 0; a < full.Length; a++)
            if (d[a] != 1 && d[a] != full[a]) throw new HetQException($"{where}: shape [{string.Join(",", dims)}] does not broadcast to the tensor [{string.Join(",", shape)}]");
        int size = Numerics.Tensor.Size(shape);
        var result = new int[size];
        for (int e = 0; e < size; e++)
        {
            int rem = e, src = 0, stride = 1;
            for (int a = full.Length - 1; a >= (batchAxis ? 1 : 0); a--)
            {
                int idx = rem % full[a];
                rem /= full[a];
                if (d[a] != 1) src += idx * stride;
                stride *= (int)d[a];
            }
            result[e] = values[src];
        }
        return result;
    }

    /// <summary>The HetQ quantizer spec of a FixedPointQuantizer: an ap_fixed type when uniform, a learned per-element
    /// quantizer otherwise; rounding and overflow that HetQ does not have are an error naming the layer.</summary>
    public static string Spec(HgqFormat f, string where)
    {
        string rnd = f.Rounding.ToUpperInvariant(), sat = f.Overflow.ToUpperInvariant();
        if (rnd is not ("RND" or "TRN"))
            throw new HetQException($"{where}: rounding {f.Rounding} cannot be mapped exactly (HetQ imports HGQ's RND and TRN)");
        if (sat is not ("SAT" or "WRAP"))
            throw new HetQException($"{where}: overflow {f.Overflow} cannot be mapped exactly (HetQ imports HGQ's SAT and WRAP)");
        for (int e = 0; e < f.B.Length; e++)
        {
            if (f.K[e] is not (0 or 1)) throw new HetQException($"{where}: keep_negative {f.K[e]} at element {e} (0 or 1)");
            if (f.B[e] < 0) throw new HetQException($"{where}: bits {f.B[e]} at element {e} is negative");
        }
        if (f.Uniform && f.B[0] > 0)
            return string.Create(CultureInfo.InvariantCulture, $"{(f.K[0] == 1 ? "ap_fixed" : "ap_ufixed")}<{f.B[0]},{f.I[0]},{rnd},{sat}>");
        var frac = f.B.Select((b, e) => b - f.I[e]).ToArray();
        return string.Create(CultureInfo.InvariantCulture, $"learned_fixed(role=activation,granularity=element,init=0,min={frac.Min()},max={frac.Max()}{(rnd == "RND" ? "" : ",round=TRN")}{(sat == "SAT" ? "" : ",overflow=WRAP")})");
    }

    /// <summary>Gives a bound learned activation quantizer the (k, b, I) of every element: fractional bits b − I, and
    /// a range whose magnitude 2^(I−k−1) gives I − k integer bits (negative only where k = 1).</summary>
    public static void Apply(LearnedQuantizer q, HgqFormat f, string where)
    {
        var bits = q.FracBits!.Value;
        var range = q.Range!.Value;
        int size = q.Size;
        if (bits.Length != size || f.B.Length != size) throw new HetQException($"{where}: {f.B.Length} formats for a tensor of {size} elements");
        for (int e = 0; e < size; e++)
        {
            bits[e] = f.B[e] - f.I[e];
            double m = f.B[e] == 0 ? 0 : Math.ScaleB(1.0, f.I[e] - f.K[e] - 1);
            if (m != 0 && (m > float.MaxValue || m < float.Epsilon)) throw new HetQException($"{where}: integer bits {f.I[e]} at element {e} are out of range");
            range[e] = (float)m;
            range[size + e] = f.K[e] == 1 ? -(float)m : 0;
        }
        for (int e = 0; e < size; e++)
        {
            var (_, width, integer) = q.ElementType(e);
            int expectWidth = f.B[e], expectInt = f.B[e] == 0 ? integer : f.I[e];
            if (Math.Max(0, width) != expectWidth || integer != expectInt)
                throw new HetQException($"{where}: element {e} (k={f.K[e]}, b={f.B[e]}, I={f.I[e]}) does not map to a HetQ type");
        }
    }

    /// <summary>The spec of a per-weight quantizer that holds every value of <paramref name="values"/> exactly (the
    /// proxy's kernels and biases are already quantized), with the fractional bits of each weight.</summary>
    public static (string Spec, float[] Frac) WeightSpec(float[] values, string where)
    {
        var frac = new float[values.Length];
        int lo = int.MaxValue, hi = int.MinValue;
        for (int i = 0; i < values.Length; i++)
        {
            double v = values[i];
            if (v == 0 || !double.IsFinite(v))
            {
                if (!double.IsFinite(v)) throw new HetQException($"{where}: value {v} at {i} is not finite");
                continue;
            }
            int f = 0;
            while (v != Math.Floor(v))
            {
                v *= 2;
                f++;
                if (f > MaxWeightFrac)
                    throw new HetQException($"{where}: value {values[i].ToString("R", CultureInfo.InvariantCulture)} at {i} needs more than {MaxWeightFrac} fractional bits: not a quantized HGQ weight (a proxy keeps its biases in float unless the layer quantizes them)");
            }
            while (f > -16 && v / 2 == Math.Floor(v / 2))
            {
                v /= 2;
                f--;
            }
            frac[i] = f;
            lo = Math.Min(lo, f);
            hi = Math.Max(hi, f);
        }
        if (lo == int.MaxValue) lo = hi = 0;
        for (int i = 0; i < values.Length; i++) if (values[i] == 0) frac[i] = lo;
        return (string.Create(CultureInfo.InvariantCulture, $"learned_fixed(role=weight,granularity=element,init=0,min={lo},max={hi})"), frac);
    }
}
