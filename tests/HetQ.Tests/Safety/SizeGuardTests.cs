using HetQ.Data;
using HetQ.Emulation;
using HetQ.Graph;
using HetQ.Search;
using HetQ.Tests.Graph;

namespace HetQ.Tests.Safety;

/// <summary>Size estimates before the work: emulation (the emulator's weights and blocks, then each run's inputs and
/// outputs, or a trace's every node) and each search trial's training (its widths set its size) refuse with the number
/// above the limit, and a search goes on past a trial that cannot fit.</summary>
public sealed class SizeGuardTests
{
    [Fact]
    public void Emulation_is_refused_with_the_number_before_it_allocates_more_than_the_limit()
    {
        var (model, data) = FreezeEmulateTests.TrainedDigitsMlp();
        var g = Freezer.Freeze(model, "digits").Graph!;
        long own = EmulationMemory.Estimate(g, 0, 1).Total;
        // weights 64*32+32 + 32*16+16 + 16*10+10 at 12 bytes, one block of every node's codes at 8
        Assert.Equal(((64 * 32 + 32) + (32 * 16 + 16) + (16 * 10 + 10)) * 12L + g.Nodes.Sum(n => (long)n.Output.Size) * 32 * 8, own);
        var e = Assert.Throws<HetQException>(() => new Emulator(g, memoryLimit: own - 1));
        Assert.Contains("graph 'digits': emulating needs about", e.Message);
        Assert.DoesNotContain('\n', e.Message);

        // The emulator fits; a run of the whole data set on two threads does not: refused before any output exists.
        var run = EmulationMemory.Estimate(g, data.Count, 2);
        Assert.Equal((long)data.Count * (64 * 4 + 10 * 8), run.RunBytes);
        var emu = new Emulator(g, memoryLimit: run.Total - 1);
        e = Assert.Throws<HetQException>(() => emu.Run(data.Features, threads: 2));
        Assert.Contains($"inputs and outputs of {data.Count:N0} samples", e.Message);
        Assert.Equal(10, emu.Run(data.Features.AsSpan(0, 64), threads: 2).Length); // one sample fits
        // A trace keeps every node's codes for every sample: far more, refused at its own number.
        var trace = EmulationMemory.Estimate(g, data.Count, 1, trace: true);
        Assert.True(trace.RunBytes > run.RunBytes);
        Assert.Throws<HetQException>(() => new Emulator(g, memoryLimit: trace.Total - 1).Trace(data.Features));
        Assert.Equal(new Emulator(g).Run(data.Features), new Emulator(g, memoryLimit: run.Total).Run(data.Features, threads: 2));
        // over half the limit: a warning with the number, not an error
        Assert.StartsWith("warning: graph 'digits': emulating needs about", run.Check("digits", run.Total * 2 - 1));
        Assert.Null(run.Check("digits", run.Total * 2 + 1));
    }

    [Fact]
    public void A_search_trial_that_cannot_fit_fails_with_the_number_and_the_search_goes_on()
    {
        using var dir = new TempDir();
        dir.Write("train.json", """
        {
          "name": "t", "seed": 3, "data": { "name": "digits" },
          "model": { "layers": [ { "type": "dense", "units": 8, "activation": "relu", "name": "fc1" }, { "type": "dense", "units": 10, "name": "out" } ] },
          "optimizer": { "type": "adam", "learning_rate": 0.005 }, "epochs": 1, "batch_size": 32, "threads": 1
        }
        """);
        string cfg = dir.Write("search.json", $$"""
        {
          "name": "m", "train": "train.json", "input": "ap_ufixed<5,1,RND_CONV,SAT>", "trials": 2, "epochs": 1,
          "strategy": { "type": "random" },
          "space": { "default": { "kernel": ["quantized_bits(4,0,1,alpha=1)"], "bias": ["quantized_bits(8,3,1,alpha=1)"], "activation": ["quantized_relu(6,2)"] } },
          "study": "{{dir.File("s.sqlite").Replace("\\", "\\\\")}}", "output": "{{dir.File("out").Replace("\\", "\\\\")}}"
        }
        """);
        var logged = new List<string>();
        var r = new SearchJob(SearchConfig.Load(cfg)) { MemoryAvailable = 10_000 }.Run(log: logged.Add);
        Assert.Equal(2, r.Trials.Count);
        foreach (var t in r.Trials)
        {
            Assert.Equal(TrialState.Failed, t.State);
            Assert.StartsWith($"trial {t.Number}: training needs about", t.Error);
            Assert.Contains("more than the 10 KB this machine has free", t.Error);
            Assert.Null(t.Model);
        }
        // with room (a fresh study), the same search trains both
        string roomy = dir.Write("roomy.json", File.ReadAllText(cfg).Replace("s.sqlite", "s2.sqlite").Replace("\"out\"", "\"out2\"", StringComparison.Ordinal)
            .Replace(dir.File("out"), dir.File("out2"), StringComparison.Ordinal));
        Assert.All(new SearchJob(SearchConfig.Load(roomy)) { MemoryAvailable = 1L << 40 }.Run().Trials, t => Assert.True(t.IsDone, t.Error));
    }
}
