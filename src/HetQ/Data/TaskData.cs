using System.Globalization;

namespace HetQ.Data;

/// <summary>What a data set becomes for tasks other than classification, following the data section: images averaged
/// down (downsample), classes held out as an anomaly or grouped into signal and background, feature columns taken
/// as real-valued targets or sample weights, the input itself as the target (an autoencoder).</summary>
internal static class TaskData
{
    public static readonly string[] AnomalyClassNames = ["normal", "anomaly"];
    public static readonly string[] TaggerClassNames = ["background", "signal"];

    /// <summary>The mean of every k×k block of a square single-channel image (a 28x28 image with k = 4 gives 7x7).</summary>
    public static Dataset Downsample(Dataset d, int k, string key)
    {
        int size = d.SampleSize, side = (int)Math.Round(Math.Sqrt(size));
        if (side * side != size)
            throw new HetQException($"{key}: downsample needs square images; a sample of {d.Name} has {size} values");
        if (side % k != 0)
            throw new HetQException($"{key}: {k} does not divide the image side {side}");
        int o = side / k;
        var f = new float[d.Count * o * o];
        float inv = 1f / (k * k);
        for (int s = 0; s < d.Count; s++)
        {
            var x = d.Features.AsSpan(s * size, size);
            var y = f.AsSpan(s * o * o, o * o);
            for (int r = 0; r < side; r++)
                for (int c = 0; c < side; c++) y[r / k * o + c / k] += x[r * side + c];
            for (int i = 0; i < y.Length; i++) y[i] *= inv;
        }
        return d.With(sampleShape: [o * o], features: f);
    }

    /// <summary>Applies the class mapping and target/weight columns of <paramref name="cfg"/> to every part.</summary>
    public static DataSplits Apply(DataSplits s, DataConfig cfg)
    {
        if (cfg.AnomalyClasses is { } anomalies)
        {
            var set = Resolve(anomalies, s.Train, "data.anomaly_classes");
            if (set.Count == s.Train.NumClasses)
                throw new HetQException("data.anomaly_classes: every class is held out; at least one must stay normal");
            Dataset Mark(Dataset d, bool zeroWeight)
            {
                var labels = d.Labels.Select(l => set.Contains(l) ? 1 : 0).ToArray();
                var r = d.With(labels: labels, numClasses: 2, classNames: AnomalyClassNames);
                if (!zeroWeight || !labels.Contains(1)) return r;
                var w = new float[d.Count];
                for (int i = 0; i < w.Length; i++) w[i] = labels[i] == 1 ? 0f : d.Weights?[i] ?? 1f;
                return r.WithTargets(r.Targets, r.TargetSize, w);
            }
            var normal = Enumerable.Range(0, s.Train.Count).Where(i => !set.Contains(s.Train.Labels[i])).ToArray();
            s = new DataSplits(Mark(s.Train.Subset(normal), false), Mark(s.Validation, true), Mark(s.Test, false));
        }
        else if (cfg.SignalClasses is { } signal)
        {
            var set = Resolve(signal, s.Train, "data.signal_classes");
            Dataset Mark(Dataset d) => d.With(labels: d.Labels.Select(l => set.Contains(l) ? 1 : 0).ToArray(), numClasses: 2, classNames: TaggerClassNames);
            s = new DataSplits(Mark(s.Train), Mark(s.Validation), Mark(s.Test));
        }
        if (cfg.TargetColumns is not null || cfg.WeightColumn is not null)
            s = new DataSplits(Columns(s.Train, cfg), Columns(s.Validation, cfg), Columns(s.Test, cfg));
        if (cfg.Targets == "input")
        {
            static Dataset Auto(Dataset d) => d.WithTargets(d.Features, d.SampleSize, d.Weights);
            s = new DataSplits(Auto(s.Train), Auto(s.Validation), Auto(s.Test));
        }
        return s;
    }

    /// <summary>Class indices from indices or names (names as the data set calls its classes).</summary>
    private static HashSet<int> Resolve(IReadOnlyList<string> classes, Dataset d, string key)
    {
        var set = new HashSet<int>();
        foreach (string c in classes)
        {
            int index = int.TryParse(c, NumberStyles.None, CultureInfo.InvariantCulture, out int i) ? i
                : d.ClassNames is { } names && Array.IndexOf(names, c) is int j and >= 0 ? j
                : throw new HetQException($"{key}: no class '{c}' in {d.Name}" + (d.ClassNames is { } n ? $" (classes: {string.Join(", ", n)})" : " (it has no class names; give indices)"));
            if (index >= d.NumClasses) throw new HetQException($"{key}: class {index} does not exist, {d.Name} has {d.NumClasses} classes");
            set.Add(index);
        }
        return set;
    }

    private static Dataset Columns(Dataset d, DataConfig cfg)
    {
        int size = d.SampleSize;
        var targets = cfg.TargetColumns ?? [];
        var taken = new HashSet<int>(targets);
        if (cfg.WeightColumn is int wc && !taken.Add(wc)) throw new HetQException($"data.weight_column: column {wc} is also a target column");
        foreach (int c in taken)
            if (c >= size) throw new HetQException($"data: column {c} does not exist, a sample of {d.Name} has {size} values (columns 0..{size - 1})");
        if (taken.Count == size) throw new HetQException("data: target_columns and weight_column take every column; no inputs are left");
        var keep = Enumerable.Range(0, size).Where(c => !taken.Contains(c)).ToArray();
        var f = new float[d.Count * keep.Length];
        float[]? t = targets.Count == 0 ? d.Targets : new float[d.Count * targets.Count];
        float[]? w = cfg.WeightColumn is null ? d.Weights : new float[d.Count];
        for (int i = 0; i < d.Count; i++)
        {
            var x = d.Sample(i);
            for (int j = 0; j < keep.Length; j++) f[i * keep.Length + j] = x[keep[j]];
            if (targets.Count > 0) for (int j = 0; j < targets.Count; j++) t![i * targets.Count + j] = x[targets[j]];
            if (cfg.WeightColumn is int c)
            {
                if (!(x[c] >= 0)) throw new HetQException($"data.weight_column: sample {i} of {d.Name} has weight {x[c]}; weights must be 0 or more");
                w![i] = x[c];
            }
        }
        var r = d.With(sampleShape: [keep.Length], features: f);
        return r.WithTargets(t, targets.Count > 0 ? targets.Count : d.TargetSize, w);
    }
}
