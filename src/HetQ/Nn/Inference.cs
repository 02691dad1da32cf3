using HetQ.Data;

namespace HetQ.Nn;

/// <summary>Batched inference-mode forward passes over a data set, on two replicas in parallel.</summary>
internal static class Inference
{
    /// <summary>The output of node <paramref name="node"/> (default: the last) for every sample, [count × size].</summary>
    public static float[] Predict(Model model, Dataset data, int node = -1, int batchSize = 512)
    {
        int target = node < 0 ? model.Nodes.Count - 1 : node;
        int k = Tensor.Size(model.Nodes[target].Layer.OutputShape);
        var result = new float[data.Count * k];
        var replicas = new[] { model.CloneForWorker(), model.CloneForWorker() };
        int half = (data.Count + 1) / 2;
        Parallel.For(0, 2, w =>
        {
            var m = replicas[w];
            var ctx = new ForwardContext { Training = false };
            int lo = w * half, hi = Math.Min(data.Count, lo + half);
            int s = data.SampleSize;
            for (int b = lo; b < hi; b += batchSize)
            {
                int e = Math.Min(hi, b + batchSize);
                var shape = new int[model.InputShape.Length + 1];
                shape[0] = e - b;
                model.InputShape.CopyTo(shape, 1);
                var x = new Tensor(shape, data.Features.AsSpan(b * s, (e - b) * s).ToArray());
                m.Forward(x, ctx);
                var y = m.NodeOutput(target);
                y.Data.AsSpan(0, (e - b) * k).CopyTo(result.AsSpan(b * k));
            }
        });
        return result;
    }

    /// <summary>The fraction of rows whose predicted class is the label; <paramref name="logits"/>: a one-output
    /// model's outputs are logits (scored by logit &gt; 0), not probabilities (&gt; 0.5).</summary>
    public static double Accuracy(ReadOnlySpan<float> outputs, int k, ReadOnlySpan<int> labels, bool logits = false)
    {
        int correct = 0;
        for (int i = 0; i < labels.Length; i++) if (Metrics.Predict(outputs.Slice(i * k, k), logits) == labels[i]) correct++;
        return labels.Length == 0 ? 0 : (double)correct / labels.Length;
    }
}
