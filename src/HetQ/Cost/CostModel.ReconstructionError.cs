using HetQ.Graph;

namespace HetQ.Cost;

public static partial class CostModel
{
    /// <summary><see cref="ReconstructionErrorOp"/> over N elements: N subtractions of the aligned difference width,
    /// N − 1 additions of the score width, and for the squared error N squarings of the difference width
    /// (a b-bit square counted as a b × b multiplication: b² BOPs and EBOPs, as HGQ counts a product of two
    /// variables by its two widths).</summary>
    private static LayerCost ReconstructionErrorCost(GraphNode node, ReconstructionErrorOp r, TensorType[] ins, string? inputType,
        EnergyModel e, int? floatBits, double activationEnergy)
    {
        long n = ins[0].Size;
        int diff = DifferenceWidth(r, ins[0].Type, ins[1].Type);
        long multiplications = r.Squared ? n : 0;
        long bops = multiplications * diff * diff;
        long additions = n + (n - 1);
        double energy = n * AdditionEnergy(e, diff, floatBits) + (n - 1) * AdditionEnergy(e, r.ScoreType.Width, floatBits)
            + multiplications * (floatBits is null ? e.Multiply(diff, diff) : floatBits <= 16 ? e.Fp16Mul : e.Fp32Mul);
        long outBits = (long)node.Output.Size * r.ScoreType.Width;
        return new LayerCost(node.Name, node.Op.Name, inputType, null, r.ScoreType.ToString(), 0, 0, 0, outBits,
            multiplications, additions, bops, bops, r.Squared ? MultiplierKind.Fixed : MultiplierKind.None, energy, 0, activationEnergy);
    }

    /// <summary>Bits of the magnitude |x − y| with both aligned to the op's fractional bits.</summary>
    private static int DifferenceWidth(ReconstructionErrorOp r, Quantization.FixedType x, Quantization.FixedType y)
    {
        Int128 Align(long raw, Quantization.FixedType t) => (Int128)raw << (r.Frac - t.FractionalBits);
        Int128 lo = Align(x.MinRaw, x) - Align(y.MaxRaw, y), hi = Align(x.MaxRaw, x) - Align(y.MinRaw, y);
        Int128 most = Int128.Max(Int128.Abs(lo), Int128.Abs(hi));
        int bits = 1;
        while ((Int128.One << bits) <= most) bits++;
        return bits;
    }
}
