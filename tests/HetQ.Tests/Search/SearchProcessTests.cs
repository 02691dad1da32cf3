using System.Diagnostics;
using HetQ.Search;

namespace HetQ.Tests.Search;

/// <summary>Real processes on a real study database: a search killed with kill -9 resumes without losing or
/// repeating a trial, and workers on PostgreSQL share one study.</summary>
public class SearchProcessTests(ITestOutputHelper output)
{
    private static string SearchConfig(TempDir dir, string study, int trials, int epochs)
    {
        dir.Write("train.json", """
        {
          "name": "t", "seed": 3,
          "data": { "name": "digits" },
          "model": { "layers": [ { "type": "dense", "units": 32, "activation": "relu", "name": "fc1" }, { "type": "dense", "units": 10, "name": "out" } ] },
          "optimizer": { "type": "adam", "learning_rate": 0.005 },
          "epochs": 1, "batch_size": 32, "threads": 1
        }
        """);
        return dir.Write("search.json", $$"""
        {
          "name": "s", "train": "train.json", "input": "ap_ufixed<5,1,RND_CONV,SAT>",
          "trials": {{trials}}, "epochs": {{epochs}},
          "strategy": { "type": "tpe", "startup_trials": 3 },
          "space": { "default": {
            "kernel": ["quantized_bits(2,1,1,alpha=1)", "quantized_bits(4,0,1,alpha=1)", "quantized_bits(6,0,1,alpha=1)"],
            "bias": ["quantized_bits(6,2,1,alpha=1)"], "activation": ["quantized_relu(3,1)", "quantized_relu(6,2)"] } },
          "baselines": [ { "name": "uniform 6", "kernel": "quantized_bits(6,0,1,alpha=1)", "bias": "quantized_bits(6,2,1,alpha=1)", "activation": "quantized_relu(6,2)" } ],
          "study": "{{study.Replace("\\", "\\\\")}}", "output": "{{dir.File("out")}}"
        }
        """);
    }

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Process, System.Text.StringBuilder> Stderr = new();

    private static string ErrorsOf(Process p) { var sb = Stderr.GetOrCreateValue(p); lock (sb) return sb.ToString(); }

    private static Process StartCli(string workDir, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = workDir, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "HetQ.Cli.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        var p = Process.Start(psi)!;
        p.OutputDataReceived += (_, _) => { };
        var err = Stderr.GetOrCreateValue(p);
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (err) err.AppendLine(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    /// <summary>Starts the search and kills it (SIGKILL) once <paramref name="when"/> holds; a kill that lands between two
    /// trials (nothing running: under load the gap is not negligible) resumes the study and tries again.</summary>
    private static (IReadOnlyList<TrialRecord> Before, TrialRecord Killed) KillWhileRunning(TempDir dir, string db, string cfg, Func<IReadOnlyList<TrialRecord>, bool> when)
    {
        for (int attempt = 0; attempt < 5; attempt++)
        {
            var first = StartCli(dir.Path, "search", cfg);
            var sw = Stopwatch.StartNew();
            while (sw.Elapsed < TimeSpan.FromSeconds(180) && !first.HasExited)
            {
                if (File.Exists(db))
                    try
                    {
                        using var s = StudyStore.Open(db, "s");
                        if (when(s.Trials())) break;
                    }
                    catch (Exception e) when (e is Microsoft.Data.Sqlite.SqliteException or HetQException) { }
                Thread.Sleep(20);
            }
            Assert.False(first.HasExited, "the search finished before it could be killed; make trials slower");
            first.Kill(entireProcessTree: true); // SIGKILL
            first.WaitForExit();
            IReadOnlyList<TrialRecord> before;
            using (var s = StudyStore.Open(db, "s")) before = s.Trials();
            if (before.SingleOrDefault(t => t.State == TrialState.Running) is { } killed) return (before, killed);
        }
        Assert.Fail("five kills all landed between two trials");
        throw new InvalidOperationException();
    }

    [Fact]
    public void A_fixed_seed_gives_the_same_weights_in_two_separate_processes()
    {
        using var dir = new TempDir();
        SearchConfig(dir, dir.File("unused.sqlite"), 1, 1);
        var runs = new[] { "a", "b" }.Select(n =>
        {
            var p = StartCli(dir.Path, "train", dir.File("train.json"), "--out", dir.File(n), "--epochs", "3");
            Assert.True(p.WaitForExit(120_000));
            Assert.Equal(0, p.ExitCode);
            return File.ReadAllBytes(Path.Combine(dir.File(n), "weights.bin"));
        }).ToList();
        Assert.Equal(runs[0], runs[1]);
    }

    [Fact]
    public void A_search_killed_with_kill_9_resumes_where_it_stopped_nothing_lost_or_run_twice()
    {
        using var dir = new TempDir();
        string db = dir.File("study.sqlite");
        // 300 epochs: a trial of this tiny model takes about 0.4 s on a quiet machine (12 epochs took 20 ms there, and the
        // whole search ended before the poll could see a trial running).
        string cfg = SearchConfig(dir, db, trials: 6, epochs: 300);
        var (before, killed) = KillWhileRunning(dir, db, cfg, all => all.Count(t => t.IsDone) >= 2 && all.Any(t => t.State == TrialState.Running));
        var doneBefore = before.Where(t => t.IsDone).ToList();
        output.WriteLine($"killed with {doneBefore.Count} done, trial {killed.Number} running");

        var second = StartCli(dir.Path, "search", cfg);
        Assert.True(second.WaitForExit(180_000), "the resumed search did not finish");
        Assert.Equal(0, second.ExitCode);
        using var store = StudyStore.Open(db, "s");
        var after = store.Trials();
        Assert.Equal(7, after.Count); // 6 trials + 1 baseline, no more
        Assert.All(after, t => Assert.True(t.IsFinished, $"trial {t.Number} is {t.State}"));
        Assert.Equal(after.Count, after.Select(t => t.Number).Distinct().Count());
        foreach (var d in doneBefore)
        {
            var same = after.Single(t => t.Number == d.Number);
            Assert.Equal(1, same.Attempts);       // not run again
            Assert.Equal(d.Score, same.Score);
            Assert.Equal(d.Metrics, same.Metrics);
        }
        Assert.Contains(after, t => t.Attempts == 2); // the trial running at the kill was run again
    }

    [Fact]
    public void A_hyperband_search_killed_with_kill_9_resumes_with_each_trial_and_promotion_run_once()
    {
        using var dir = new TempDir();
        string db = dir.File("study.sqlite");
        string cfg = SearchConfig(dir, db, trials: 9, epochs: 8);
        // Rungs of 8, 24 and 72 epochs: promoted trials continue from their parent's weights.
        File.WriteAllText(cfg, File.ReadAllText(cfg).Replace("\"strategy\": { \"type\": \"tpe\", \"startup_trials\": 3 }",
            "\"strategy\": { \"type\": \"hyperband\", \"min_epochs\": 8, \"max_epochs\": 72, \"eta\": 3, \"sampler\": \"random\" }"));
        var (before, killed) = KillWhileRunning(dir, db, cfg, all => all.Any(t => t.Parent is not null && t.State == TrialState.Running));
        var doneBefore = before.Where(t => t.IsDone).ToList();
        output.WriteLine($"killed with {doneBefore.Count} done, trial {killed.Number} (rung {killed.Rung}, from #{killed.Parent}) running");

        var second = StartCli(dir.Path, "search", cfg);
        Assert.True(second.WaitForExit(300_000), "the resumed search did not finish");
        Assert.Equal(0, second.ExitCode);
        using var store = StudyStore.Open(db, "s");
        var after = store.Trials();
        Assert.All(after, t => Assert.True(t.IsFinished, $"trial {t.Number} is {t.State}"));
        Assert.Equal(9, after.Count(t => t.IsSearch && t.Parent is null));
        var parents = after.Where(t => t.Parent is not null).Select(t => t.Parent!.Value).ToList();
        Assert.Equal(parents.Count, parents.Distinct().Count()); // no promotion twice
        foreach (var d in doneBefore)
        {
            var same = after.Single(t => t.Number == d.Number);
            Assert.Equal(1, same.Attempts);
            Assert.Equal(d.Metrics, same.Metrics);
        }
        var rerun = after.Single(t => t.Number == killed.Number);
        Assert.Equal(2, rerun.Attempts);
        Assert.Equal((killed.Rung, killed.Parent), (rerun.Rung, rerun.Parent));
        // Every trial reports the epochs its rung stands for: 8, 24 or 72 in all.
        foreach (var t in after.Where(t => t.IsSearch && t.IsDone))
            Assert.Contains($"\"epochs\":{new[] { 8, 24, 72 }[t.Rung]},", t.Metrics);
        Assert.Null(new Hyperband(8, 72, 3, 1).Promotion(after));
    }

    [Fact]
    public void Several_workers_share_one_PostgreSQL_study_and_run_each_trial_once()
    {
        string conn = Requires.Postgres();
        using var dir = new TempDir();
        string study = "workers-" + Guid.NewGuid().ToString("N")[..8];
        // Trials long enough (about a second each) that every worker has started before the study is done.
        SearchConfig(dir, conn, trials: 9, epochs: 25);
        File.WriteAllText(dir.File("search.json"), File.ReadAllText(dir.File("search.json")).Replace("\"name\": \"s\"", $"\"name\": \"{study}\""));
        var workers = Enumerable.Range(0, 3).Select(_ => StartCli(dir.Path, "search", dir.File("search.json"), "--worker")).ToList();
        foreach (var w in workers) Assert.True(w.WaitForExit(240_000), "a worker did not finish");
        Assert.All(workers, w => Assert.True(w.ExitCode == 0, $"a worker exited with {w.ExitCode}: {ErrorsOf(w)}"));
        using var store = StudyStore.Open(conn, study);
        var trials = store.Trials();
        Assert.Equal(10, trials.Count);
        Assert.All(trials, t => Assert.Equal(1, t.Attempts));
        Assert.All(trials, t => Assert.True(t.IsFinished));
        int distinctWorkers = trials.Select(t => t.Worker).Distinct().Count();
        output.WriteLine($"{distinctWorkers} workers ran the {trials.Count} trials");
        Assert.True(distinctWorkers >= 2, $"only {distinctWorkers} worker(s) ran trials");
    }

    [Fact]
    public void Several_workers_share_one_PostgreSQL_hyperband_study_and_promote_each_trial_once()
    {
        string conn = Requires.Postgres();
        using var dir = new TempDir();
        string study = "asha-" + Guid.NewGuid().ToString("N")[..8];
        SearchConfig(dir, conn, trials: 9, epochs: 8);
        File.WriteAllText(dir.File("search.json"), File.ReadAllText(dir.File("search.json")).Replace("\"name\": \"s\"", $"\"name\": \"{study}\"")
            .Replace("\"strategy\": { \"type\": \"tpe\", \"startup_trials\": 3 }",
                "\"strategy\": { \"type\": \"hyperband\", \"min_epochs\": 8, \"max_epochs\": 72, \"eta\": 3, \"sampler\": \"random\" }"));
        var workers = Enumerable.Range(0, 3).Select(_ => StartCli(dir.Path, "search", dir.File("search.json"), "--worker")).ToList();
        foreach (var w in workers) Assert.True(w.WaitForExit(300_000), "a worker did not finish");
        Assert.All(workers, w => Assert.True(w.ExitCode == 0, $"a worker exited with {w.ExitCode}: {ErrorsOf(w)}"));
        using var store = StudyStore.Open(conn, study);
        var trials = store.Trials();
        Assert.Equal(9, trials.Count(t => t.IsSearch && t.Parent is null));
        Assert.All(trials, t => Assert.Equal(1, t.Attempts));
        Assert.All(trials, t => Assert.True(t.IsFinished));
        var parents = trials.Where(t => t.Parent is not null).Select(t => t.Parent!.Value).ToList();
        Assert.NotEmpty(parents);
        Assert.Equal(parents.Count, parents.Distinct().Count());
        Assert.Null(new Hyperband(8, 72, 3, 1).Promotion(trials));
        output.WriteLine($"{trials.Count} trials ({parents.Count} promotions) by {trials.Select(t => t.Worker).Distinct().Count()} workers");
    }
}
