using System.Globalization;
using System.Text;
using HetQ.Data;

namespace HetQ.Tests.Data;

public sealed class JetsReaderTests
{
    private static readonly string[] FeatureNames =
    [
        "zlogz", "c1_b0_mmdt", "c1_b1_mmdt", "c1_b2_mmdt", "c2_b1_mmdt", "c2_b2_mmdt", "d2_b1_mmdt", "d2_b2_mmdt",
        "d2_a1_b1_mmdt", "d2_a1_b2_mmdt", "m2_b1_mmdt", "m2_b2_mmdt", "n2_b1_mmdt", "n2_b2_mmdt", "mass_mmdt", "multiplicity",
    ];

    /// <summary>Row i, feature j has the value i + j/100; classes cycle through the given values.</summary>
    internal static string Arff(int rows, Func<int, string> classValue, string classDecl = "{'g','q','t','w','z'}")
    {
        var sb = new StringBuilder();
        sb.Append("% hls4ml jets, a small made-up sample\n% second comment line\n@RELATION 'hls4ml_lhc_jets_hlf'\n\n");
        foreach (string f in FeatureNames) sb.Append($"@ATTRIBUTE {f} NUMERIC\n");
        sb.Append($"@attribute 'class' {classDecl}\n\n@DATA\n");
        for (int i = 0; i < rows; i++)
        {
            if (i == 1) sb.Append("% a comment between rows\n");
            for (int j = 0; j < 16; j++) sb.Append((i + j / 100.0).ToString(CultureInfo.InvariantCulture)).Append(',');
            sb.Append(classValue(i)).Append('\n');
        }
        return sb.ToString();
    }

    internal static string Csv(int rows, Func<int, string> classValue)
    {
        var sb = new StringBuilder(string.Join(",", FeatureNames) + ",class\n");
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < 16; j++) sb.Append((i + j / 100.0).ToString(CultureInfo.InvariantCulture)).Append(',');
            sb.Append(classValue(i)).Append('\n');
        }
        return sb.ToString();
    }

    [Fact]
    public void An_openml_arff_with_quoted_class_values_and_comments_is_read()
    {
        using var dir = new TempDir();
        string[] values = ["'g'", "q", "\"t\"", "'w'", "z"];
        string p = dir.Write("jets.arff", Arff(5, i => values[i]));
        Dataset d = JetsReader.Read(p);
        Assert.Equal(5, d.Count);
        Assert.Equal([16], d.SampleShape);
        Assert.Equal([0, 1, 2, 3, 4], d.Labels);
        Assert.Equal(["g", "q", "t", "w", "z"], d.ClassNames!);
        Assert.Equal(2.15f, d.Sample(2)[15]);
    }

    [Fact]
    public void Class_values_declared_in_another_order_map_to_g_q_t_w_z()
    {
        using var dir = new TempDir();
        string p = dir.Write("jets.arff", Arff(2, i => i == 0 ? "z" : "g", "{z,w,t,q,g}"));
        Assert.Equal([4, 0], JetsReader.ReadArff(p).Labels);
    }

    [Fact]
    public void An_undeclared_class_value_names_the_line()
    {
        using var dir = new TempDir();
        string p = dir.Write("jets.arff", Arff(2, i => i == 0 ? "g" : "x"));
        var e = Assert.Throws<HetQException>(() => JetsReader.ReadArff(p));
        Assert.Contains(p, e.Message);
        Assert.Contains("'x' is not a value of nominal attribute 'class'", e.Message);
        Assert.Contains("line 26", e.Message);
    }

    [Fact]
    public void An_arff_whose_last_attribute_is_numeric_is_rejected()
    {
        using var dir = new TempDir();
        string p = dir.Write("jets.arff", Arff(1, _ => "1", "NUMERIC"));
        Assert.Contains("must be the nominal class", Assert.Throws<HetQException>(() => JetsReader.ReadArff(p)).Message);
    }

    [Fact]
    public void A_missing_value_is_rejected()
    {
        using var dir = new TempDir();
        string p = dir.Write("jets.arff", Arff(1, _ => "?"));
        Assert.Contains("missing value", Assert.Throws<HetQException>(() => JetsReader.ReadArff(p)).Message);
    }

    [Theory]
    [InlineData("g,q,t,w,z")]
    [InlineData("0,1,2,3,4")]
    [InlineData("\"g\",'q',T,w,z")]
    public void A_csv_with_header_takes_class_names_or_indices(string classes)
    {
        using var dir = new TempDir();
        string[] c = classes.Split(',');
        string p = dir.Write("jets.csv", Csv(5, i => c[i]));
        Dataset d = JetsReader.Read(p);
        Assert.Equal([0, 1, 2, 3, 4], d.Labels);
        Assert.Equal(5, d.NumClasses);
        Assert.Equal(16 * 5, d.Features.Length);
    }

    [Fact]
    public void A_csv_with_an_unknown_class_names_the_line()
    {
        using var dir = new TempDir();
        string p = dir.Write("jets.csv", Csv(3, i => i == 2 ? "b" : "g"));
        var e = Assert.Throws<HetQException>(() => JetsReader.ReadCsv(p));
        Assert.Contains("line 4: class 'b'", e.Message);
    }

    [Fact]
    public void A_csv_with_the_wrong_feature_count_is_rejected()
    {
        using var dir = new TempDir();
        string p = dir.Write("jets.csv", "a,b,class\n1,2,g\n");
        Assert.Contains("2 feature columns", Assert.Throws<HetQException>(() => JetsReader.ReadCsv(p)).Message);
    }

    [Fact]
    public void A_dat_pair_with_one_hot_labels_is_read()
    {
        using var dir = new TempDir();
        string row = string.Join(" ", Enumerable.Range(0, 16).Select(j => $"{j}.5")) + " \n";
        string f = dir.Write("f.dat", row + row);
        string l = dir.Write("l.dat", "0.0 0.0 1.0 0.0 0.0 \n1.0 0.0 0.0 0.0 0.0\n");
        Dataset d = JetsReader.ReadDat(f, l);
        Assert.Equal([2, 0], d.Labels);
        Assert.Equal(15.5f, d.Sample(1)[15]);
    }

    [Fact]
    public void A_dat_label_row_that_is_not_one_hot_is_rejected()
    {
        using var dir = new TempDir();
        string row = string.Join(" ", Enumerable.Range(0, 16)) + "\n";
        string f = dir.Write("f.dat", row);
        string l = dir.Write("l.dat", "0.5 0.5 0 0 0\n");
        Assert.Contains("not a one-hot row", Assert.Throws<HetQException>(() => JetsReader.ReadDat(f, l)).Message);
    }

    [Fact]
    public void The_hundred_reference_jets_are_read_with_their_classes()
    {
        string f = Requires.Shared("data/jets/jets100_features.dat");
        string l = Requires.Shared("data/jets/jets100_labels_onehot.dat");
        Dataset d = JetsReader.ReadDat(f, l);
        Assert.Equal(100, d.Count);
        Assert.Equal([16], d.SampleShape);
        Assert.Equal(5, d.NumClasses);
        Assert.Equal(-0.11950315f, d.Features[0]);
        Assert.Equal(1, d.Labels[0]);
        Assert.All(Enumerable.Range(0, 5), c => Assert.Contains(c, d.Labels));
    }
}
