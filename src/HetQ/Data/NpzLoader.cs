namespace HetQ.Data;

/// <summary>Turns a .npz archive with x_train, y_train, x_test, y_test (or x, y) into data sets.</summary>
internal static class NpzLoader
{
    /// <summary>The train part and, when the archive has one, the test part. Features are flat;
    /// <paramref name="scale"/> null means 1/255 for uint8 features and 1 otherwise. Labels are class
    /// indices (N) or (N,1), or one-hot / scores (N,K) turned into the index of the largest value.</summary>
    public static (Dataset Train, Dataset? Test) Load(string path, string name, float? scale)
    {
        IReadOnlyDictionary<string, NpyArray> arrays = NpyReader.ReadNpz(path, name);
        NpyArray? Find(string key) => arrays.FirstOrDefault(kv => string.Equals(kv.Key, key, StringComparison.OrdinalIgnoreCase)).Value;

        NpyArray? x = Find("x_train"), y = Find("y_train");
        NpyArray? xt = Find("x_test"), yt = Find("y_test");
        string xKey = "x_train";
        if (x is null || y is null)
        {
            (x, y) = (Find("x"), Find("y"));
            if (x is null || y is null)
                throw new HetQException($"{name}: {path} needs arrays x_train and y_train (optionally x_test, y_test), or x and y; it has: {string.Join(", ", arrays.Keys)}");
            (xt, yt, xKey) = (null, null, "x");
        }
        else if ((xt is null) != (yt is null))
            throw new HetQException($"{name}: {path} has {(xt is null ? "y_test but no x_test" : "x_test but no y_test")}");

        Dataset train = Make(x, y, path, xKey, name, scale);
        if (xt is null) return (train, null);
        Dataset test = Make(xt, yt!, path, "x_test", name, scale);
        DatasetLoader.CheckSameFeatures(train, test, $"{path}[x_train]", $"{path}[x_test]", name);
        int classes = Math.Max(train.NumClasses, test.NumClasses);
        return (DatasetLoader.WithClasses(train, classes), DatasetLoader.WithClasses(test, classes));
    }

    private static Dataset Make(NpyArray x, NpyArray y, string path, string xKey, string name, float? scale)
    {
        string yKey = "y" + xKey[1..];
        if (x.Shape.Length == 0)
            throw new HetQException($"{name}: {path}[{xKey}] is a scalar; expected (samples, features...)");
        int n = x.Shape[0];
        int[] labels = Labels(y, path, yKey, name);
        if (labels.Length != n)
            throw new HetQException($"{name}: {path}: {xKey} has {n} samples but {yKey} has {labels.Length} labels");
        int size = 1;
        for (int i = 1; i < x.Shape.Length; i++) size *= x.Shape[i];
        Normalization.Scale(x.Values, scale ?? (x.Dtype[1..] == "u1" ? 1f / 255f : 1f));
        int classes = labels.Length == 0 ? 0 : labels.Max() + 1;
        return new Dataset(name, [size], x.Values, labels, classes);
    }

    private static int[] Labels(NpyArray y, string path, string key, string name)
    {
        if (y.Shape.Length == 1 || (y.Shape.Length == 2 && y.Shape[1] == 1))
        {
            var labels = new int[y.Shape[0]];
            for (int i = 0; i < labels.Length; i++)
            {
                float v = y.Values[i];
                if (v < 0 || v != MathF.Floor(v))
                    throw new HetQException($"{name}: {path}[{key}]: label {i} is {v}, not a non-negative integer class index");
                labels[i] = (int)v;
            }
            return labels;
        }
        if (y.Shape.Length == 2)
        {
            int n = y.Shape[0], k = y.Shape[1];
            var labels = new int[n];
            for (int i = 0; i < n; i++)
            {
                ReadOnlySpan<float> r = y.Values.AsSpan(i * k, k);
                int best = 0;
                for (int j = 1; j < k; j++) if (r[j] > r[best]) best = j;
                labels[i] = best;
            }
            return labels;
        }
        throw new HetQException($"{name}: {path}[{key}] has shape ({string.Join(", ", y.Shape)}); expected (N) class indices or (N, K) one-hot");
    }
}
