using System.Text.Json;
using HetQ.Data;

namespace HetQ.Tests.Data;

public sealed class DataConfigTests
{
    private static DataConfig Parse(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return DataConfig.Parse(doc.RootElement.Clone());
    }

    private static string Error(string json) => Assert.Throws<HetQException>(() => Parse(json)).Message;

    [Fact]
    public void An_empty_object_is_the_embedded_digits_with_defaults()
    {
        DataConfig c = Parse("{}");
        Assert.Equal(DataConfig.Default, c);
        Assert.Equal(DataSourceKind.Digits, c.Kind);
        Assert.Equal("digits", c.Name);
        Assert.Equal(0.1, c.ValidationFraction);
        Assert.Equal(42, c.Seed);
        Assert.Null(c.TestFraction);
    }

    [Fact]
    public void Every_key_is_parsed()
    {
        DataConfig c = Parse("""
            { "name": "csv", "path": "a.csv.gz", "label_column": 0, "header": true, "scale": 0.0625,
              "standardize": true, "validation_fraction": 0.25, "test_fraction": 0.3, "stratify": false,
              "seed": 7, "limit_train": 100, "shape": [8, 8, 1] }
            """);
        Assert.Equal(new DataConfig
        {
            Kind = DataSourceKind.Csv, Path = "a.csv.gz", LabelColumn = 0, Header = true, Scale = 0.0625f,
            Standardize = true, ValidationFraction = 0.25, TestFraction = 0.3, Stratify = false, Seed = 7,
            LimitTrain = 100, Shape = [8, 8, 1],
        }, c);
    }

    [Fact]
    public void A_bare_name_string_is_accepted()
        => Assert.Equal(DataSourceKind.FashionMnist, Parse("\"fashion-mnist\"").Kind);

    [Fact]
    public void The_idx_and_jets_dat_kinds_take_their_file_keys()
    {
        DataConfig i = Parse("""{ "name": "idx", "train_images": "a", "train_labels": "b", "test_images": "c", "test_labels": "d" }""");
        Assert.Equal(("a", "b", "c", "d"), (i.TrainImages, i.TrainLabels, i.TestImages, i.TestLabels));
        DataConfig j = Parse("""{ "name": "jets-dat", "features": "f.dat", "labels": "l.dat" }""");
        Assert.Equal(("f.dat", "l.dat"), (j.Features, j.Labels));
    }

    public static TheoryData<string, string> BadConfigs => new()
    {
        { """{ "nmae": "digits" }""", "data: unknown key 'nmae'; known keys: name, path," },
        { """{ "name": "cifar" }""", "data.name: unknown data set 'cifar'; known: digits, fashion-mnist," },
        { """{ "name": 3 }""", "data.name: expected a string, got the number 3" },
        { """{ "seed": "x" }""", "data.seed: expected an integer, got the string \"x\"" },
        { """{ "seed": 1.5 }""", "data.seed: expected an integer" },
        { """{ "validation_fraction": 1 }""", "data.validation_fraction: 1 is out of range" },
        { """{ "test_fraction": -0.1 }""", "data.test_fraction: -0.1 is out of range" },
        { """{ "limit_train": 0 }""", "data.limit_train: 0 is out of range" },
        { """{ "scale": 0 }""", "data.scale: must be positive" },
        { """{ "stratify": "yes" }""", "data.stratify: expected true or false" },
        { """{ "shape": [8, 0] }""", "data.shape[1]: expected a positive integer" },
        { """{ "shape": 64 }""", "data.shape: expected a non-empty array" },
        { """{ "name": "digits", "path": "x" }""", "data.path: does not apply to data set 'digits'" },
        { """{ "name": "fashion-mnist", "test_fraction": 0.2 }""", "data.test_fraction: does not apply to data set 'fashion-mnist' (it has its own test part)" },
        { """{ "name": "jets", "label_column": 1, "path": "j.csv" }""", "data.label_column: does not apply to data set 'jets'; it applies to csv" },
        { """{ "name": "csv" }""", "data.path: required for data set 'csv'" },
        { """{ "name": "mnist" }""", "data.path: required for data set 'mnist'" },
        { """{ "name": "jets-dat", "features": "f" }""", "data.labels: required for data set 'jets-dat'" },
        { """{ "name": "idx", "train_images": "a", "train_labels": "b", "test_images": "c" }""", "test_images and test_labels go together" },
        { "[]", "data: expected an object" },
    };

    [Theory]
    [MemberData(nameof(BadConfigs))]
    public void A_bad_config_names_the_key_and_the_problem(string json, string expected)
        => Assert.Contains(expected, Error(json));
}
