using HetQ.Search;
using HetQ.Training;

namespace HetQ.Tests.Cli;

/// <summary>Every relative path in a configuration is relative to that configuration's file, wherever `hetq` runs.</summary>
public class ConfigPathTests
{
    private const string Train = """
    {
      "name": "p", "data": { "name": "digits" },
      "model": { "layers": [ { "type": "dense", "units": 10, "name": "out" } ] },
      "epochs": 1, "output": "runs/p", "checkpoint_dir": "../ckpt", "initial_weights": "float"
    }
    """;

    [Fact]
    public void Train_output_checkpoint_dir_and_initial_weights_resolve_against_the_config_file()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.File("cfg"));
        var cfg = TrainConfig.Load(dir.Write(Path.Combine("cfg", "t.json"), Train));
        Assert.Equal(Path.Combine(dir.Path, "cfg", "runs", "p"), cfg.Output);
        Assert.Equal(Path.Combine(dir.Path, "ckpt"), cfg.CheckpointDirectory);
        Assert.Equal(Path.Combine(dir.Path, "cfg", "float"), cfg.InitialWeights);
    }

    [Fact]
    public void A_default_train_output_is_under_the_current_directory()
    {
        using var dir = new TempDir();
        var cfg = TrainConfig.Load(dir.Write("t.json", Train.Replace("\"output\": \"runs/p\", ", "", StringComparison.Ordinal)));
        Assert.Equal(Path.Combine("runs", "p"), cfg.Output);
    }

    private static string Search(string extra) => $$"""
    {
      "name": "s", "train": "t.json", "trials": 1, "epochs": 1,
      "space": { "default": { "kernel": ["quantized_bits(4,0,1,alpha=1)"] } }{{extra}}
    }
    """;

    [Fact]
    public void Search_study_output_train_and_initial_weights_resolve_against_the_search_config()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.File("cfg"));
        dir.Write(Path.Combine("cfg", "t.json"), Train);
        var cfg = SearchConfig.Load(dir.Write(Path.Combine("cfg", "s.json"),
            Search(""", "study": "st/study.sqlite", "output": "../out", "initial_weights": "w" """)));
        Assert.Equal(Path.Combine(dir.Path, "cfg", "st", "study.sqlite"), cfg.Study);
        Assert.Equal(Path.Combine(dir.Path, "out"), cfg.Output);
        Assert.Equal(Path.Combine(dir.Path, "cfg", "w"), cfg.InitialWeights);
    }

    [Fact]
    public void A_postgresql_study_is_left_as_given()
    {
        using var dir = new TempDir();
        dir.Write("t.json", Train);
        const string pg = "Host=127.0.0.1;Username=u;Database=d";
        var cfg = SearchConfig.Load(dir.Write("s.json", Search($$""", "study": "{{pg}}", "output": "o" """)));
        Assert.Equal(pg, cfg.Study);
        cfg = SearchConfig.Load(dir.Write("s.json", Search(""", "study": "postgres://u@h/d", "output": "o" """)));
        Assert.Equal("postgres://u@h/d", cfg.Study);
    }
}
