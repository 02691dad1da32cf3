using System.Text.Json;
using HetQ.Hardware;
using HetQ.Nn;
using HetQ.Training;

namespace HetQ.Tests.Cli;

/// <summary>Progress lines on stderr: steps with start, "still running" and elapsed-time lines, throttled counters, the CLI's
/// tool steps (Icarus, Yosys) and in-epoch batches; the size estimate that refuses a training that cannot fit.</summary>
[Collection("Console")]
public class ProgressTests
{
    private sealed class Lines
    {
        private readonly List<string> _lines = [];
        public readonly ManualResetEventSlim Ticked = new();
        public void Add(string l)
        {
            lock (_lines) _lines.Add(l);
            if (l.Contains("still running", StringComparison.Ordinal) || l.Contains("(running", StringComparison.Ordinal)) Ticked.Set();
        }
        public string[] All { get { lock (_lines) return [.. _lines]; } }
    }

    [Fact]
    public void A_step_says_when_it_starts_that_it_still_runs_and_how_long_it_took()
    {
        var lines = new Lines();
        var p = new Progress(lines.Add, interval: TimeSpan.FromMilliseconds(5));
        using (var step = p.Step("yosys: synthesizing"))
        {
            Assert.True(lines.Ticked.Wait(TimeSpan.FromSeconds(30)), "no 'still running' line");
            step.Done();
        }
        var all = lines.All;
        Assert.Equal("yosys: synthesizing ...", all[0]);
        Assert.Matches(@"^yosys: synthesizing: still running \([0-9.]+ s\)$", all[1]);
        Assert.Matches(@"^yosys: synthesizing: done in [0-9.]+ s$", all[^1]);
    }

    [Fact]
    public void A_step_that_fails_says_it_stopped_and_a_quick_quiet_step_says_nothing()
    {
        var lines = new Lines();
        var p = new Progress(lines.Add, interval: TimeSpan.FromHours(1));
        try
        {
            using var step = p.Step("vvp");
            throw new InvalidOperationException("x");
        }
        catch (InvalidOperationException) { }
        Assert.Equal(["vvp ...", lines.All[1]], lines.All);
        Assert.StartsWith("vvp: stopped after ", lines.All[1], StringComparison.Ordinal);

        var quiet = new Lines();
        using (var s = new Progress(quiet.Add).QuietStep("hw write", TimeSpan.FromHours(1))) s.Done();
        Assert.Empty(quiet.All);
    }

    [Fact]
    public void A_quiet_step_that_runs_long_announces_itself_and_ends_with_its_time()
    {
        var lines = new Lines();
        using (var s = new Progress(lines.Add, interval: TimeSpan.FromHours(1)).QuietStep("estimate", TimeSpan.FromMilliseconds(5)))
        {
            Assert.True(lines.Ticked.Wait(TimeSpan.FromSeconds(30)));
            s.Done();
        }
        Assert.Matches(@"^estimate \.\.\. \(running [0-9.]+ s\)$", lines.All[0]);
        Assert.StartsWith("estimate: done in ", lines.All[^1], StringComparison.Ordinal);
    }

    [Fact]
    public void A_counter_prints_at_most_once_per_throttle_interval()
    {
        var never = new Lines();
        var c = new Progress(never.Add, throttle: TimeSpan.FromHours(1)).Counter("batch");
        for (int i = 1; i <= 100; i++) c.Report(i, 100);
        Assert.Empty(never.All);

        var every = new Lines();
        c = new Progress(every.Add, throttle: TimeSpan.Zero).Counter("batch");
        Assert.True(c.Report(30, 120, "epoch 2/5: "));
        Assert.Matches(@"^epoch 2/5: batch 30/120 \(25 %\), [0-9.]+ s$", every.All[0]);
    }

    [Fact]
    public void The_trainer_reports_every_batch_of_every_epoch()
    {
        var model = Model.Build([4], [(new HetQ.Nn.Layers.Dense(2) { Name = "d" }, null)], seed: 1);
        var data = new HetQ.Data.Dataset("t", [4], new float[40 * 4], Enumerable.Range(0, 40).Select(i => i % 2).ToArray(), 2);
        using var trainer = new Trainer(model, Loss.Create(null), Optimizer.Create(null), new TrainOptions(2, 16, Threads: 1));
        var seen = new List<(int, int, int)>();
        trainer.OnBatch = (e, b, n) => seen.Add((e, b, n));
        trainer.Fit(data, null);
        Assert.Equal([(1, 1, 3), (1, 2, 3), (1, 3, 3), (2, 1, 3), (2, 2, 3), (2, 3, 3)], seen);
    }

    [Fact]
    public void Hw_sim_with_progress_names_each_tool_and_its_time_on_stderr_and_keeps_json_on_stdout()
    {
        using var dir = new TempDir();
        string model = dir.File("tiny");
        ModelIO.Save(Graph.GoldenGraphTests.Tiny(), new ModelMetadata("tiny", 2), model);
        var (code, _, err) = CliRunner.Run("hw", "write", model, "--out", dir.File("hw"), "--json");
        Assert.True(code == 0, err);
        Assert.Equal("", err); // --json without --progress and stderr not a terminal: silent
        Requires.Simulator(SimulatorKind.Icarus);
        (code, var stdout, err) = CliRunner.Run("hw", "sim", dir.File("hw"), "--random", "10", "--simulator", "icarus", "--json", "--progress");
        Assert.True(code == 0, err);
        using var _ = JsonDocument.Parse(stdout.Trim());
        Assert.Contains("icarus: compiling (iverilog) ...", err);
        Assert.Matches(@"icarus: compiling \(iverilog\): done in [0-9.]+ s", err);
        Assert.Contains("icarus: simulating (vvp) ...", err);
        Assert.Matches(@"icarus: simulating \(vvp\): done in [0-9.]+ s", err);

        Requires.Tool("yosys", "yosys");
        (code, stdout, err) = CliRunner.Run("hw", "synth", dir.File("hw"), "--target", "ice40", "--no-pnr", "--json", "--progress");
        Assert.True(code == 0, err);
        using var __ = JsonDocument.Parse(stdout.Trim());
        Assert.Contains("yosys: synthesizing hetq_tiny for ice40 ...", err);
        Assert.Matches(@"yosys: synthesizing hetq_tiny for ice40: done in [0-9.]+ s", err);
    }

    [Fact]
    public void Train_with_json_and_progress_keeps_stdout_one_json_object()
    {
        using var dir = new TempDir();
        var cfg = dir.Write("c.json", Training.TrainJobTests.DigitsConfig.Replace("\"epochs\": 15", "\"epochs\": 1"));
        var (code, stdout, err) = CliRunner.Run("train", cfg, "--out", dir.File("m"), "--json", "--progress");
        Assert.True(code == 0, err);
        Assert.Single(stdout.Trim().Split('\n'));
        using var _ = JsonDocument.Parse(stdout.Trim());
        Assert.DoesNotContain("batch", stdout);
    }

    [Fact]
    public void A_training_that_cannot_fit_in_memory_is_refused_before_it_starts_with_the_estimate()
    {
        using var dir = new TempDir();
        // 65 536 channels of 8x8 kept by five layers: 21 M floats per sample, for a batch of all 1294 training samples, with
        // gradients: about 200 GB
        string cfg = dir.Write("big.json", """
        {
          "name": "big", "data": { "name": "digits", "shape": [8, 8, 1] },
          "model": { "layers": [
            { "type": "conv2d", "filters": 65536, "kernel_size": [1, 1], "padding": "same", "name": "c" },
            { "type": "relu" }, { "type": "relu" }, { "type": "relu" }, { "type": "relu" },
            { "type": "global_avg_pool" }, { "type": "dense", "units": 10, "name": "out" } ] },
          "epochs": 1, "batch_size": 2048, "threads": 1
        }
        """);
        Requires.That(TrainingMemory.Available() < 150L << 30, "this machine has 150 GB or more free: the model would fit");
        var (code, stdout, err) = CliRunner.Run("train", cfg, "--out", dir.File("m"));
        Assert.True(code == 2, $"exit {code}: {err}");
        Assert.Contains("big.json: training needs about", err);
        Assert.Contains("for a batch of 1294: ", err);
        Assert.Contains("lower batch_size", err);
        Assert.False(Directory.Exists(dir.File("m")));
        Assert.DoesNotContain("epoch", stdout);
    }

    [Fact]
    public void The_memory_estimate_counts_weights_per_thread_and_a_batch_of_activations()
    {
        using var dir = new TempDir();
        var cfg = TrainConfig.Load(dir.Write("c.json", """
        { "name": "m", "data": "digits", "model": { "layers": [ { "type": "dense", "units": 10, "name": "out" } ] },
          "epochs": 1, "batch_size": 32, "threads": 2 }
        """));
        var model = Model.Build([64], [(new HetQ.Nn.Layers.Dense(10) { Name = "out" }, null)], seed: 1);
        var m = TrainingMemory.Estimate(model, cfg, trainSamples: 1000);
        Assert.Equal((64 * 10 + 10) * 4L * (1 + 2 + 2), m.WeightBytes);
        Assert.Equal((64 + 10) * 32L * 4 * 2, m.ActivationBytes);
        Assert.Equal(10, TrainingMemory.Estimate(model, cfg, trainSamples: 10).BatchSize);
        Assert.Null(m.Check("c.json", 1L << 40));
        Assert.StartsWith("warning: ", m.Check("c.json", m.Total + 1));
        Assert.Throws<HetQException>(() => m.Check("c.json", m.Total - 1));
    }
}
