using HetQ.Data;

namespace HetQ.Tests.Data;

public sealed class NormalizationTests
{
    [Fact]
    public void Scaling_multiplies_every_value()
    {
        float[] v = [0, 16, 8];
        Normalization.Scale(v, 1f / 16f);
        Assert.Equal([0f, 1f, 0.5f], v);
    }

    [Fact]
    public void The_standard_scaler_uses_population_std_and_keeps_constant_features()
    {
        var d = new Dataset("t", [2], [1, 5, 3, 5, 5, 5], [0, 1, 0], 2);
        StandardScaler s = StandardScaler.Fit(d);
        Assert.Equal([3f, 5f], s.Mean);
        Assert.Equal((float)Math.Sqrt(8.0 / 3.0), s.Std[0]);
        Assert.Equal(1f, s.Std[1]);
        Dataset t = s.Transform(d);
        Assert.Equal(0f, t.Features[2]);
        Assert.Equal(0f, t.Features[1]);
    }

    [Fact]
    public void Standardization_is_fitted_on_train_only_and_applied_to_all_parts()
    {
        var rng = new SeededRandom(5);
        Dataset Make(int n, float shift)
        {
            var f = new float[n * 3];
            for (int i = 0; i < f.Length; i++) f[i] = (float)rng.NextDouble() * 4 + shift;
            return new Dataset("p", [3], f, new int[n], 1);
        }
        DataSplits s = Normalization.Standardize(new DataSplits(Make(400, 0), Make(50, 0), Make(100, 0.5f)));

        for (int j = 0; j < 3; j++)
        {
            double trainMean = Enumerable.Range(0, 400).Average(i => s.Train.Sample(i)[j]);
            double testMean = Enumerable.Range(0, 100).Average(i => s.Test.Sample(i)[j]);
            Assert.InRange(trainMean, -1e-5, 1e-5);
            Assert.True(Math.Abs(testMean) > 0.1, $"test mean of feature {j} is {testMean}, expected the train scaler's shift to show");
        }
    }
}
