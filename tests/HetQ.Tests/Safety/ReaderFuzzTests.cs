using System.Buffers.Binary;
using System.Text;

namespace HetQ.Tests.Safety;

/// <summary>Fuzzes the file readers (JSON configuration, model.json, weights.bin, graph.json, manifest.json, NPY, IDX,
/// HDF5 weights, SQLite studies) with truncations, flipped bytes, insertions, empty and random files from valid seeds:
/// each read either succeeds or fails with one <see cref="HetQException"/> line; any other exception (which would be a
/// stack trace) or a read that takes over 10 s (a hang) fails the test. Deterministic seeds; well under a minute.</summary>
[Collection("Console")]
public sealed class ReaderFuzzTests(SafetyFixture fixture) : IClassFixture<SafetyFixture>
{
    private sealed record Reader(string Name, string FileName, Func<byte[]> Seed, Action<string> Read);

    private static byte[] Npy()
    {
        string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }";
        header = header.PadRight(64 - 10 - 1) + "\n";
        var bytes = new List<byte> { 0x93 };
        bytes.AddRange(Encoding.ASCII.GetBytes("NUMPY"));
        bytes.AddRange(new byte[] { 1, 0, (byte)header.Length, 0 });
        bytes.AddRange(Encoding.ASCII.GetBytes(header));
        for (int i = 0; i < 6; i++) bytes.AddRange(BitConverter.GetBytes((float)i));
        return bytes.ToArray();
    }

    private static byte[] Idx()
    {
        var b = new byte[4 + 12 + 18];
        b[2] = 0x08;
        b[3] = 3;
        BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(4), 2);
        BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(8), 3);
        BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(12), 3);
        for (int i = 0; i < 18; i++) b[16 + i] = (byte)(i * 13);
        return b;
    }

    private static byte[] Study()
    {
        string db = Path.Combine(Path.GetTempPath(), "hetq-fuzz-seed-" + Guid.NewGuid().ToString("N") + ".sqlite");
        using (var s = HetQ.Search.StudyStore.Open(db, "seed")) s.Initialize("{\"name\": \"seed\"}");
        var bytes = File.ReadAllBytes(db);
        foreach (var f in new[] { db, db + "-wal", db + "-shm" }) if (File.Exists(f)) File.Delete(f);
        return bytes;
    }

    private IEnumerable<Reader> Readers()
    {
        string keras = Path.Combine(BadInputTableTests.Data, "models", "keras");
        yield return new("train config", "c.json", () => Encoding.UTF8.GetBytes(SafetyFixture.DigitsQat), f => HetQ.Training.TrainConfig.Load(f));
        yield return new("model.json", "model.json", () => File.ReadAllBytes(Path.Combine(fixture.Model, "model.json")), f =>
        {
            string dir = Path.GetDirectoryName(f)!;
            File.Copy(Path.Combine(fixture.Model, "weights.bin"), Path.Combine(dir, "weights.bin"), overwrite: true);
            HetQ.Nn.ModelIO.Load(dir);
        });
        yield return new("weights.bin", "weights.bin", () => File.ReadAllBytes(Path.Combine(fixture.Model, "weights.bin")), f =>
        {
            string dir = Path.GetDirectoryName(f)!;
            File.Copy(Path.Combine(fixture.Model, "model.json"), Path.Combine(dir, "model.json"), overwrite: true);
            HetQ.Nn.ModelIO.Load(dir);
        });
        yield return new("graph.json", "graph.json", () => File.ReadAllBytes(Path.Combine(fixture.Design, "graph.json")), f => HetQ.Graph.IntegerGraph.Load(f));
        yield return new("manifest.json", "manifest.json", () => File.ReadAllBytes(Path.Combine(fixture.Design, "manifest.json")), f => HetQ.Hardware.HardwareManifest.Load(f));
        yield return new("NPY", "a.npy", Npy, f => HetQ.Data.NpyReader.Read(f));
        yield return new("IDX", "a-idx3-ubyte", Idx, f => HetQ.Data.IdxReader.Read(f));
        if (File.Exists(Path.Combine(keras, "KERAS_3layer_weights.h5")))
            yield return new("HDF5 weights", "w.h5", () => File.ReadAllBytes(Path.Combine(keras, "KERAS_3layer_weights.h5")),
                f => HetQ.Interop.KerasImporter.Import(Path.Combine(keras, "KERAS_3layer.json"), f));
        yield return new("SQLite study", "s.sqlite", Study, f =>
        {
            foreach (var name in HetQ.Search.StudyStore.StudyNames(f))
            {
                using var s = HetQ.Search.StudyStore.Open(f, name);
                _ = s.Trials();
            }
        });
    }

    private static IEnumerable<(string What, byte[] Bytes)> Mutations(byte[] seed, int n)
    {
        var rng = new Random(n);
        yield return ("seed", seed);
        yield return ("empty", Array.Empty<byte>());
        yield return ("random", Enumerable.Range(0, 1024).Select(_ => (byte)rng.Next(256)).ToArray());
        for (int i = 0; i < 10; i++)
        {
            int at = rng.Next(seed.Length);
            yield return ($"truncated at {at}", seed[..at]);
        }
        for (int i = 0; i < 12; i++)
        {
            var b = (byte[])seed.Clone();
            int flips = 1 + rng.Next(8);
            for (int k = 0; k < flips; k++) b[rng.Next(b.Length)] = (byte)rng.Next(256);
            yield return ($"{flips} bytes changed ({i})", b);
        }
        for (int i = 0; i < 4; i++)
        {
            int at = rng.Next(seed.Length);
            var junk = Enumerable.Range(0, 1 + rng.Next(64)).Select(_ => (byte)rng.Next(256)).ToArray();
            yield return ($"{junk.Length} bytes inserted at {at}", seed[..at].Concat(junk).Concat(seed[at..]).ToArray());
        }
    }

    /// <summary>The counts for the closing table; with HETQ_SAFETY_REPORT set they are appended to that file.</summary>
    [Fact]
    public async Task Every_reader_fails_with_one_clear_line_on_corrupt_input_and_never_crashes_or_hangs()
    {
        var failures = new List<string>();
        int runs = 0, clear = 0, read = 0, hangs = 0, stacks = 0;
        var report = new StringBuilder();
        foreach (var r in Readers())
        {
            int rClear = 0, rRead = 0, rBad = 0;
            var seed = r.Seed();
            foreach (var (what, bytes) in Mutations(seed, r.Name.Sum(c => c)))
            {
                runs++;
                string dir = Path.Combine(fixture.Root, "fuzz-" + Guid.NewGuid().ToString("N"));
                Directory.CreateDirectory(dir);
                string file = Path.Combine(dir, r.FileName);
                File.WriteAllBytes(file, bytes);
                Exception? error = null;
                var task = Task.Run(() =>
                {
                    try { r.Read(file); }
                    catch (Exception e) { error = e; }
                });
                if (await Task.WhenAny(task, Task.Delay(TimeSpan.FromSeconds(10))) != task)
                {
                    hangs++;
                    rBad++;
                    failures.Add($"{r.Name}, {what}: no answer in 10 s");
                    continue;
                }
                if (error is null) { read++; rRead++; }
                else if (error is HetQException h && HetQ.Cli.Cli.OneLine(h.Message).Length > 0) { clear++; rClear++; } // the CLI prints it as one line
                else
                {
                    stacks++;
                    rBad++;
                    failures.Add($"{r.Name}, {what}: {error.GetType().Name}: {error.Message}");
                }
            }
            report.Append($"fuzz\t{r.Name}\t{rClear + rRead + rBad}\t{rClear}\t{rRead}\t{rBad}\n");
        }
        report.Append($"fuzz-total\t{runs}\t{clear}\t{read}\t{stacks}\t{hangs}\n");
        if (Environment.GetEnvironmentVariable("HETQ_SAFETY_REPORT") is { Length: > 0 } path) File.AppendAllText(path, report.ToString());
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.True(clear > runs / 2, $"only {clear} of {runs} corrupt files gave a clear error");
    }
}
