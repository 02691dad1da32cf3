using System.Text.Json;
using HetQ.Data;

namespace HetQ.Tests.Data;

public class TaskDataTests
{
    private static DataSplits Load(string json) =>
        DatasetLoader.Load(DataConfig.Parse(JsonDocument.Parse(json).RootElement), Path.GetTempPath());

    [Fact]
    public void Held_out_classes_leave_training_and_become_label_one_in_test_with_zero_weight_in_validation()
    {
        var plain = Load("{\"name\": \"digits\"}");
        var s = Load("{\"name\": \"digits\", \"anomaly_classes\": [0, \"7\"], \"targets\": \"input\"}");
        Assert.Equal(plain.Train.Labels.Count(l => l is not (0 or 7)), s.Train.Count);
        Assert.All(s.Train.Labels, l => Assert.Equal(0, l));
        Assert.Equal(plain.Test.Labels.Count(l => l is 0 or 7), s.Test.Labels.Count(l => l == 1));
        Assert.Equal(2, s.Test.NumClasses);
        Assert.True(s.Train.TargetsAreFeatures && s.Test.TargetsAreFeatures);
        Assert.Equal(s.Train.SampleSize, s.Train.TargetSize);
        var w = s.Validation.Weights!;
        for (int i = 0; i < s.Validation.Count; i++) Assert.Equal(s.Validation.Labels[i] == 1 ? 0f : 1f, w[i]);
    }

    [Fact]
    public void Target_and_weight_columns_leave_the_inputs()
    {
        var plain = Load("{\"name\": \"digits\", \"stratify\": false}");
        var s = Load("{\"name\": \"digits\", \"stratify\": false, \"target_columns\": [63, 5], \"weight_column\": 10}");
        Assert.Equal(61, s.Train.SampleSize);
        Assert.Equal(2, s.Train.TargetSize);
        for (int i = 0; i < 5; i++)
        {
            var x = plain.Test.Sample(i);
            Assert.Equal(x[63], s.Test.Targets![i * 2]);
            Assert.Equal(x[5], s.Test.Targets[i * 2 + 1]);
            Assert.Equal(x[10], s.Test.Weights![i]);
            Assert.Equal(x[11], s.Test.Sample(i)[9]); // columns 0..4, 6..9 come first, then 11
        }
    }

    [Fact]
    public void Downsampling_averages_square_blocks_and_signal_classes_make_a_tagger()
    {
        var plain = Load("{\"name\": \"digits\"}");
        var s = Load("{\"name\": \"digits\", \"downsample\": 2, \"signal_classes\": [3]}");
        Assert.Equal(16, s.Train.SampleSize);
        var x = plain.Test.Sample(0);
        Assert.Equal((x[0] + x[1] + x[8] + x[9]) / 4, s.Test.Sample(0)[0], 6);
        Assert.Equal(plain.Test.Labels.Select(l => l == 3 ? 1 : 0), s.Test.Labels);
        Assert.Equal(TaskData.TaggerClassNames, s.Test.ClassNames);
    }

    [Theory]
    [InlineData("{\"name\": \"digits\", \"targets\": \"output\"}", "data.targets")]
    [InlineData("{\"name\": \"digits\", \"target_columns\": [1, 1]}", "given twice")]
    [InlineData("{\"name\": \"digits\", \"target_columns\": [64]}", "column 64 does not exist")]
    [InlineData("{\"name\": \"digits\", \"anomaly_classes\": [\"cat\"]}", "no class 'cat'")]
    [InlineData("{\"name\": \"digits\", \"anomaly_classes\": [1], \"signal_classes\": [2]}", "do not go together")]
    [InlineData("{\"name\": \"digits\", \"downsample\": 3}", "does not divide")]
    public void Bad_task_keys_are_one_clear_error(string json, string expected)
    {
        var e = Assert.Throws<HetQException>(() => Load(json));
        Assert.Contains(expected, e.Message);
    }
}
