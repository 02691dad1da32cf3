using System.Text.Json;
using HetQ.Data;
using HetQ.Interop;
using HetQ.Nn;
using HetQ.Training;
using PureHDF;

namespace HetQ.Tests.Interop;

/// <summary>HGQ (v1) proxy models (FixedPointQuantizer layers, as hls4ml reads them) against the files and golden
/// outputs of Golden/hgq (written by scripts/hgq-golden.py: a float64 NumPy transcription of HGQ's gfixed_quantizer).</summary>
public class HgqImportTests(ITestOutputHelper output)
{
    private static string File(string name) => Path.Combine(AppContext.BaseDirectory, "Golden", "hgq", name);

    private static (float[] X, double[] Y, int N) Read(string name)
    {
        var root = JsonDocument.Parse(System.IO.File.ReadAllText(File(name + ".json"))).RootElement;
        var x = root.GetProperty("input").EnumerateArray().SelectMany(r => r.EnumerateArray().Select(v => (float)v.GetDouble())).ToArray();
        var y = root.GetProperty("output").EnumerateArray().SelectMany(r => r.EnumerateArray().Select(v => v.GetDouble())).ToArray();
        return (x, y, root.GetProperty("input").GetArrayLength());
    }

    [Theory]
    [InlineData("hgq_proxy_sat", "SAT")]
    [InlineData("hgq_proxy_wrap", "WRAP")]
    public void An_HGQ_proxy_imports_with_per_element_widths_and_emulates_HGQs_quantizers_bit_for_bit(string name, string overflow)
    {
        var import = KerasImporter.Import(File(name + ".h5"));
        var model = import.Model;
        Assert.Contains(import.Warnings, w => w.Contains("HGQ: 4 quantizers imported (3 with per-element widths)", StringComparison.Ordinal));
        // The input quantizer is per element; the uniform TRN quantizer before the ReLU is an ap_fixed type.
        Assert.NotNull(model.InputQuantizer!.Learned);
        var d1q = model.Nodes.Single(n => n.Layer.Name == "d1_quantizer").Layer;
        Assert.Equal($"ap_fixed<12,5,TRN,{overflow}>", d1q.Quantizers!.Activation!.Spec);
        var (x, y, n) = Read(name);
        var forward = model.Forward(new Tensor([n, 6], x), new ForwardContext { Training = false }).Data.Take(n * 3).Select(v => (double)v).ToArray();
        Assert.Equal(y, forward); // every value is a fixed-point code: equal, not close

        var freeze = HetQ.Graph.Freezer.Freeze(model, name);
        Assert.True(freeze.Graph is not null, string.Join("; ", freeze.Problems));
        Assert.NotNull(((HetQ.Graph.InputOp)freeze.Graph!.Nodes[0].Op).Elements);
        var emu = new HetQ.Emulation.Emulator(freeze.Graph);
        Assert.Equal(y, emu.Values(emu.Run(x)));
        var data = new Dataset(name, model.InputShape, x, new int[n], 3);
        Assert.Equal(0, EvalJob.Run(model, name, data).Mismatches);
        output.WriteLine($"{name}: {n} samples equal to the HGQ reference (fake-quant and emulated)");
    }

    [Theory]
    [InlineData("hgq_proxy_sat", HetQ.Hardware.SimulatorKind.Verilator)]
    [InlineData("hgq_proxy_wrap", HetQ.Hardware.SimulatorKind.Icarus)]
    public async Task The_imported_proxy_in_Verilog_equals_the_emulator_on_the_reference_inputs_and_random_vectors(string name, HetQ.Hardware.SimulatorKind kind)
    {
        Requires.Simulator(kind);
        using var dir = new TempDir();
        var (model, _) = KerasImporter.Import(File(name + ".h5"));
        var freeze = HetQ.Graph.Freezer.Freeze(model, name);
        Assert.True(freeze.Graph is not null, string.Join("; ", freeze.Problems));
        var (x, _, _) = Read(name);
        await HetQ.Tests.Hardware.TestDesigns.Simulate(output, dir.File("hw"), freeze.Graph!, new HetQ.Hardware.HardwareOptions(), kind, x, 500);
    }

    [Fact]
    public void The_imported_proxy_saves_and_loads_with_its_widths()
    {
        using var dir = new TempDir();
        var (model, meta) = KerasImporter.Import(File("hgq_proxy_wrap.h5"));
        ModelIO.Save(model, meta, dir.File("m"), "--out");
        var (loaded, _) = ModelIO.Load(dir.File("m"));
        var (x, y, n) = Read("hgq_proxy_wrap");
        var forward = loaded.Forward(new Tensor([n, 6], x), new ForwardContext { Training = false }).Data.Take(n * 3).Select(v => (double)v).ToArray();
        Assert.Equal(y, forward);
    }

    private static int _edits;

    /// <summary>A copy of a golden proxy with its model_config changed (bit widths written back as float32 whole numbers).</summary>
    private static string Edited(TempDir dir, string name, Func<string, string> edit)
    {
        string path = dir.File($"{name}_edited{Interlocked.Increment(ref _edits)}.h5");
        using var src = PureHDF.H5File.OpenRead(File(name + ".h5"));
        string json = src.Attribute("model_config").Read<string>();
        // The model_config attribute is rewritten by the Keras 2 test writer, the weights copied from the golden file.
        var layers = new List<(string, KerasWeight[])>();
        var mw = src.Group("model_weights");
        foreach (string layer in mw.Attribute("layer_names").Read<string[]>())
        {
            var g = mw.Group(layer);
            var names = g.Attribute("weight_names").Space.Dimensions[0] == 0 ? [] : g.Attribute("weight_names").Read<string[]>();
            layers.Add((layer, names.Select(w =>
            {
                var ds = g.Dataset(w);
                float[] v = ds.Type.Size == 1 ? ds.Read<sbyte[]>().Select(b => (float)b).ToArray() : ds.Read<float[]>();
                return new KerasWeight(w, v, ds.Space.Dimensions);
            }).ToArray()));
        }
        KerasTestFiles.WriteWeights(path, layers, edit(json));
        return path;
    }

    [Fact]
    public void What_cannot_be_mapped_exactly_is_an_error_naming_the_layer()
    {
        using var dir = new TempDir();
        string conv = Edited(dir, "hgq_proxy_sat", j => j.Replace("\"RND\": \"TRN\"", "\"RND\": \"RND_CONV\"", StringComparison.Ordinal));
        var e = Assert.Throws<HetQException>(() => KerasImporter.Import(conv));
        Assert.Contains("layer 'd1_quantizer' (HGQ>FixedPointQuantizer): rounding RND_CONV cannot be mapped exactly", e.Message);
        string trainable = Edited(dir, "hgq_proxy_sat", j => j.Replace("\"class_name\": \"Dense\"", "\"class_name\": \"HDense\"", StringComparison.Ordinal));
        Assert.Contains("convert the model with HGQ's to_proxy_model", Assert.Throws<HetQException>(() => KerasImporter.Import(trainable)).Message);
    }

    [Fact]
    public void A_float_weight_that_no_fixed_point_type_holds_exactly_is_refused()
    {
        var (spec, frac) = HgqProxy.WeightSpec([0.75f, -2f, 0f, 0.15625f], "w");
        Assert.Equal("learned_fixed(role=weight,granularity=element,init=0,min=-1,max=5)", spec);
        Assert.Equal([2f, -1f, -1f, 5f], frac);
        var e = Assert.Throws<HetQException>(() => HgqProxy.WeightSpec([1e-7f], "layer 'd': bias"));
        Assert.Contains("layer 'd': bias: value 1E-07 at 0 needs more than 32 fractional bits", e.Message);
    }
}
