using HetQ.Nn;
using PureHDF;
using PureHDF.VOL.Native;

namespace HetQ.Interop;

/// <summary>One HGQ2 quantizer as its layer config declares it (kq_conf, bq_conf, iq_conf: a QuantizerConfig).</summary>
internal sealed record Hgq2Quantizer(string Type, string Place, string Rounding, string Overflow);

/// <summary>Imports HGQ2 layers from Keras 3 archives where they map exactly. <c>QDense</c>, <c>QConv1D</c>, <c>QConv2D</c>:
/// the kernel and bias quantizers (kq, bq) are applied at import as HGQ2 defines them (<c>quantizers</c>'s fixed-point
/// ops: round, then wrap, or saturate first for SAT / SAT_SYM; zero where k + i + f ≤ 0) and each weight keeps the
/// fractional bits its value needs; the input quantizer (iq) becomes a quantizing layer before the layer (the model's
/// input quantizer when the layer reads the input); a standalone <c>Quantizer</c> layer a quantizing layer. A datalane
/// quantizer is ap_fixed&lt;k+i+f, k+i&gt; per element, so it maps like an HGQ proxy's FixedPointQuantizer.
/// Variables (keras.src.saving.saving_lib): the layer's own at <c>P/vars</c> (kernel, bias, then HGQ's beta and
/// ebops), each quantizer's at <c>P/kq/quantizer/vars</c> (trainable first, then the rest: k is uint8, the WRAP
/// decay speed a scalar; the other two in creation order: b, i for kbi; i, f for kif, f, i when i is not trained).</summary>
internal static class Hgq2Layers
{
    public static bool IsHgq2(KerasLayer l) => l.Module is { } m && (m == "hgq" || m.StartsWith("hgq.", StringComparison.Ordinal));

    /// <summary>The Keras class an HGQ2 layer computes as, or null when HetQ does not map it.</summary>
    public static string? KerasClass(string cls) => cls switch
    {
        "QDense" => "Dense",
        "QConv1D" => "Conv1D",
        "QConv2D" => "Conv2D",
        _ => null,
    };

    /// <summary>The internal class name of a quantizing layer made from an HGQ2 quantizer.</summary>
    public const string QuantizerClass = "hgq>Quantizer";

    public static Hgq2Quantizer Quantizer(JsonSpec layerConfig, string key, string defaultPlace, string where)
    {
        var conf = layerConfig.Object(key);
        if (conf is not null && conf.Has("class_name") && conf.Object("config") is { } inner) conf = inner;
        string place = conf?.String("place") ?? defaultPlace;
        string type = conf?.String("q_type") ?? "default";
        if (type == "default") type = place == "datalane" ? "kif" : "kbi";
        if (type is not ("kbi" or "kif"))
            throw new HetQException($"{where}: {key}: quantizer type '{type}' cannot be mapped exactly (HetQ imports HGQ2's fixed-point kbi and kif)");
        string defaultOverflow = place == "weight" ? "SAT_SYM" : "WRAP";
        string rnd = (conf?.String("round_mode") ?? "RND").ToUpperInvariant(), sat = (conf?.String("overflow_mode") ?? defaultOverflow).ToUpperInvariant();
        if (rnd.StartsWith("S_", StringComparison.Ordinal)) rnd = rnd[2..]; // stochastic rounding acts in training only
        return new Hgq2Quantizer(type, place, rnd, sat);
    }

    /// <summary>(k, i, f) of a quantizer's variables at <paramref name="path"/>, broadcast to <paramref name="shape"/>
    /// (datalane quantizers keep a leading batch axis of 1: <paramref name="batchAxis"/>).</summary>
    public static (int[] K, int[] I, int[] F) Read(NativeFile h5, string path, Hgq2Quantizer q, int[] shape, bool batchAxis, string where)
    {
        var vars = KerasArchive.Vars(h5, path) ?? throw new HetQException($"{where}: the weights file has no '{path}/vars'");
        var sets = new List<(float[] Values, ulong[] Dims, bool Uint8)>();
        for (int n = 0; vars.LinkExists(n.ToString(System.Globalization.CultureInfo.InvariantCulture)); n++)
        {
            var ds = vars.Dataset(n.ToString(System.Globalization.CultureInfo.InvariantCulture));
            bool u8 = ds.Type.Class == H5DataTypeClass.FixedPoint && ds.Type.Size == 1;
            float[] v = u8 ? ds.Read<byte[]>().Select(b => (float)b).ToArray()
                : ds.Type.Class == H5DataTypeClass.FloatingPoint && ds.Type.Size == 4 ? ds.Read<float[]>()
                : ds.Type.Class == H5DataTypeClass.FloatingPoint && ds.Type.Size == 8 ? ds.Read<double[]>().Select(d => (float)d).ToArray()
                : throw new HetQException($"{where}: '{path}/vars/{n}' is {ds.Type.Class} of {ds.Type.Size} bytes");
            sets.Add((v, ds.Space.Dimensions, u8));
        }
        var k = sets.Where(s => s.Uint8).ToList();
        var floats = sets.Where(s => !s.Uint8 && s.Dims.Length > 0).ToList();
        if (k.Count != 1 || floats.Count != 2)
            throw new HetQException($"{where}: '{path}/vars' holds {sets.Count} variables; expected keep_negative (uint8) and two bit-width arrays ({q.Type})");
        bool iTrained = q.Overflow != "WRAP";
        // kbi: b, i in either case; kif: i, f when i is trained, else f, i.
        var (first, second) = (floats[0], floats[1]);
        int[] Whole(float[] v) => v.Select(x => (int)Math.Round(x, MidpointRounding.ToEven)).ToArray(); // HGQ2 rounds bit widths half to even
        int[] B(ulong[] dims, int[] v) => HgqProxy.Broadcast(v, dims, shape, batchAxis, where);
        var kk = B(k[0].Dims, Whole(k[0].Values));
        if (q.Type == "kbi")
        {
            var b = B(first.Dims, Whole(first.Values));
            var i = B(second.Dims, Whole(second.Values));
            return (kk, i, b.Select((x, e) => x - i[e]).ToArray());
        }
        var (iv, fv) = iTrained ? (first, second) : (second, first);
        return (kk, B(iv.Dims, Whole(iv.Values)), B(fv.Dims, Whole(fv.Values)));
    }

    /// <summary>A datalane quantizer as an HGQ proxy format: b = k + i + f, I = k + i (0 bits where k + i + f ≤ 0).</summary>
    public static HgqFormat Format((int[] K, int[] I, int[] F) kif, Hgq2Quantizer q)
    {
        int n = kif.K.Length;
        var b = new int[n];
        var integer = new int[n];
        var k = new int[n];
        for (int e = 0; e < n; e++)
        {
            int w = kif.K[e] + kif.I[e] + kif.F[e];
            if (w <= 0) continue;
            k[e] = kif.K[e];
            b[e] = w;
            integer[e] = kif.K[e] + kif.I[e];
        }
        return new HgqFormat(k, b, integer, q.Rounding, q.Overflow);
    }

    /// <summary>HGQ2's quantization of a weight array (round mode, overflow mode; a WRAP weight quantizer only rounds).</summary>
    public static void QuantizeWeights(float[] w, (int[] K, int[] I, int[] F) kif, Hgq2Quantizer q, bool isWeight, string where)
    {
        for (int e = 0; e < w.Length; e++)
        {
            int k = kif.K[e], i = kif.I[e], f = kif.F[e];
            if (k + i + f <= 0) { w[e] = 0; continue; }
            i = Math.Max(i, -f);
            double x = w[e], eps = Math.ScaleB(1.0, -f), top = Math.ScaleB(1.0, i);
            bool wrap = q.Overflow == "WRAP";
            if (!wrap)
            {
                double hi = top - eps, lo = q.Overflow switch
                {
                    "SAT" => -top * k,
                    "SAT_SYM" => -hi * k,
                    _ => throw new HetQException($"{where}: overflow {q.Overflow} cannot be mapped exactly (SAT, SAT_SYM, WRAP)"),
                };
                x = x > hi ? hi : x < lo ? lo : x;
            }
            double s = Math.ScaleB(x, f);
            s = q.Rounding switch
            {
                "RND" => Math.Floor(s + 0.5),
                "TRN" => Math.Floor(s),
                "RND_CONV" => Math.Round(s, MidpointRounding.ToEven),
                _ => throw new HetQException($"{where}: rounding {q.Rounding} cannot be mapped exactly (RND, TRN, RND_CONV)"),
            };
            x = Math.ScaleB(s, -f);
            if (wrap && !(isWeight && q.Rounding == "RND"))
            {
                double span = Math.ScaleB(1.0, i + k), bias = k * Math.ScaleB(1.0, i + k - 1);
                x = (x + bias) - span * Math.Floor((x + bias) / span) - bias;
            }
            w[e] = (float)x;
            if (w[e] != x) throw new HetQException($"{where}: the quantized value {x} at {e} is not a float32");
        }
    }

    /// <summary>The HGQ2 layer as the plain Keras layer it computes (its quantizers are handled around it).</summary>
    public static KerasLayer AsKeras(KerasLayer l, string where)
    {
        var c = l.Config;
        if (c.Bool("enable_oq", false)) throw new HetQException($"{where}: an output quantizer (enable_oq) is not mapped yet; use the next layer's input quantizer");
        return l with { ClassName = KerasClass(l.ClassName)! };
    }

    /// <summary>Builds a Keras 3 model holding HGQ2 layers: each mapped layer becomes its Keras class with an input
    /// quantizing layer before it, each Quantizer layer a quantizing layer; then <see cref="KerasImporter.BuildQuantized"/>.</summary>
    public static Model Build(KerasGraph graph, IReadOnlyList<(string ClassName, string Name)> order, NativeFile h5, string file, string source, List<string> warnings)
    {
        var paths = KerasArchive.Paths(order);
        var layers = new List<KerasLayer>();
        var quantizers = new Dictionary<string, (string Path, Hgq2Quantizer Q)>(StringComparer.Ordinal);
        var weightQ = new Dictionary<string, (Hgq2Quantizer Kernel, Hgq2Quantizer? Bias)>(StringComparer.Ordinal);
        bool sequential = graph.Layers[0].Inputs.Length == 0;
        for (int idx = 0; idx < graph.Layers.Count; idx++)
        {
            var l = graph.Layers[idx];
            string where = $"{source}: layer '{l.Name}' ({l.ClassName})";
            if (!IsHgq2(l))
            {
                layers.Add(l);
                continue;
            }
            if (l.ClassName == "Quantizer")
            {
                var ql = l with { ClassName = QuantizerClass };
                quantizers[l.Name] = (paths[l.Name] + "/quantizer", Quantizer(l.Config, "config", "datalane", where));
                layers.Add(ql);
                continue;
            }
            if (KerasClass(l.ClassName) is null)
                throw new HetQException($"{where}: HGQ2 layer (module {l.Module}) is not supported (HetQ maps HGQ2's QDense, QConv1D, QConv2D and Quantizer)");
            var k = AsKeras(l, where);
            weightQ[l.Name] = (Quantizer(l.Config, "kq_conf", "weight", where), l.Config.Bool("use_bias", true) ? Quantizer(l.Config, "bq_conf", "bias", where) : null);
            if (l.Config.Bool("enable_iq", true))
            {
                string name = l.Name + "_iq";
                if (graph.Layers.Any(o => o.Name == name)) throw new HetQException($"{where}: its input quantizer's name '{name}' is taken by another layer");
                quantizers[name] = (paths[l.Name] + "/iq/quantizer", Quantizer(l.Config, "iq_conf", "datalane", where));
                layers.Add(new KerasLayer(QuantizerClass, name, l.Config, l.Inputs, l.Module));
                k = k with { Inputs = sequential ? [] : [name] };
            }
            layers.Add(k);
        }
        graph = graph with { Layers = layers };
        return KerasImporter.BuildQuantized(graph, source, warnings, file,
            (qs, shapeOf) => qs.ToDictionary(q => q.Name, q =>
            {
                var (path, hq) = quantizers[q.Name];
                return Format(Read(h5, path, hq, shapeOf(q), true, $"{file}: layer '{q.Name}'"), hq);
            }, StringComparer.Ordinal),
            (model, plans, external) =>
            {
                KerasArchive.Load(h5, file, model, plans, order);
                foreach (var node in model.Nodes)
                {
                    if (!weightQ.TryGetValue(node.Layer.Name, out var wq)) continue;
                    string where = $"{file}: layer '{node.Layer.Name}'";
                    foreach (var p in node.Layer.Parameters)
                    {
                        string role = p.Name[(p.Name.LastIndexOf('/') + 1)..];
                        var (q, sub, isWeight) = role switch
                        {
                            "kernel" => (wq.Kernel, "/kq/quantizer", true),
                            "bias" => (wq.Bias!, "/bq/quantizer", false),
                            _ => (null, "", false),
                        };
                        if (q is null) continue;
                        var kif = Read(h5, paths[node.Layer.Name] + sub, q, p.Shape, false, $"{where}: {role} quantizer");
                        QuantizeWeights(p.Value, kif, q, isWeight, $"{where}: {role}");
                    }
                }
            });
    }
}
