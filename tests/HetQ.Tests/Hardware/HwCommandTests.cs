using System.Globalization;
using System.Text;
using System.Text.Json;
using HetQ.Hardware;
using HetQ.Nn;
using HetQ.Nn.Layers;
using HetQ.Tests.Cli;

namespace HetQ.Tests.Hardware;

[Collection("Console")]
public class HwCommandTests
{
    [Fact]
    public void Hw_writes_the_design_and_hw_sim_finds_it_equal_to_the_emulator()
    {
        using var dir = new TempDir();
        string model = dir.File("tiny");
        ModelIO.Save(Graph.GoldenGraphTests.Tiny(), new ModelMetadata("tiny", 2), model);
        var (code, stdout, err) = CliRunner.Run("hw", model, "--out", dir.File("hw"), "--json");
        Assert.True(code == 0, err + stdout);
        var r = JsonDocument.Parse(stdout.Trim()).RootElement;
        Assert.Equal("hetq_tiny", r.GetProperty("top").GetString());
        Assert.Equal(2, r.GetProperty("latency_cycles").GetInt32());
        Assert.Equal(18, r.GetProperty("input").GetProperty("bits").GetInt32());
        foreach (var f in new[] { "hetq_tiny.v", "manifest.json", "graph.json" }) Assert.True(File.Exists(Path.Combine(dir.File("hw"), f)), f);

        Requires.Simulator(SimulatorKind.Icarus);
        var csv = new StringBuilder();
        var rng = new Random(3);
        for (int i = 0; i < 60; i++)
            csv.Append(string.Create(CultureInfo.InvariantCulture, $"{rng.NextDouble() * 5 - 2.5:F3},{rng.NextDouble() * 2 - 1:F3},{rng.NextDouble() * 3 - 1.5:F3},{i % 2}\n"));
        dir.Write("d.csv", csv.ToString());
        string data = dir.Write("data.json", """{ "name": "csv", "path": "d.csv", "test_fraction": 0.5 }""");
        (code, stdout, err) = CliRunner.Run("hw", "sim", dir.File("hw"), "--data", data, "--random", "40", "--simulator", "icarus", "--json");
        Assert.True(code == 0, err + stdout);
        r = JsonDocument.Parse(stdout.Trim()).RootElement;
        Assert.Equal(70, r.GetProperty("vectors").GetInt32());
        Assert.Equal(0, r.GetProperty("mismatches").GetInt32());
        Assert.Equal("icarus", r.GetProperty("simulator").GetString());
        Assert.True(File.Exists(Path.Combine(dir.File("hw"), "sim", "icarus.log")));

        (code, stdout, err) = CliRunner.Run("hw", "sim", dir.File("hw"), "--random", "5", "--simulator", "icarus");
        Assert.Equal(0, code);
        Assert.Contains("equals the emulator on all 5 vectors", stdout);
        Assert.Contains("netlist, run in process, equals the emulator on all 5 vectors", err);

        // Verilog edited by hand is no longer what HetQ writes for graph.json: the in-process check says it is skipped.
        string v = Directory.GetFiles(dir.File("hw"), "*.v").Single();
        File.AppendAllText(v, "// edited\n");
        (code, _, err) = CliRunner.Run("hw", "sim", dir.File("hw"), "--random", "5", "--simulator", "icarus");
        Assert.Equal(0, code);
        Assert.Contains("in-process netlist check is skipped", err);
    }

    [Fact]
    public void Hw_of_a_float_model_names_the_layer_that_is_not_representable()
    {
        using var dir = new TempDir();
        var model = Model.Build(new[] { 3 }, new List<(Layer, string[]?)> { (new Dense(2) { Name = "plain" }, null) }, 1);
        ModelIO.Save(model, new ModelMetadata("float", 2), dir.File("m"));
        var (code, _, err) = CliRunner.Run("hw", dir.File("m"), "--out", dir.File("hw"));
        Assert.Equal(2, code);
        Assert.Contains("'plain'", err);
        Assert.Contains("not exactly representable", err);
    }
}

/// <summary>`hetq hw --io stream|auto` and `hw sim` of a streaming design (the command line of
/// <see cref="StreamingDesignTests"/>).</summary>
[Collection("Console")]
public class HwStreamCommandTests
{
    [Fact]
    public void Hw_io_stream_writes_a_streaming_design_and_hw_sim_counts_images()
    {
        using var dir = new TempDir();
        string model = dir.File("cnn");
        ModelIO.Save(StreamingDesignTests.CnnModel(6, 6, 1, 3, 3), new ModelMetadata("cnn", 3), model);
        var (code, stdout, err) = CliRunner.Run("hw", model, "--out", dir.File("hw"), "--io", "stream", "--json");
        Assert.True(code == 0, err + stdout);
        var r = JsonDocument.Parse(stdout.Trim()).RootElement;
        Assert.Equal("stream", r.GetProperty("io").GetString());
        Assert.Equal(36, r.GetProperty("initiation_interval").GetInt32());
        Assert.Equal(1, r.GetProperty("latency_cycles").GetInt32());
        Assert.Equal(6, r.GetProperty("input").GetProperty("bits").GetInt32());

        // auto streams it too; a dense model stays parallel; --stages writes it parallel
        (code, stdout, err) = CliRunner.Run("hw", model, "--out", dir.File("auto"), "--io", "auto", "--json");
        Assert.True(code == 0, err + stdout);
        Assert.Equal("stream", JsonDocument.Parse(stdout.Trim()).RootElement.GetProperty("io").GetString());
        // auto is the default: the CNN streams, and with --stages (a parallel design's option) it is written parallel
        (code, stdout, err) = CliRunner.Run("hw", model, "--out", dir.File("default"), "--json");
        Assert.True(code == 0, err + stdout);
        Assert.Equal("stream", JsonDocument.Parse(stdout.Trim()).RootElement.GetProperty("io").GetString());
        (code, stdout, err) = CliRunner.Run("hw", model, "--out", dir.File("staged"), "--stages", "2", "--json");
        Assert.True(code == 0, err + stdout);
        Assert.Equal("parallel", JsonDocument.Parse(stdout.Trim()).RootElement.GetProperty("io").GetString());
        Assert.Contains("--stages is given", err);
        // --device: a streaming design's fit comes from the resource model's streaming terms (calibrated for xilinx);
        // a family calibrated without them is refused before anything is written
        (code, stdout, err) = CliRunner.Run("hw", model, "--out", dir.File("dev"), "--device", "xcvu9p", "--json");
        Assert.True(code == 0, err + stdout);
        r = JsonDocument.Parse(stdout.Trim()).RootElement;
        Assert.Equal("stream", r.GetProperty("io").GetString());
        Assert.True(r.GetProperty("fits").GetBoolean());
        var e = ResourceModel.Estimate(HetQ.Graph.Freezer.FreezeDirectory(model), SynthesisTarget.Xilinx, new HardwareOptions(Io: HardwareIo.Stream));
        long lut = FpgaTarget.For(SynthesisTarget.Xilinx).LutEquivalents(e.Lut, e.Carry);
        Assert.Equal(lut, r.GetProperty("fit").GetProperty("lut").GetProperty("used").GetInt64());
        (code, _, err) = CliRunner.Run("hw", model, "--out", dir.File("dev5"), "--io", "stream", "--device", "lfe5u-85f");
        Assert.Equal(2, code);
        Assert.Contains("not calibrated on folded or streaming designs", err);
        Assert.False(Directory.Exists(dir.File("dev5")));
        string tiny = dir.File("tiny");
        ModelIO.Save(Graph.GoldenGraphTests.Tiny(), new ModelMetadata("tiny", 2), tiny);
        (code, stdout, err) = CliRunner.Run("hw", tiny, "--out", dir.File("tp"), "--json");
        Assert.True(code == 0, err + stdout);
        Assert.Equal("parallel", JsonDocument.Parse(stdout.Trim()).RootElement.GetProperty("io").GetString());
        (code, _, err) = CliRunner.Run("hw", tiny, "--out", dir.File("t"), "--io", "stream");
        Assert.Equal(2, code);
        Assert.Contains("layer '", err);
        Assert.Contains("Conv2D", err);

        Requires.Simulator(SimulatorKind.Icarus);
        (code, stdout, err) = CliRunner.Run("hw", "sim", dir.File("hw"), "--random", "30", "--simulator", "icarus", "--json");
        Assert.True(code == 0, err + stdout);
        r = JsonDocument.Parse(stdout.Trim()).RootElement;
        Assert.Equal(30, r.GetProperty("vectors").GetInt32());
        Assert.Equal(0, r.GetProperty("mismatches").GetInt32());
        Assert.Equal("stream", r.GetProperty("io").GetString());
        (code, stdout, err) = CliRunner.Run("hw", "sim", dir.File("hw"), "--random", "5", "--simulator", "icarus");
        Assert.Equal(0, code);
        Assert.Contains("equals the emulator on all 5 images", stdout);
        Assert.Contains("netlist, run in process, equals the emulator on all 5 images", err);
    }
}
