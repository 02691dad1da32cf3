using HetQ.Data;

namespace HetQ.Tests.Data;

public sealed class DatasetLoaderTests
{
    [Fact]
    public void The_embedded_digits_have_1797_samples_of_10_classes_in_0_to_1()
    {
        Dataset d = DatasetLoader.LoadDigits();
        Assert.Equal(1797, d.Count);
        Assert.Equal([64], d.SampleShape);
        Assert.Equal(10, d.NumClasses);
        Assert.Equal(DatasetLoader.DigitClassNames, d.ClassNames);
        Assert.Equal(0f, d.Features.Min());
        Assert.Equal(1f, d.Features.Max());
        Assert.Equal(0, d.Labels[0]);
        Assert.Equal(5f / 16f, d.Features[2]);
    }

    [Fact]
    public void Default_digits_splits_are_20_percent_test_then_10_percent_validation_stratified()
    {
        DataSplits s = DatasetLoader.Load(DataConfig.Default, "/nonexistent");
        Assert.Equal(359, s.Test.Count);
        Assert.Equal(144, s.Validation.Count);
        Assert.Equal(1294, s.Train.Count);
        Assert.Equal("digits/train", s.Train.Name);
        for (int c = 0; c < 10; c++)
        {
            double all = DatasetLoader.LoadDigits().Labels.Count(l => l == c) / 1797.0;
            Assert.InRange(s.Test.Labels.Count(l => l == c) / (double)s.Test.Count, all - 0.01, all + 0.01);
            Assert.InRange(s.Train.Labels.Count(l => l == c) / (double)s.Train.Count, all - 0.01, all + 0.01);
        }
    }

    [Fact]
    public void Loading_twice_with_one_seed_gives_the_same_splits_and_another_seed_does_not()
    {
        DataSplits a = DatasetLoader.Load(DataConfig.Default, "."), b = DatasetLoader.Load(DataConfig.Default, ".");
        DataSplits c = DatasetLoader.Load(DataConfig.Default with { Seed = 1 }, ".");
        Assert.Equal(a.Train.Labels, b.Train.Labels);
        Assert.Equal(a.Train.Features, b.Train.Features);
        Assert.NotEqual(a.Train.Labels, c.Train.Labels);
    }

    [Fact]
    public void Shape_and_limit_train_reshape_samples_and_cut_the_training_part()
    {
        DataSplits s = DatasetLoader.Load(DataConfig.Default with { Shape = [8, 8, 1], LimitTrain = 100 }, ".");
        Assert.Equal(100, s.Train.Count);
        Assert.Equal([8, 8, 1], s.Train.SampleShape);
        Assert.Equal([8, 8, 1], s.Test.SampleShape);
        var e = Assert.Throws<HetQException>(() => DatasetLoader.Load(DataConfig.Default with { Shape = [28, 28, 1] }, "."));
        Assert.Contains("data.shape: [28, 28, 1] holds 784 values, but a sample of digits has 64", e.Message);
    }

    [Fact]
    public void A_csv_path_is_resolved_against_the_config_folder()
    {
        using var dir = new TempDir();
        string rows = string.Concat(Enumerable.Range(0, 40).Select(i => $"{i},{2 * i},{i % 2}\n"));
        dir.Write("d.csv", rows);
        var cfg = new DataConfig { Kind = DataSourceKind.Csv, Path = "d.csv", TestFraction = 0.25, ValidationFraction = 0 };
        DataSplits s = DatasetLoader.Load(cfg, dir.Path);
        Assert.Equal((30, 0, 10), (s.Train.Count, s.Validation.Count, s.Test.Count));
        Assert.Equal(5, s.Test.Labels.Count(l => l == 1));
    }

    [Fact]
    public void A_missing_csv_file_names_the_data_set_and_the_path()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<HetQException>(() => DatasetLoader.Load(new DataConfig { Kind = DataSourceKind.Csv, Path = "no.csv" }, dir.Path));
        Assert.Equal($"csv: file not found: {dir.File("no.csv")}", e.Message);
    }

    [Fact]
    public void A_missing_fashion_mnist_folder_says_how_to_install_it()
    {
        using var dir = new TempDir();
        var cfg = new DataConfig { Kind = DataSourceKind.FashionMnist, Path = dir.Path };
        var e = Assert.Throws<HetQException>(() => DatasetLoader.Load(cfg, "."));
        Assert.Equal($"fashion-mnist: file not found: {dir.File("train-images-idx3-ubyte.gz")} (install it with `apt-get install dataset-fashion-mnist`)", e.Message);
    }

    [Fact]
    public void An_idx_config_with_a_test_pair_keeps_it_as_the_test_part()
    {
        using var dir = new TempDir();
        byte[] px = [.. Enumerable.Range(0, 20 * 4).Select(i => (byte)i)];
        dir.Write("tr-x", DataTestFiles.Idx([20, 2, 2], px));
        dir.Write("tr-y", DataTestFiles.Idx([20], [.. Enumerable.Range(0, 20).Select(i => (byte)(i % 2))]));
        dir.Write("te-x", DataTestFiles.Gzip(DataTestFiles.Idx([3, 2, 2], px[..12])));
        dir.Write("te-y", DataTestFiles.Idx([3], [2, 0, 1]));
        var cfg = new DataConfig { Kind = DataSourceKind.Idx, TrainImages = "tr-x", TrainLabels = "tr-y", TestImages = "te-x", TestLabels = "te-y" };
        DataSplits s = DatasetLoader.Load(cfg, dir.Path);
        Assert.Equal((18, 2, 3), (s.Train.Count, s.Validation.Count, s.Test.Count));
        Assert.Equal([4], s.Train.SampleShape);
        Assert.Equal(3, s.Train.NumClasses);
        Assert.Equal(3, s.Test.NumClasses);
        Assert.Equal(11f / 255f, s.Test.Features[11]);
    }

    [Fact]
    public void An_npz_with_train_and_test_arrays_loads_both_with_uint8_scaled()
    {
        using var dir = new TempDir();
        byte[] x = [.. Enumerable.Range(0, 10 * 3).Select(i => (byte)(i * 8))];
        dir.Write("d.npz", DataTestFiles.Npz(true,
            ("x_train", DataTestFiles.Npy("|u1", [10, 3], x)),
            ("y_train", DataTestFiles.Npy("<i8", [10], DataTestFiles.Int64([.. Enumerable.Range(0, 10).Select(i => (long)(i % 2))]))),
            ("x_test", DataTestFiles.Npy("|u1", [2, 3], x[..6])),
            ("y_test", DataTestFiles.Npy("<f4", [2, 3], DataTestFiles.Float32(0, 0, 1, 1, 0, 0)))));
        DataSplits s = DatasetLoader.Load(new DataConfig { Kind = DataSourceKind.Npz, Path = "d.npz", ValidationFraction = 0.2 }, dir.Path);
        Assert.Equal((8, 2, 2), (s.Train.Count, s.Validation.Count, s.Test.Count));
        Assert.Equal([2, 0], s.Test.Labels);
        Assert.Equal(3, s.Train.NumClasses);
        Assert.Equal(40f / 255f, s.Test.Features[5]);
    }

    [Fact]
    public void An_npz_with_x_and_y_is_split_by_test_fraction()
    {
        using var dir = new TempDir();
        dir.Write("d.npz", DataTestFiles.Npz(false,
            ("x", DataTestFiles.Npy("<f8", [10, 1], DataTestFiles.Float64([.. Enumerable.Range(0, 10).Select(i => (double)i)]))),
            ("y", DataTestFiles.Npy("<i4", [10], DataTestFiles.Int32([.. Enumerable.Range(0, 10).Select(i => i % 2)])))));
        DataSplits s = DatasetLoader.Load(new DataConfig { Kind = DataSourceKind.Npz, Path = "d.npz", ValidationFraction = 0 }, dir.Path);
        Assert.Equal((8, 0, 2), (s.Train.Count, s.Validation.Count, s.Test.Count));
    }

    [Fact]
    public void An_npz_without_known_keys_lists_the_keys_it_has()
    {
        using var dir = new TempDir();
        dir.Write("d.npz", DataTestFiles.Npz(false, ("images", DataTestFiles.Npy("|u1", [1], [1]))));
        var e = Assert.Throws<HetQException>(() => DatasetLoader.Load(new DataConfig { Kind = DataSourceKind.Npz, Path = "d.npz" }, dir.Path));
        Assert.Contains("it has: images", e.Message);
    }

    [Fact]
    public void Jets_are_standardized_with_the_training_part_statistics()
    {
        using var dir = new TempDir();
        string p = dir.Write("jets.arff", JetsReaderTests.Arff(200, i => "gqtwz"[i % 5].ToString()));
        DataSplits s = DatasetLoader.Load(new DataConfig { Kind = DataSourceKind.Jets, Path = "jets.arff" }, dir.Path);
        Assert.Equal((144, 16, 40), (s.Train.Count, s.Validation.Count, s.Test.Count));
        for (int j = 0; j < 16; j++)
        {
            double trainMean = Enumerable.Range(0, s.Train.Count).Average(i => s.Train.Sample(i)[j]);
            double testMean = Enumerable.Range(0, s.Test.Count).Average(i => s.Test.Sample(i)[j]);
            Assert.InRange(trainMean, -1e-4, 1e-4);
            Assert.NotEqual(0.0, testMean);
        }
        Assert.Equal(8, s.Test.Labels.Count(l => l == 3));
    }

    [Fact]
    public void The_reference_jets_load_unscaled_and_in_file_order_as_a_whole_test_part()
    {
        string f = Requires.Shared("data/jets/jets100_features.dat");
        string l = Requires.Shared("data/jets/jets100_labels_onehot.dat");
        var cfg = new DataConfig { Kind = DataSourceKind.JetsDat, Features = f, Labels = l, TestFraction = 1 };
        DataSplits s = DatasetLoader.Load(cfg, ".");
        Assert.Equal((0, 0, 100), (s.Train.Count, s.Validation.Count, s.Test.Count));
        Assert.Equal(JetsReader.ReadDat(f, l).Features, s.Test.Features);
        Assert.Equal(["g", "q", "t", "w", "z"], s.Test.ClassNames!);
    }

    [Fact]
    public void Fashion_mnist_loads_60000_and_10000_images_with_its_class_names()
    {
        Requires.That(File.Exists(Path.Combine(DatasetLoader.FashionMnistDefaultPath, "train-images-idx3-ubyte.gz")),
            $"Fashion-MNIST is not installed in {DatasetLoader.FashionMnistDefaultPath} (apt-get install dataset-fashion-mnist)");
        DataSplits s = DatasetLoader.Load(new DataConfig { Kind = DataSourceKind.FashionMnist, Shape = [28, 28, 1] }, ".");
        Assert.Equal((54000, 6000, 10000), (s.Train.Count, s.Validation.Count, s.Test.Count));
        Assert.Equal([28, 28, 1], s.Train.SampleShape);
        Assert.Equal("Ankle boot", s.Train.ClassNames![9]);
        Assert.Equal(600, s.Validation.Labels.Count(l => l == 0));
        Assert.InRange(s.Test.Features.Max(), 0.99f, 1f);
    }
}
