using HetQ.Data;

namespace HetQ.Tests.Data;

public sealed class IdxReaderTests
{
    private static readonly byte[] Pixels = [0, 255, 128, 1, 2, 3, 4, 5, 6, 7, 8, 9];

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_tiny_image_file_and_its_labels_round_trip(bool gzip)
    {
        using var dir = new TempDir();
        byte[] images = DataTestFiles.Idx([3, 2, 2], Pixels);
        byte[] labels = DataTestFiles.Idx([3], [2, 0, 1]);
        string ip = dir.Write("images.idx", gzip ? DataTestFiles.Gzip(images) : images);
        string lp = dir.Write("labels.idx", gzip ? DataTestFiles.Gzip(labels) : labels);

        Dataset d = IdxReader.ReadDataset(ip, lp, "tiny", scale: 1f / 255f);

        Assert.Equal(3, d.Count);
        Assert.Equal([2, 2, 1], d.SampleShape);
        Assert.Equal([2, 0, 1], d.Labels);
        Assert.Equal(3, d.NumClasses);
        Assert.Equal(1f, d.Features[1]);
        Assert.Equal(128f / 255f, d.Features[2]);
        Assert.Equal(9f / 255f, d.Features[11]);
    }

    [Fact]
    public void Big_endian_int32_and_float64_elements_are_read()
    {
        using var dir = new TempDir();
        byte[] ints = [0xFF, 0xFF, 0xFF, 0xFE, 0x00, 0x00, 0x01, 0x00];
        IdxArray a = IdxReader.Read(dir.Write("i.idx", DataTestFiles.Idx(0x0C, [2], ints)));
        Assert.Equal([-2f, 256f], a.Values);

        byte[] dbl = new byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteDoubleBigEndian(dbl, -1.5);
        IdxArray b = IdxReader.Read(dir.Write("d.idx", DataTestFiles.Idx(0x0E, [1, 1], dbl)));
        Assert.Equal([1, 1], b.Dims);
        Assert.Equal([-1.5f], b.Values);
    }

    [Fact]
    public void A_bad_magic_is_reported_with_the_file_name()
    {
        using var dir = new TempDir();
        string p = dir.Write("bad.idx", [0x12, 0x34, 0x08, 0x01, 0, 0, 0, 1, 7]);
        var e = Assert.Throws<HetQException>(() => IdxReader.Read(p));
        Assert.Contains(p, e.Message);
        Assert.Contains("bad magic", e.Message);
    }

    [Fact]
    public void An_unknown_element_type_is_a_bad_magic()
    {
        using var dir = new TempDir();
        string p = dir.Write("bad.idx", [0, 0, 0x07, 0x01, 0, 0, 0, 1, 7]);
        var e = Assert.Throws<HetQException>(() => IdxReader.Read(p));
        Assert.Contains("element type 0x07", e.Message);
    }

    [Fact]
    public void A_truncated_header_is_reported()
    {
        using var dir = new TempDir();
        string p = dir.Write("short.idx", [0, 0, 0x08, 0x03, 0, 0, 0, 1]);
        var e = Assert.Throws<HetQException>(() => IdxReader.Read(p));
        Assert.Contains(p, e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void Truncated_data_is_reported_with_the_declared_shape()
    {
        using var dir = new TempDir();
        byte[] full = DataTestFiles.Idx([3, 2, 2], Pixels);
        string p = dir.Write("cut.idx.gz", DataTestFiles.Gzip(full[..^3]));
        var e = Assert.Throws<HetQException>(() => IdxReader.Read(p));
        Assert.Contains(p, e.Message);
        Assert.Contains("truncated", e.Message);
        Assert.Contains("3x2x2", e.Message);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(20)]
    public void A_gzip_file_cut_short_is_reported_as_truncated(int cut)
    {
        using var dir = new TempDir();
        byte[] big = DataTestFiles.Idx([100, 28, 28], [.. Enumerable.Range(0, 78400).Select(i => (byte)(i * 7 % 251))]);
        byte[] gz = DataTestFiles.Gzip(big);
        string p = dir.Write("cut.gz", gz[..^cut]);
        var e = Assert.Throws<HetQException>(() => IdxReader.Read(p));
        Assert.Contains(p, e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void Trailing_bytes_after_the_data_are_reported()
    {
        using var dir = new TempDir();
        string p = dir.Write("long.idx", [.. DataTestFiles.Idx([1], [5]), 9, 9]);
        var e = Assert.Throws<HetQException>(() => IdxReader.Read(p));
        Assert.Contains("2 bytes follow", e.Message);
    }

    [Fact]
    public void A_corrupt_gzip_stream_is_reported_not_thrown_raw()
    {
        using var dir = new TempDir();
        byte[] gz = DataTestFiles.Gzip(DataTestFiles.Idx([3, 2, 2], Pixels));
        for (int i = 12; i < gz.Length - 8; i++) gz[i] ^= 0x5A;
        string p = dir.Write("corrupt.gz", gz);
        var e = Assert.Throws<HetQException>(() => IdxReader.Read(p));
        Assert.Contains(p, e.Message);
    }

    [Fact]
    public void Images_and_labels_of_different_counts_are_rejected()
    {
        using var dir = new TempDir();
        string ip = dir.Write("i", DataTestFiles.Idx([3, 2, 2], Pixels));
        string lp = dir.Write("l", DataTestFiles.Idx([2], [0, 1]));
        var e = Assert.Throws<HetQException>(() => IdxReader.ReadDataset(ip, lp, "tiny"));
        Assert.Contains("3 images", e.Message);
        Assert.Contains("2 labels", e.Message);
    }

    [Fact]
    public void A_missing_file_names_the_path_and_the_hint()
    {
        var e = Assert.Throws<HetQException>(() => IdxReader.Read("/nonexistent/x.gz", "fashion-mnist", "install it"));
        Assert.Equal("fashion-mnist: file not found: /nonexistent/x.gz (install it)", e.Message);
    }

    [Fact]
    public void The_shared_mnist_test_set_has_ten_thousand_images_of_digits_0_to_9()
    {
        string images = Requires.Shared("data/mnist/t10k-images-idx3-ubyte.gz");
        string labels = Requires.Shared("data/mnist/t10k-labels-idx1-ubyte.gz");
        Dataset d = IdxReader.ReadDataset(images, labels, "mnist");
        Assert.Equal(10000, d.Count);
        Assert.Equal([28, 28, 1], d.SampleShape);
        Assert.Equal(10, d.NumClasses);
        Assert.Equal(Enumerable.Range(0, 10), d.Labels.Distinct().Order());
        Assert.Equal(0f, d.Features.Min());
        Assert.Equal(1f, d.Features.Max());
    }
}
