using HetQ.Graph;
using HetQ.Hardware;
using HetQ.Nn;
using HetQ.Nn.Layers;
using HetQ.Numerics;
using HetQ.Quantization;

namespace HetQ.Tests.Hardware;

/// <summary>The streaming design (--io stream): input → Conv2D 'valid' → Flatten → dense layers, one pixel per clock
/// with random gaps in in_valid; its netlist (in process) and its Verilog (Verilator, Icarus) give the emulator's
/// outputs on every image.</summary>
public class StreamingDesignTests(ITestOutputHelper output)
{
    private static LayerQuantizers Q(string k, string b, string? a) => TestDesigns.Q(k, b, a);

    /// <summary>A small untrained CNN on <paramref name="h"/> x <paramref name="w"/> x <paramref name="c"/> images: a
    /// KH x KW 'valid' convolution of 3 filters with ReLU, flatten, dense 4 with ReLU, dense 3.</summary>
    internal static IntegerGraph Cnn(int h, int w, int c, int kh, int kw, Padding padding = Padding.Valid, int stride = 1)
    {
        var r = Freezer.Freeze(CnnModel(h, w, c, kh, kw, padding, stride), $"stream_{h}x{w}x{c}_k{kh}x{kw}");
        Assert.True(r.Graph is not null, string.Join("; ", r.Problems));
        return r.Graph!;
    }

    internal static Model CnnModel(int h, int w, int c, int kh, int kw, Padding padding = Padding.Valid, int stride = 1)
    {
        var model = Model.Build(new[] { h, w, c }, new List<(Layer, string[]?)>
        {
            (new Conv(2, 3, new[] { kh, kw }, new[] { stride, stride }, padding, new Activation(ActivationKind.Relu)) { Name = "conv", Quantizers = Q("quantized_bits(4,0,alpha=1)", "quantized_bits(5,0,alpha=1)", "quantized_relu(5,2)") }, null),
            (new Flatten { Name = "flat" }, null),
            (new Dense(4, new Activation(ActivationKind.Relu)) { Name = "hidden", Quantizers = Q("quantized_bits(5,0,alpha=1)", "quantized_bits(6,1,alpha=1)", "quantized_relu(6,2)") }, null),
            (new Dense(3) { Name = "out", Quantizers = Q("quantized_bits(6,1,alpha=1)", "quantized_bits(8,3,alpha=1)", null) }, null),
        }, 7);
        model.InputQuantizer = new FakeQuantizer(QuantizerParser.Parse("ap_fixed<6,2,RND_CONV,SAT>"));
        return model;
    }

    public static TheoryData<int, int, int, int, int, bool> Shapes => new()
    {
        { 6, 6, 1, 3, 3, false },
        { 8, 8, 1, 3, 3, true },
        { 5, 7, 2, 2, 3, false },
        { 4, 4, 1, 1, 1, false },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void The_streaming_netlist_equals_the_emulator_on_every_image_with_gaps_in_in_valid(int h, int w, int c, int kh, int kw, bool argmax)
    {
        var g = Cnn(h, w, c, kh, kw);
        var design = VerilogWriter.Write(g, new HardwareOptions(Argmax: argmax, Io: HardwareIo.Stream));
        var m = design.Manifest;
        Assert.True(m.IsStreaming);
        Assert.Equal(new[] { h, w, c }, m.Image);
        Assert.Equal(c, m.Input.Elements);
        Assert.Equal(h * w, m.InitiationInterval);
        Assert.Equal(1, m.LatencyCycles);
        var vectors = Testbench.Vectors(g, m, ReadOnlySpan<float>.Empty, 60, 3);
        var stimulus = StreamingTestbench.Schedule(m, vectors, 3);
        Assert.True(stimulus.Valid.Count(v => !v) > 60, "the stimulus has gaps in in_valid");
        Assert.Equal(60, StreamingTestbench.Check(design.Netlist!, m, vectors, stimulus));
        output.WriteLine($"{g.Name}: 60 images, {stimulus.Cycles} clocks, 0 mismatches; {m.RegisterBits} register bits, {m.Levels} levels");
    }

    [Fact]
    public void The_check_finds_a_wrong_expected_output()
    {
        var g = Cnn(6, 6, 1, 3, 3);
        var design = VerilogWriter.Write(g, new HardwareOptions(Io: HardwareIo.Stream));
        var v = Testbench.Vectors(g, design.Manifest, ReadOnlySpan<float>.Empty, 8, 1);
        var bad = v with { Expected = (long[])v.Expected.Clone() };
        bad.Expected[5 * 3 + 1] ^= 1;
        var e = Assert.Throws<NetlistMismatchException>(() => StreamingTestbench.Check(design.Netlist!, design.Manifest, bad, StreamingTestbench.Schedule(design.Manifest, bad, 1)));
        Assert.Contains("output 1 of image 5", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_streaming_header_and_manifest_document_ports_and_timing()
    {
        var design = VerilogWriter.Write(Cnn(8, 8, 1, 3, 3), new HardwareOptions(Io: HardwareIo.Stream));
        string v = design.TopText;
        foreach (var port in new[] { "input wire clk,", "input wire [0:0] rst,", "input wire [0:0] in_valid,", "input wire [5:0] x,", "output wire [0:0] out_valid,", $"output wire [{design.Manifest.Output.Bits - 1}:0] y" })
            Assert.Contains(port, v, StringComparison.Ordinal);
        Assert.Contains("Initiation interval 64 clock cycles per image", v, StringComparison.Ordinal);
        string json = design.Manifest.ToJson();
        Assert.Contains("\"io\": \"stream\"", json, StringComparison.Ordinal);
        Assert.Contains("\"initiation_interval\": 64", json, StringComparison.Ordinal);
        using var dir = new TempDir();
        dir.Write("manifest.json", json);
        var back = HardwareManifest.Load(dir.File("manifest.json"));
        Assert.True(back.IsStreaming);
        Assert.Equal(64, back.SampleElements);
        // a parallel design's manifest has no io field (readers take it as parallel)
        Assert.DoesNotContain("\"io\"", VerilogWriter.Write(Cnn(8, 8, 1, 3, 3), new HardwareOptions()).Manifest.ToJson(), StringComparison.Ordinal);
    }

    [Fact]
    public void Graphs_the_streaming_writer_does_not_take_are_refused_naming_the_layer()
    {
        // padding 'same' in a convolution is taken (StreamingStageTests), with flush clocks after the last pixel
        var same = VerilogWriter.Write(Cnn(6, 6, 1, 3, 3, Padding.Same), new HardwareOptions(Io: HardwareIo.Stream)).Manifest;
        Assert.True(same.IsStreaming && same.InitiationInterval > 36);
        // so are a residual add and max pooling 'same' (StreamingResidualTests); a hard tanh before flatten is not
        Assert.True(VerilogWriter.Write(TestDesigns.Conv(), new HardwareOptions(Io: HardwareIo.Stream)).Manifest.IsStreaming);
        var tanh = StreamingResidualTests.Build("tanh", new[] { 6, 6, 1 }, (new Conv(2, 2, new[] { 3, 3 }, new[] { 1, 1 }, Padding.Valid, new Activation(ActivationKind.Linear))
            { Name = "c1", Quantizers = new(QuantizerParser.Parse("quantized_bits(4,0,alpha=1)"), QuantizerParser.Parse("quantized_bits(5,0,alpha=1)"), QuantizerParser.Parse("quantized_bits(6,2,alpha=1)")) }, null),
            (new ActivationLayer(new Activation(ActivationKind.HardTanh)) { Name = "clip", Quantizers = new LayerQuantizers(Activation: QuantizerParser.Parse("quantized_bits(6,2,alpha=1)")) }, null));
        var clipped = Assert.Throws<HetQException>(() => VerilogWriter.Write(tanh, new HardwareOptions(Io: HardwareIo.Stream)));
        Assert.StartsWith("layer 'clip': --io stream takes only convolution, pooling, add and ReLU layers before flatten", clipped.Message, StringComparison.Ordinal);
        var dense = Assert.Throws<HetQException>(() => VerilogWriter.Write(TestDesigns.Tiny(), new HardwareOptions(Io: HardwareIo.Stream)));
        Assert.Contains("Conv2D", dense.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(SimulatorKind.Verilator)]
    [InlineData(SimulatorKind.Icarus)]
    public async Task The_streaming_Verilog_equals_the_emulator_on_every_image(SimulatorKind kind)
    {
        Requires.Simulator(kind);
        var g = Cnn(8, 8, 1, 3, 3);
        // 100 images, 0 mismatches; then the testbench finds a wrong output: one element of image 7's expected outputs changed
        var r = await TestDesigns.SimulateStreamAsync(g, kind, 100, 2, 7);
        output.WriteLine($"{g.Name} ({kind}): {r.Vectors} images, {r.Mismatches} mismatches, build {r.BuildSeconds:F2} s, run {r.RunSeconds:F2} s");
    }
}
