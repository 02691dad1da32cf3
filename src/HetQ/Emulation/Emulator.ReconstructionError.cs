using HetQ.Graph;
using HetQ.Quantization;

namespace HetQ.Emulation;

public sealed partial class Emulator
{
    /// <summary><see cref="ReconstructionErrorOp"/>: both inputs shifted to the op's fractional bits, then
    /// Σ d² or Σ |d| in exact integer arithmetic (the score type, at most 62 bits, bounds every partial sum).</summary>
    private sealed class ReconstructionErrorKernel(ReconstructionErrorOp op, int x, FixedType xType, int y, FixedType yType) : Kernel
    {
        private readonly int _sx = op.Frac - xType.FractionalBits, _sy = op.Frac - yType.FractionalBits;

        public override void Run(long[][] buf, int self, int s)
        {
            var a = At(buf, x, s);
            var b = At(buf, y, s);
            long sum = 0;
            for (int i = 0; i < a.Length; i++)
            {
                long d = (a[i] << _sx) - (b[i] << _sy);
                sum += op.Squared ? d * d : Math.Abs(d);
            }
            At(buf, self, s)[0] = sum;
        }
    }
}
