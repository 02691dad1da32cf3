using HetQ.Nn;
using HetQ.Nn.Layers;
using HetQ.Quantization;

namespace HetQ.Training;

/// <summary>beta·EBOPs + l1·Σ|f| as a training penalty, HGQ's surrogate: for each dense layer, EBOPs = Σ_ij bw_ij·ba_i
/// with bw_ij the bits of weight code |q(w_ij)|·2^F (0 for a zero weight) and ba_i the width of input element i
/// (k + I + F, 0 when pruned). dEBOPs/dF of a weight is ba_i and of an input element Σ_j bw_ij (where both are
/// non-zero); the integer bits come from magnitudes and ranges, with no gradient.</summary>
public sealed class EbopsPenalty(Model model, BitwidthsConfig config) : ITrainingPenalty
{
    private double _beta;

    /// <summary>The beta of the current step.</summary>
    public double Beta => _beta;

    /// <summary>The surrogate EBOPs at the last step.</summary>
    public double LastEbops { get; private set; }

    public void BeginBatch(int epoch, int epochs, int batch, int batches)
    {
        if (batch == 0 && epoch > 1) BeginEpoch(model);
        _beta = config.Beta.At((epoch - 1 + (double)batch / batches) / epochs);
    }

    /// <summary>Every learned activation quantizer of the model starts a new epoch (its range becomes last epoch's).</summary>
    public static void BeginEpoch(Model model)
    {
        model.InputQuantizer?.Learned?.BeginEpoch();
        foreach (var n in model.Nodes) n.Layer.OutputQuantizer?.Learned?.BeginEpoch();
    }

    public double AddGradient()
    {
        float beta = (float)_beta;
        double ebops = 0;
        for (int i = 0; i < model.Nodes.Count; i++)
        {
            if (model.Nodes[i].Layer is not Dense d || d.Kernel.Quantizer?.Learned is not { } kq) continue;
            var (iq, width) = Source(model, model.Nodes[i].Inputs[0]);
            if (iq is null && width == 0) continue;
            int[] ba = iq is not null ? iq.ElementWidths() : Enumerable.Repeat(width, d.Kernel.Shape[0]).ToArray();
            if (ba.Length != d.Kernel.Shape[0]) continue;
            ebops += Dense(d, kq, iq, ba, beta);
        }
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

    private static double Dense(Dense d, LearnedQuantizer kq, LearnedQuantizer? iq, int[] ba, float beta)
    {
        int rows = d.Kernel.Shape[0], cols = d.Kernel.Shape[1];
        var w = d.Kernel.Effective;
        var fk = kq.FracBits!.Grad;
        var fa = iq?.FracBits?.Grad;
        var frac = kq.FracBits!.Value;
        double total = 0;
        for (int r = 0; r < rows; r++)
        {
            int a = ba[r];
            long rowBits = 0;
            for (int c = 0; c < cols; c++)
            {
                int e = r * cols + c;
                float q = w[e];
                if (q == 0) continue;
                int g = kq.Group(e);
                int f = Math.Clamp((int)MathF.Round(frac[g], MidpointRounding.ToEven), kq.MinBits, kq.MaxBits);
                double code = Math.Abs(Math.ScaleB((double)q, f));
                int bw = code < 1 ? 0 : 64 - System.Numerics.BitOperations.LeadingZeroCount((ulong)code);
                if (bw == 0) continue;
                rowBits += bw;
                if (a > 0) fk[g] += beta * a;
            }
            total += (double)rowBits * a;
            if (fa is not null && a > 0) fa[iq!.Group(r)] += beta * rowBits;
        }
        return total;
    }

    /// <summary>The quantizer (learned) or the constant width of the tensor node <paramref name="k"/> outputs, looking
    /// through flatten and dropout; (null, 0) when it has neither.</summary>
    private static (LearnedQuantizer? Q, int Width) Source(Model model, int k)
    {
        while (k >= 0 && model.Nodes[k].Layer is Flatten or Dropout) k = model.Nodes[k].Inputs[0];
        var fq = k < 0 ? model.InputQuantizer : model.Nodes[k].Layer.OutputQuantizer;
        if (fq is null) return (null, 0);
        if (fq.Learned is { } l) return (l, 0);
        return (null, fq.Quantizer.HardwareType?.Width ?? 0);
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
