using System.Diagnostics;
using HetQ.Files;

namespace HetQ.Tests.Safety;

/// <summary>Fault injection for <see cref="SafeOutput.ReplaceDirectory"/>: a crash after any step of the swap (the
/// step seam throws, and nothing cleans up, as after kill -9) leaves the old or the new artefact complete once the next
/// run recovers; a failing writer leaves the old one untouched; and real kill -9s of `hetq train` over an existing model
/// never leave a model that does not load.</summary>
public sealed class AtomicSwapTests
{
    private sealed class Crash : Exception;

    private static void Artefact(string dir, string tag)
    {
        File.WriteAllText(Path.Combine(dir, "model.json"), $"{{\"format\": \"hetq-model\", \"tag\": \"{tag}\"}}");
        File.WriteAllText(Path.Combine(dir, "weights.bin"), string.Concat(Enumerable.Repeat(tag, 1000)));
    }

    /// <summary>"old" or "new" when the target holds that artefact complete, else what is wrong.</summary>
    private static string State(string target)
    {
        if (!Directory.Exists(target)) return "missing";
        string json = Path.Combine(target, "model.json"), bin = Path.Combine(target, "weights.bin");
        if (!File.Exists(json) || !File.Exists(bin)) return "incomplete";
        foreach (var tag in new[] { "old", "new" })
            if (File.ReadAllText(json).Contains($"\"{tag}\"", StringComparison.Ordinal) && File.ReadAllText(bin) == string.Concat(Enumerable.Repeat(tag, 1000)))
                return tag;
        return "mixed";
    }

    public static IEnumerable<object[]> Steps() =>
        new[] { (false, "written"), (false, "swapped"), (false, "done"), (true, "written"), (true, "old-moved"), (true, "new-placed"), (true, "done") }
            .Select(s => new object[] { s.Item1, s.Item2 });

    [Theory]
    [MemberData(nameof(Steps))]
    public void A_crash_after_any_step_leaves_the_old_or_the_new_artefact(bool twoRenames, string crashAfter)
    {
        using var tmp = new TempDir();
        string target = tmp.File("model");
        Directory.CreateDirectory(target);
        Artefact(target, "old");
        var seen = new List<string>();
        Assert.Throws<Crash>(() => SafeOutput.Replace(target, ArtefactKind.Model, d => Artefact(d, "new"), "test", Array.Empty<string>(), [], twoRenames, step =>
        {
            seen.Add(step);
            if (step == crashAfter) throw new Crash();
        }));
        Assert.Contains(crashAfter, seen);
        SafeOutput.Recover(target); // what the next write of the same target does first
        Assert.Contains(State(target), new[] { "old", "new" });
        Assert.DoesNotContain(Directory.GetFileSystemEntries(tmp.Path), p => Path.GetFileName(p).StartsWith(".model.", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void At_every_step_of_the_exchange_the_target_is_complete(bool twoRenames)
    {
        using var tmp = new TempDir();
        string target = tmp.File("model");
        Directory.CreateDirectory(target);
        Artefact(target, "old");
        var states = new List<(string Step, string State)>();
        SafeOutput.Replace(target, ArtefactKind.Model, d => Artefact(d, "new"), "test", Array.Empty<string>(), [], twoRenames, step => states.Add((step, State(target))));
        Assert.Equal("new", State(target));
        // the atomic exchange never shows anything but a complete artefact; the fallback has one instant without one
        // (between its two renames), which Recover repairs (the crash test above)
        foreach (var (step, state) in states)
            if (!twoRenames || step != "old-moved") Assert.Contains(state, new[] { "old", "new" });
    }

    public static IEnumerable<object[]> CarrySteps() =>
        from first in new[] { false, true }
        from s in new[] { (false, "written"), (false, "carried"), (false, "swapped"), (false, "done"),
                          (true, "written"), (true, "carried"), (true, "old-moved"), (true, "new-placed"), (true, "done") }
        select new object[] { first, s.Item1, s.Item2 };

    /// <summary>A learned-width run's OUTPUT/pareto/ checkpoints are carried into the new model directory before the
    /// swap (hard links): a crash after any step leaves the old or the new model, and the checkpoints complete, both
    /// over an earlier model and on a first run, whose output holds only pareto/ until the final save.</summary>
    [Theory]
    [MemberData(nameof(CarrySteps))]
    public void A_crash_after_any_step_never_loses_the_carried_checkpoints(bool firstRun, bool twoRenames, string crashAfter)
    {
        using var tmp = new TempDir();
        string target = tmp.File("model");
        string epoch = Path.Combine(target, "pareto", "epoch-003");
        Directory.CreateDirectory(epoch);
        Artefact(epoch, "old");
        if (!firstRun) Artefact(target, "old");
        var seen = new List<string>();
        Assert.Throws<Crash>(() => SafeOutput.Replace(target, ArtefactKind.Model, d => Artefact(d, "new"), "test", Array.Empty<string>(), ["pareto"], twoRenames, step =>
        {
            seen.Add(step);
            if (step == crashAfter) throw new Crash();
        }));
        Assert.Contains(crashAfter, seen);
        SafeOutput.Recover(target);
        Assert.Contains(State(target), firstRun ? new[] { "incomplete", "new" } : new[] { "old", "new" }); // "incomplete": only pareto/, as before
        Assert.Equal("old", State(epoch));
        Assert.DoesNotContain(Directory.GetFileSystemEntries(tmp.Path), p => Path.GetFileName(p).StartsWith(".model.", StringComparison.Ordinal));
        // the next save (what the rerun does) succeeds and still carries them
        SafeOutput.ReplaceDirectoryCarrying(target, ArtefactKind.Model, d => Artefact(d, "new"), "test", ["pareto"]);
        Assert.Equal("new", State(target));
        Assert.Equal("old", State(epoch));
    }

    [Fact]
    public void Only_a_pareto_folder_of_HetQ_models_is_carried_or_accepted()
    {
        using var tmp = new TempDir();
        string target = tmp.File("model");
        Directory.CreateDirectory(Path.Combine(target, "pareto"));
        File.WriteAllText(Path.Combine(target, "pareto", "notes.txt"), "mine");
        Assert.Throws<HetQException>(() => SafeOutput.ReplaceDirectoryCarrying(target, ArtefactKind.Model, d => Artefact(d, "new"), "--out", ["pareto"]));
        Assert.Equal("mine", File.ReadAllText(Path.Combine(target, "pareto", "notes.txt")));
        // without carrying, a folder holding only pareto/ is not a model either
        File.Delete(Path.Combine(target, "pareto", "notes.txt"));
        Directory.CreateDirectory(Path.Combine(target, "pareto", "epoch-001"));
        Artefact(Path.Combine(target, "pareto", "epoch-001"), "old");
        Assert.Throws<HetQException>(() => SafeOutput.CheckDirectory(target, ArtefactKind.Model, "--out"));
        SafeOutput.CheckDirectory(target, ArtefactKind.Model, "--out", [], ["pareto"]);
        SafeOutput.ReplaceDirectoryCarrying(target, ArtefactKind.Model, d => Artefact(d, "new"), "--out", ["pareto"]);
        Assert.Equal("old", State(Path.Combine(target, "pareto", "epoch-001")));
    }

    [Fact]
    public void A_failing_writer_leaves_the_old_artefact_and_no_temporary()
    {
        using var tmp = new TempDir();
        string target = tmp.File("model");
        Directory.CreateDirectory(target);
        Artefact(target, "old");
        Assert.Throws<IOException>(() => SafeOutput.ReplaceDirectory(target, ArtefactKind.Model, d =>
        {
            File.WriteAllText(Path.Combine(d, "model.json"), "half");
            throw new IOException("disk full");
        }));
        Assert.Equal("old", State(target));
        Assert.Single(Directory.GetFileSystemEntries(tmp.Path));
    }

    [Fact]
    public void A_directory_HetQ_did_not_write_is_never_replaced()
    {
        using var tmp = new TempDir();
        string target = tmp.File("thesis");
        Directory.CreateDirectory(target);
        File.WriteAllText(Path.Combine(target, "a.tex"), "years");
        var e = Assert.Throws<HetQException>(() => SafeOutput.ReplaceDirectory(target, ArtefactKind.Model, d => Artefact(d, "new"), "--out"));
        Assert.Contains("not a HetQ model directory", e.Message);
        Assert.Equal("years", File.ReadAllText(Path.Combine(target, "a.tex")));
        Assert.Throws<HetQException>(() => SafeOutput.ReplaceDirectory(target, ArtefactKind.Design, d => Artefact(d, "new"), "--out"));
    }

    [Fact]
    public void A_file_is_written_through_a_rename_and_never_through_a_link_or_over_a_device()
    {
        using var tmp = new TempDir();
        string real = tmp.Write("real.json", "{\"format\": \"hetq-integer-graph\"}");
        string link = tmp.File("link.json");
        File.CreateSymbolicLink(link, real);
        Assert.Throws<HetQException>(() => SafeOutput.WriteText(link, "x", "--out"));
        Assert.Throws<HetQException>(() => SafeOutput.WriteText("/dev/null", "x", "--out"));
        Assert.Throws<HetQException>(() => SafeOutput.WriteText(tmp.Path, "x", "--out"));
        SafeOutput.WriteText(real, "{\"format\": \"hetq-integer-graph\", \"v\": 2}", "--out", "hetq-integer-graph");
        Assert.Contains("\"v\": 2", File.ReadAllText(real));
        Assert.Equal(new[] { "link.json", "real.json" }, Directory.GetFileSystemEntries(tmp.Path).Select(Path.GetFileName).Order().ToArray());
        Assert.Equal(real, new FileInfo(link).LinkTarget);
    }

    /// <summary>Real crashes: `hetq train --out M` over an existing model, killed (SIGKILL) at staggered instants; after
    /// every kill M still loads (the old model or the new one).</summary>
    [Fact]
    public void Kill_9_during_train_over_an_existing_model_never_loses_it()
    {
        string cli = Path.Combine(AppContext.BaseDirectory, "HetQ.Cli.dll");
        Assert.True(File.Exists(cli), cli);
        using var tmp = new TempDir();
        string cfg = tmp.Write("c.json", SafetyFixture.DigitsQat);
        string target = tmp.File("m");
        var first = Run(cli, cfg, target, killAfter: null);
        Assert.True(first == 0, "the first training failed");
        HetQ.Nn.ModelIO.Load(target);
        int killed = 0;
        foreach (int ms in new[] { 300, 700, 1100, 1500, 1900, 2300 })
        {
            if (Run(cli, cfg, target, killAfter: ms) is null) killed++;
            HetQ.Nn.ModelIO.Load(target); // throws when the model was lost or half-written
            SafeOutput.Recover(target);
        }
        Assert.True(killed > 0, "no run was killed before it finished");
        Assert.DoesNotContain(Directory.GetFileSystemEntries(tmp.Path), p => Path.GetFileName(p).StartsWith(".m.", StringComparison.Ordinal));
    }

    /// <summary>Exit code, or null when the process was killed.</summary>
    private static int? Run(string cli, string cfg, string target, int? killAfter)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { cli, "train", cfg, "--out", target }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        if (killAfter is int ms && !p.WaitForExit(ms))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            return null;
        }
        p.WaitForExit();
        return p.ExitCode;
    }
}
