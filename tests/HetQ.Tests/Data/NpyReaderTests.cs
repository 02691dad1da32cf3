using HetQ.Data;

namespace HetQ.Tests.Data;

public sealed class NpyReaderTests
{
    public static TheoryData<string, byte[], float[]> Dtypes => new()
    {
        { "<f4", DataTestFiles.Float32(1.5f, -2f, 0f, 3.25f), [1.5f, -2f, 0f, 3.25f] },
        { "<f8", DataTestFiles.Float64(1.5, -2, 0, 1e10), [1.5f, -2f, 0f, 1e10f] },
        { "|u1", [0, 7, 128, 255], [0f, 7f, 128f, 255f] },
        { "|i1", [0, 7, 128, 255], [0f, 7f, -128f, -1f] },
        { "<i4", DataTestFiles.Int32(-1, 2, 70000, 0), [-1f, 2f, 70000f, 0f] },
        { "<i8", DataTestFiles.Int64(-1, 2, 70000, 9), [-1f, 2f, 70000f, 9f] },
        { "<u2", [1, 0, 0, 1, 255, 255, 0, 0], [1f, 256f, 65535f, 0f] },
        { "|b1", [0, 1, 1, 0], [0f, 1f, 1f, 0f] },
    };

    [Theory]
    [MemberData(nameof(Dtypes))]
    public void Each_dtype_is_read_as_float32(string descr, byte[] data, float[] expected)
    {
        using var dir = new TempDir();
        string p = dir.Write("a.npy", DataTestFiles.Npy(descr, [2, 2], data));
        NpyArray a = NpyReader.Read(p);
        Assert.Equal(descr, a.Dtype);
        Assert.Equal([2, 2], a.Shape);
        Assert.Equal(expected, a.Values);
    }

    [Fact]
    public void A_fortran_order_array_is_rejected_by_name()
    {
        using var dir = new TempDir();
        string p = dir.Write("f.npy", DataTestFiles.Npy("<f4", [2, 2], DataTestFiles.Float32(1, 2, 3, 4), fortran: true));
        var e = Assert.Throws<HetQException>(() => NpyReader.Read(p));
        Assert.Contains("fortran_order", e.Message);
        Assert.Contains(p, e.Message);
    }

    [Fact]
    public void A_big_endian_array_is_rejected()
    {
        using var dir = new TempDir();
        string p = dir.Write("b.npy", DataTestFiles.Npy(">f4", [1], DataTestFiles.Float32(1)));
        Assert.Contains("big-endian", Assert.Throws<HetQException>(() => NpyReader.Read(p)).Message);
    }

    [Fact]
    public void Truncated_data_is_reported()
    {
        using var dir = new TempDir();
        string p = dir.Write("t.npy", DataTestFiles.Npy("<f4", [3], DataTestFiles.Float32(1, 2)));
        var e = Assert.Throws<HetQException>(() => NpyReader.Read(p));
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void A_file_without_the_magic_is_not_npy()
    {
        using var dir = new TempDir();
        string p = dir.Write("x.npy", "hello world, not numpy");
        Assert.Contains("not a .npy file", Assert.Throws<HetQException>(() => NpyReader.Read(p)).Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void An_npz_archive_gives_its_arrays_by_key(bool compressed)
    {
        using var dir = new TempDir();
        string p = dir.Write("a.npz", DataTestFiles.Npz(compressed,
            ("x", DataTestFiles.Npy("<f8", [2, 1], DataTestFiles.Float64(0.5, 1.5))),
            ("y", DataTestFiles.Npy("<i8", [2], DataTestFiles.Int64(1, 0)))));
        IReadOnlyDictionary<string, NpyArray> a = NpyReader.ReadNpz(p);
        Assert.Equal(["x", "y"], a.Keys.Order());
        Assert.Equal([0.5f, 1.5f], a["x"].Values);
        Assert.Equal([1f, 0f], a["y"].Values);
    }

    [Fact]
    public void A_file_that_is_not_a_zip_is_reported_as_a_bad_npz()
    {
        using var dir = new TempDir();
        string p = dir.Write("a.npz", "not a zip at all");
        var e = Assert.Throws<HetQException>(() => NpyReader.ReadNpz(p));
        Assert.Contains(p, e.Message);
        Assert.Contains("not a valid .npz", e.Message);
    }
}
