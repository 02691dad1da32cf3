using System.Text.Json;
using HetQ.Graph;
using HetQ.Hardware;
using HetQ.Nn;
using HetQ.Nn.Layers;
using HetQ.Quantization;
using HetQ.Tests.Cli;

namespace HetQ.Tests.Hardware;

/// <summary>The device table, the fit of estimates and synthesis results against it, and the --device option of
/// `estimate --resources`, `hw` and `hw synth`.</summary>
[Collection("Console")]
public class DeviceTests
{
    public static TheoryData<string, string, SynthesisTarget, int, long, long, long, long, int> Parts => new()
    {
        { "xcvu9p", "XCVU9P", SynthesisTarget.Xilinx, 6, 1_182_240, 2_364_480, 6_840, 2_160, 832 },
        { "VU13P", "XCVU13P", SynthesisTarget.Xilinx, 6, 1_728_000, 3_456_000, 12_288, 2_688, 832 },
        { "lfe5u-85f", "LFE5U-85F", SynthesisTarget.Ecp5, 4, 83_640, 83_640, 156, 208, 205 },
        { "hx8k", "iCE40-HX8K", SynthesisTarget.Ice40, 4, 7_680, 7_680, 0, 32, 206 },
    };

    [Theory]
    [MemberData(nameof(Parts))]
    public void Each_part_has_its_data_sheet_budgets_and_names_its_source(string name, string part, SynthesisTarget family, int lutInputs,
        long luts, long ffs, long dsps, long brams, int io)
    {
        var d = FpgaDevice.Parse(name);
        Assert.Equal((part, family, lutInputs, luts, ffs, dsps, brams, io), (d.Part, d.Family, d.LutInputs, d.Luts, d.Ffs, d.Dsps, d.Brams, d.UserIo));
        Assert.Contains(family == SynthesisTarget.Xilinx ? "DS890" : "FPGA-DS-", d.Source);
        Assert.Same(d, FpgaDevice.Named(d.Name.ToUpperInvariant()));
    }

    [Fact]
    public void An_unknown_device_is_one_error_listing_the_known_ones_and_a_device_must_match_the_target()
    {
        var e = Assert.Throws<HetQException>(() => FpgaDevice.Parse("xc7a35t"));
        Assert.Contains("unknown device 'xc7a35t'", e.Message);
        foreach (var d in FpgaDevice.All) Assert.Contains(d.Name, e.Message);
        Assert.Contains("does not go with --target ecp5", Assert.Throws<HetQException>(() => FpgaDevice.Resolve(SynthesisTarget.Ecp5, true, "xcvu9p")).Message);
        Assert.Equal((SynthesisTarget.Ice40, FpgaDevice.Ice40Hx8k), FpgaDevice.Resolve(SynthesisTarget.Xilinx, false, "hx8k"));
        // no --device: none for Xilinx (Yosys synthesizes for the family), the nextpnr flow's part for the Lattice families
        Assert.Equal((SynthesisTarget.Xilinx, (FpgaDevice?)null), FpgaDevice.Resolve(SynthesisTarget.Xilinx, true, null));
        Assert.Equal(FpgaDevice.Lfe5u85f, FpgaDevice.Resolve(SynthesisTarget.Ecp5, true, null).Device);
        Assert.Equal(FpgaDevice.Ice40Hx8k, FpgaDevice.Resolve(SynthesisTarget.Ice40, false, null).Device);
        Assert.Equal(FpgaTarget.Ecp5.PlaceRoute!.Chip, FpgaDevice.Lfe5u85f.Part);
    }

    [Fact]
    public void A_synthesis_result_is_counted_against_the_part_with_carry_cells_as_lut_equivalents_and_the_clock_as_a_pin()
    {
        var m = new HardwareManifest("top", "clk", ["top.v"], new HardwarePort("x", 25, "t", 8, false, 0), new HardwarePort("y", 2, "t", 9, true, 0),
            false, 1, 1, "layers", 1, 3, 0, [], "g");
        var r = new SynthesisResult(SynthesisTarget.Ecp5, Lut: 80_000, Ff: 100, Carry: 2_000, Dsp: 0, Bram: 3, Cycles: 1, null, null,
            new Dictionary<string, int>(), 1, "log", "net.v");
        var fit = DeviceFit.Of(FpgaDevice.Lfe5u85f, r, m);
        var lut = fit.Resources.Single(x => x.Resource == "lut");
        Assert.Equal((84_000L, 83_640L, 360L, false), (lut.Used, lut.Available, lut.Overflow, lut.Fits));
        Assert.Equal(84_000.0 / 83_640, lut.Fraction);
        var io = fit.Resources.Single(x => x.Resource == "io");
        Assert.Equal((25 * 8 + 2 * 9 + 1L, 205L, 14L), (io.Used, io.Available, io.Overflow));
        Assert.Equal((3L, 208L, true), (fit.Resources.Single(x => x.Resource == "bram").Used, fit.Resources.Single(x => x.Resource == "bram").Available, fit.Resources.Single(x => x.Resource == "bram").Fits));
        Assert.False(fit.Fits);
        Assert.StartsWith("Yosys cell counts (Yosys synth_ecp5)", fit.Basis);
        var lines = fit.Describe().ToList();
        Assert.Contains(lines, l => l.Contains("OVER by 360", StringComparison.Ordinal));
        Assert.EndsWith("over on lut, io", lines[^1]);
        Assert.Contains("cannot fit the LFE5U-85F: lut 84,000 of 83,640, io 219 of 205", global::HetQ.Pipeline.HardwareFlow.FitWarning(fit));
        Assert.Null(global::HetQ.Pipeline.HardwareFlow.FitWarning(DeviceFit.Of(FpgaDevice.Lfe5u85f, r with { Lut = 10 }, m with { Input = m.Input with { Elements = 2 } })));
        Assert.Throws<HetQException>(() => DeviceFit.Of(FpgaDevice.Xcvu9p, r, m));
        Assert.Equal(double.PositiveInfinity, new ResourceUse("dsp", 2, 0).Fraction);
        var ice = DeviceFit.Of(FpgaDevice.Ice40Hx8k, r with { Target = SynthesisTarget.Ice40, Lut = 10, Carry = 4, Dsp = 2, Bram = 0 }, m with { Input = m.Input with { Elements = 2 } });
        Assert.Equal(10, ice.Resources.Single(x => x.Resource == "lut").Used);
        Assert.Contains(ice.Describe(), l => l.Contains("OVER by 2 (the device has none)", StringComparison.Ordinal));
        Assert.EndsWith("over on dsp", ice.Describe().Last());
        Assert.Equal(0, new ResourceUse("dsp", 0, 0).Fraction);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Port_bits_counted_without_writing_equal_the_written_manifest(bool argmax)
    {
        foreach (var g in new[] { TestDesigns.Tiny(), TestDesigns.Conv() })
        {
            var m = VerilogWriter.Write(g, new HardwareOptions(Argmax: argmax)).Manifest;
            Assert.Equal(((long)m.Input.Bits, (long)m.Output.Bits), DeviceFit.PortBits(g, argmax));
        }
    }

    /// <summary>40 inputs of 6 bits into a dense layer of 2: 240 input pins, over the HX8K's 206, far under the VU9P's 832.</summary>
    private static string WideModel(TempDir dir)
    {
        var model = Model.Build(new[] { 40 }, new List<(Layer, string[]?)>
        {
            (new Dense(2) { Name = "fc", Quantizers = new LayerQuantizers(QuantizerParser.Parse("quantized_bits(4,0,alpha=1)"), QuantizerParser.Parse("quantized_bits(6,0,alpha=1)"), null) }, null),
        }, 3);
        model.InputQuantizer = new FakeQuantizer(QuantizerParser.Parse("quantized_bits(6,0,keep_negative=False)"));
        string path = dir.File("wide");
        ModelIO.Save(model, new ModelMetadata("wide", 2), path);
        return path;
    }

    [Fact]
    public void Estimate_resources_with_a_device_reports_the_fit_and_the_overflow_per_resource()
    {
        using var dir = new TempDir();
        string model = WideModel(dir);
        var (code, stdout, err) = CliRunner.Run("estimate", model, "--resources", "--device", "ice40hx8k", "--json");
        Assert.True(code == 0, err + stdout);
        var r = JsonDocument.Parse(stdout.Trim()).RootElement;
        Assert.Equal("ice40", r.GetProperty("target").GetString());
        Assert.Equal("ice40hx8k", r.GetProperty("device").GetString());
        Assert.False(r.GetProperty("fits").GetBoolean());
        Assert.StartsWith("estimate (hetq-resource-model", r.GetProperty("basis").GetString());
        var fit = r.GetProperty("fit");
        var io = fit.GetProperty("io");
        int outputBits = FreezeWide(model).Output.Output.Size * FreezeWide(model).Output.Output.Type.Width;
        Assert.Equal(240 + outputBits + 1, io.GetProperty("used").GetInt64());
        Assert.Equal(206, io.GetProperty("available").GetInt64());
        Assert.Equal(240 + outputBits + 1 - 206, io.GetProperty("overflow").GetInt64());
        Assert.False(io.GetProperty("fits").GetBoolean());
        Assert.Equal(r.GetProperty("lut").GetInt64(), fit.GetProperty("lut").GetProperty("used").GetInt64()); // iCE40: carries share the LUT's cell
        Assert.Equal(7_680, fit.GetProperty("lut").GetProperty("available").GetInt64());
        Assert.True(fit.GetProperty("lut").GetProperty("fits").GetBoolean());
        Assert.Equal((double)r.GetProperty("ff").GetInt64() / 7_680, fit.GetProperty("ff").GetProperty("fraction").GetDouble(), 6);

        (code, stdout, err) = CliRunner.Run("estimate", model, "--resources", "--device", "xcvu9p");
        Assert.True(code == 0, err + stdout);
        Assert.Contains("(estimate, not synthesis)", stdout);
        Assert.Contains("the design fits the XCVU9P", stdout);

        // no device for the Xilinx family: no fit figures at all
        (code, stdout, _) = CliRunner.Run("estimate", model, "--resources", "--json");
        Assert.Equal(0, code);
        r = JsonDocument.Parse(stdout.Trim()).RootElement;
        Assert.Equal(JsonValueKind.Null, r.GetProperty("fit").ValueKind);
        Assert.Equal(JsonValueKind.Null, r.GetProperty("fits").ValueKind);

        (code, _, err) = CliRunner.Run("estimate", model, "--resources", "--device", "virtex2");
        Assert.Equal(2, code);
        Assert.Contains("unknown device 'virtex2'", err);
        (code, _, err) = CliRunner.Run("estimate", model, "--resources", "--target", "ecp5", "--device", "xcvu13p");
        Assert.Equal(2, code);
        Assert.Contains("xcvu13p is a xilinx part", err);
        (code, _, err) = CliRunner.Run("estimate", model, "--device", "xcvu13p");
        Assert.Equal(2, code);
        Assert.Contains("add --resources", err);
    }

    private static IntegerGraph FreezeWide(string model) => Freezer.FreezeDirectory(model, null);

    [Fact]
    public void Hw_with_a_device_checks_the_written_ports_and_the_estimate()
    {
        using var dir = new TempDir();
        string model = WideModel(dir);
        var (code, stdout, err) = CliRunner.Run("hw", model, "--out", dir.File("hw"), "--device", "hx8k", "--json");
        Assert.True(code == 0, err + stdout);
        var r = JsonDocument.Parse(stdout.Trim()).RootElement;
        Assert.False(r.GetProperty("fits").GetBoolean());
        var io = r.GetProperty("fit").GetProperty("io");
        Assert.Equal(r.GetProperty("input").GetProperty("bits").GetInt64() + r.GetProperty("output").GetProperty("bits").GetInt64() + 1, io.GetProperty("used").GetInt64());
        var estimate = ResourceModel.Estimate(FreezeWide(model), SynthesisTarget.Ice40);
        Assert.Equal(estimate.Lut, r.GetProperty("fit").GetProperty("lut").GetProperty("used").GetInt64());

        (code, stdout, err) = CliRunner.Run("hw", model, "--out", dir.File("hw2"), "--device", "xcvu13p");
        Assert.True(code == 0, err + stdout);
        Assert.Contains("the design fits the XCVU13P", stdout);
        (code, stdout, _) = CliRunner.Run("hw", model, "--out", dir.File("hw3"));
        Assert.Equal(0, code);
        Assert.DoesNotContain("device", stdout);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void Hw_synth_checks_yosys_counts_against_the_flow_part_or_the_given_device()
    {
        Requires.Tool("yosys", "yosys");
        using var dir = new TempDir();
        ModelIO.Save(Graph.GoldenGraphTests.Tiny(), new ModelMetadata("tiny", 2), dir.File("m"));
        Assert.Equal(0, CliRunner.Run("hw", dir.File("m"), "--out", dir.File("hw")).Code);
        var (code, stdout, err) = CliRunner.Run("hw", "synth", dir.File("hw"), "--target", "ecp5", "--no-pnr", "--json");
        Assert.True(code == 0, err + stdout);
        var r = JsonDocument.Parse(stdout.Trim()).RootElement;
        Assert.Equal("lfe5u-85f", r.GetProperty("device").GetString());
        Assert.True(r.GetProperty("fits").GetBoolean());
        var fit = r.GetProperty("fit");
        Assert.Equal(r.GetProperty("lut").GetInt64() + 2 * r.GetProperty("carry").GetInt64(), fit.GetProperty("lut").GetProperty("used").GetInt64());
        Assert.Equal(r.GetProperty("ff").GetInt64(), fit.GetProperty("ff").GetProperty("used").GetInt64());
        var manifest = HardwareManifest.Load(Path.Combine(dir.File("hw"), HardwareManifest.FileName));
        Assert.Equal(manifest.Input.Bits + manifest.Output.Bits + 1, fit.GetProperty("io").GetProperty("used").GetInt64());
        Assert.StartsWith("Yosys cell counts", r.GetProperty("basis").GetString());

        (code, stdout, err) = CliRunner.Run("hw", "synth", dir.File("hw"), "--device", "xcvu9p", "--no-pnr");
        Assert.True(code == 0, err + stdout);
        Assert.Contains("device XCVU9P (xcvu9p, LUT6); used from the Yosys cell counts", stdout);
        Assert.Contains("the design fits the XCVU9P", stdout);
    }
}
