using HetQ.Nn;
using HetQ.Nn.Layers;

namespace HetQ.Tests.Nn;

/// <summary>The dense layer's fused ReLU backward and bias-gradient pass against the two separate passes it replaced:
/// the same gradient and the same bias-gradient bits, for column counts on and off the vector strips.</summary>
public class DenseBackwardFusionTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(7, 5)]
    [InlineData(512, 16)]
    [InlineData(33, 24)]
    [InlineData(100, 64)]
    [InlineData(9, 37)]
    public void The_fused_pass_gives_the_bits_of_the_separate_passes(int rows, int cols)
    {
        var rng = new Random(rows * 131 + cols);
        var y = new float[rows * cols];
        var gy = new float[rows * cols];
        for (int i = 0; i < y.Length; i++)
        {
            y[i] = rng.Next(3) == 0 ? 0f : (float)(rng.NextDouble() * 2 - 0.5);
            gy[i] = (float)(rng.NextDouble() * 2 - 1);
        }
        y[0] = 0f; // one masked element in every case
        var start = new float[cols];
        for (int j = 0; j < cols; j++) start[j] = (float)(rng.NextDouble() - 0.5);
        var gSep = new float[rows * cols];
        var accSep = (float[])start.Clone();
        Activation.ReluMask(y, gy, gSep);
        Dense.ColumnSums(gSep, rows, cols, accSep);
        var gFused = new float[rows * cols];
        var accFused = (float[])start.Clone();
        Dense.ReluMaskColumnSums(y, gy, gFused, rows, cols, accFused);
        Assert.Equal(gSep.Select(BitConverter.SingleToInt32Bits), gFused.Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(accSep.Select(BitConverter.SingleToInt32Bits), accFused.Select(BitConverter.SingleToInt32Bits));
        Assert.Contains(gFused, v => v == 0f);
    }
}
