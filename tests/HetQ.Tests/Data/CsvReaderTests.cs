using HetQ.Data;

namespace HetQ.Tests.Data;

public sealed class CsvReaderTests
{
    [Fact]
    public void Plain_numeric_rows_take_the_last_column_as_label()
    {
        using var dir = new TempDir();
        string p = dir.Write("d.csv", "1,2,0\n3,4,2\n\n5,6,1\n");
        Dataset d = CsvReader.Read(p, scale: 0.5f);
        Assert.Equal([2], d.SampleShape);
        Assert.Equal([0.5f, 1f, 1.5f, 2f, 2.5f, 3f], d.Features);
        Assert.Equal([0, 2, 1], d.Labels);
        Assert.Equal(3, d.NumClasses);
        Assert.Null(d.ClassNames);
    }

    [Fact]
    public void A_header_is_detected_and_a_label_column_may_be_first()
    {
        using var dir = new TempDir();
        string p = dir.Write("d.csv.gz", DataTestFiles.Gzip("label,a,b\r\n1,0.5,-1e-1\r\n0,2,3\r\n"u8.ToArray()));
        Dataset d = CsvReader.Read(p, labelColumn: 0);
        Assert.Equal([0.5f, -0.1f, 2f, 3f], d.Features);
        Assert.Equal([1, 0], d.Labels);
    }

    [Fact]
    public void String_labels_become_sorted_class_names()
    {
        using var dir = new TempDir();
        string p = dir.Write("d.csv", "x,y,kind\n1,2,\"cat\"\n3,4,ant\n5,6,cat\n");
        Dataset d = CsvReader.Read(p, header: true);
        Assert.Equal(["ant", "cat"], d.ClassNames!);
        Assert.Equal([1, 0, 1], d.Labels);
    }

    [Fact]
    public void A_row_with_a_missing_column_names_the_line()
    {
        using var dir = new TempDir();
        string p = dir.Write("d.csv", "1,2,0\n3,0\n");
        var e = Assert.Throws<HetQException>(() => CsvReader.Read(p, header: false));
        Assert.Contains($"{p} line 2", e.Message);
    }

    [Fact]
    public void A_non_numeric_feature_names_the_line_and_column()
    {
        using var dir = new TempDir();
        string p = dir.Write("d.csv", "1,2,0\n3,x,1\n");
        var e = Assert.Throws<HetQException>(() => CsvReader.Read(p, header: false));
        Assert.Contains("line 2, column 2: 'x' is not a finite number", e.Message);
    }

    [Fact]
    public void A_label_column_out_of_range_is_rejected()
    {
        using var dir = new TempDir();
        string p = dir.Write("d.csv", "1,2,0\n");
        var e = Assert.Throws<HetQException>(() => CsvReader.Read(p, labelColumn: 5));
        Assert.Contains("label column 5", e.Message);
    }

    [Fact]
    public void A_label_column_with_huge_values_is_questioned()
    {
        using var dir = new TempDir();
        string p = dir.Write("d.csv", "1,2,0\n3,4,123456\n");
        Assert.Contains("is it the right column?", Assert.Throws<HetQException>(() => CsvReader.Read(p)).Message);
    }

    [Fact]
    public void A_header_only_file_loads_as_no_samples_and_the_loader_rejects_it()
    {
        using var dir = new TempDir();
        dir.Write("d.csv", "a,b,label\n");
        Assert.Equal(0, CsvReader.Read(dir.File("d.csv")).Count);
        var e = Assert.Throws<HetQException>(() => DatasetLoader.Load(new DataConfig { Kind = DataSourceKind.Csv, Path = "d.csv" }, dir.Path));
        Assert.Equal("csv: the data set has no samples", e.Message);
    }

    [Fact]
    public void An_empty_file_is_rejected()
    {
        using var dir = new TempDir();
        string p = dir.Write("d.csv", "\n\n");
        Assert.Contains("is empty", Assert.Throws<HetQException>(() => CsvReader.Read(p)).Message);
    }
}
