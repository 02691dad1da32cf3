using System.Text.Json;
using System.Text.RegularExpressions;
using HetQ.Plots;
using HetQ.Search;

namespace HetQ.Tests.Cli;

/// <summary>`hetq search` writes OUTPUT/report.md (chosen models with test beside validation accuracy, the Pareto front, every
/// trial, the plot) and plots the cost on a log axis.</summary>
[Collection("Console")]
public class SearchReportTests
{
    [Fact]
    public void Search_writes_a_markdown_report_with_every_trial_and_test_beside_validation_accuracy()
    {
        using var dir = new TempDir();
        dir.Write("train.json", """
        { "name": "t", "seed": 3, "data": { "name": "digits" },
          "model": { "layers": [ { "type": "dense", "units": 16, "activation": "relu", "name": "fc1" }, { "type": "dense", "units": 10, "name": "out" } ] },
          "optimizer": { "type": "adam", "learning_rate": 0.005 }, "epochs": 1, "batch_size": 32, "threads": 1 }
        """);
        string cfg = dir.Write("search.json", """
        { "name": "s", "train": "train.json", "input": "ap_ufixed<5,1,RND_CONV,SAT>", "trials": 3, "epochs": 1,
          "strategy": { "type": "random", "seed": 1 },
          "space": { "default": { "kernel": ["quantized_bits(4,0,1,alpha=1)", "quantized_bits(8,0,1,alpha=1)"],
            "bias": ["quantized_bits(6,2,1,alpha=1)"], "activation": ["quantized_relu(6,2)"] } },
          "baselines": [ { "name": "uniform 6", "kernel": "quantized_bits(6,0,1,alpha=1)", "bias": "quantized_bits(6,2,1,alpha=1)", "activation": "quantized_relu(6,2)" } ],
          "study": "study.sqlite", "output": "out" }
        """);
        var (code, stdout, err) = CliRunner.Run("search", cfg, "--json");
        Assert.True(code == 0, err);
        var json = JsonDocument.Parse(stdout.TrimEnd().Split('\n')[^1]).RootElement;
        string report = json.GetProperty("report").GetString()!;
        Assert.Equal(Path.Combine(dir.Path, "out", "report.md"), report); // the config's relative output, against the config file
        string md = File.ReadAllText(report);
        Assert.StartsWith("# Search s\n", md, StringComparison.Ordinal);
        foreach (var h in new[] { "## Chosen models", "## Pareto front (validation accuracy against ebops)", "## Trials" }) Assert.Contains(h, md);
        Assert.Contains("| choice | trial | validation accuracy | test accuracy | ebops |", md);
        Assert.Contains("| baseline uniform 6 | 0 |", md);
        Assert.Contains("![validation accuracy against ebops, log scale](pareto.png)", md);
        Assert.True(File.Exists(Path.Combine(dir.Path, "out", "pareto.png")));
        // every trial has a row with its validation and its test accuracy (from the study), both percentages
        var trials = json.GetProperty("trials").GetInt32();
        using var store = StudyStore.Open(dir.File("study.sqlite"), "s");
        foreach (var t in store.Trials())
        {
            var row = Regex.Match(md, $@"^\| {t.Number} \| [^|]+ \| done \| ([0-9.]+) % \| ([0-9.]+) % \|", RegexOptions.Multiline);
            Assert.True(row.Success, $"trial {t.Number} has no row with both accuracies");
            Assert.Equal((100 * t.Accuracy!.Value).ToString("F2", System.Globalization.CultureInfo.InvariantCulture), row.Groups[1].Value);
            Assert.Equal((100 * SearchReport.Test(t)!.Value).ToString("F2", System.Globalization.CultureInfo.InvariantCulture), row.Groups[2].Value);
        }
        Assert.Equal(trials, store.Trials().Count);
    }

    [Fact]
    public void The_pareto_plot_puts_costs_on_a_log_axis_labelled_with_the_costs()
    {
        Assert.Equal(3, ParetoPlot.X(1000), 12);
        Assert.Equal(0, ParetoPlot.X(0));
        Assert.Equal(Math.Log10(41_040), ParetoPlot.X(41_040), 12);
        Assert.Equal("10,000", ParetoPlot.LogTicks().LabelFormatter!(4));
    }
}
