using System.Globalization;
using PureHDF;

namespace HetQ.Tests.Interop;

/// <summary>One Keras weight: its name as Keras writes it ("fc1/kernel:0"), values and shape.</summary>
internal sealed record KerasWeight(string Name, float[] Values, params ulong[] Shape);

/// <summary>Test files in Keras 2's layouts: weights .h5 written with PureHDF's writer, and readers for the
/// shared reference matrices.</summary>
internal static class KerasTestFiles
{
    /// <summary>Writes the layout of <c>model.save_weights</c> (or, with <paramref name="modelConfig"/>, of a full
    /// <c>model.save</c>: weights under <c>model_weights</c>, the architecture in attribute <c>model_config</c>).
    /// Strings are variable length, or with <paramref name="fixedLengthStrings"/> fixed length as h5py writes
    /// Keras's byte strings.</summary>
    public static void WriteWeights(string path, IReadOnlyList<(string Layer, KerasWeight[] Weights)> layers, string? modelConfig = null,
        bool fixedLengthStrings = false)
    {
        var weightsGroup = new H5Group();
        weightsGroup.Attributes["layer_names"] = layers.Select(l => l.Layer).ToArray();
        weightsGroup.Attributes["backend"] = "tensorflow";
        weightsGroup.Attributes["keras_version"] = "2.4.0";
        foreach (var (layer, weights) in layers)
        {
            var g = new H5Group();
            // Keras writes an empty float array for a layer without weights.
            g.Attributes["weight_names"] = weights.Length == 0
                ? new H5Attribute(Array.Empty<float>(), dimensions: [0])
                : weights.Select(w => w.Name).ToArray();
            foreach (var w in weights)
            {
                // "fc1/kernel:0" is the dataset kernel:0 in the subgroup fc1 of the layer's group.
                var parts = w.Name.Split('/');
                H5Group target = g;
                foreach (var part in parts[..^1])
                {
                    if (!target.TryGetValue(part, out var sub)) target[part] = sub = new H5Group();
                    target = (H5Group)sub;
                }
                target[parts[^1]] = new H5Dataset(w.Values, fileDims: w.Shape);
            }
            weightsGroup[layer] = g;
        }
        H5File file;
        if (modelConfig is null)
        {
            file = new H5File();
            foreach (var (k, v) in weightsGroup.Attributes) file.Attributes[k] = v;
            foreach (var (k, v) in weightsGroup) file[k] = v;
        }
        else
        {
            file = new H5File { ["model_weights"] = weightsGroup };
            file.Attributes["model_config"] = modelConfig;
            file.Attributes["keras_version"] = "2.4.0";
        }
        int longest = new[] { modelConfig ?? "" }.Concat(layers.SelectMany(l => l.Weights.Select(w => w.Name).Append(l.Layer)))
            .Max(t => System.Text.Encoding.UTF8.GetByteCount(t));
        file.Write(path, fixedLengthStrings ? new H5WriteOptions(DefaultStringLength: longest) : new H5WriteOptions());
    }

    /// <summary>A whitespace-separated matrix, one row per line.</summary>
    public static double[][] ReadMatrix(string path) =>
        File.ReadAllLines(path).Where(l => l.Trim().Length > 0)
            .Select(l => l.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray())
            .ToArray();

    /// <summary>Deterministic values in [-scale, scale).</summary>
    public static float[] Values(int n, int seed, double scale = 1)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)((rng.NextDouble() * 2 - 1) * scale)).ToArray();
    }

    public static int ArgMax(ReadOnlySpan<float> v)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    /// <summary>x·W + b for one row, W [in, out] row-major, in double.</summary>
    public static double[] Affine(double[] x, float[] w, float[] b)
    {
        int n = b.Length;
        var y = new double[n];
        for (int j = 0; j < n; j++)
        {
            double s = b[j];
            for (int i = 0; i < x.Length; i++) s += x[i] * (double)w[i * n + j];
            y[j] = s;
        }
        return y;
    }

    public static double[] Relu(double[] x) => x.Select(v => Math.Max(0, v)).ToArray();

    public static double[] Softmax(double[] x)
    {
        double max = x.Max();
        var e = x.Select(v => Math.Exp(v - max)).ToArray();
        double sum = e.Sum();
        return e.Select(v => v / sum).ToArray();
    }
}
