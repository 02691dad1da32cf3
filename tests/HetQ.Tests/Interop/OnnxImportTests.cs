using System.Text.Json;
using Google.Protobuf;
using HetQ.Data;
using HetQ.Interop.Onnx;
using HetQ.Nn;
using HetQ.Training;

namespace HetQ.Tests.Interop;

/// <summary>ONNX and QONNX import against the models and golden outputs of Golden/onnx (written by
/// scripts/onnx-golden.py: PyTorch exports with PyTorch's outputs, QONNX graphs with a NumPy transcription of
/// QONNX's Quant / BipolarQuant / Trunc).</summary>
public class OnnxImportTests(ITestOutputHelper output)
{
    private static string File(string name) => Path.Combine(AppContext.BaseDirectory, "Golden", "onnx", name);

    private sealed record Golden(double[] Input, int[] InputShape, double[] Output, int Samples);

    private static Golden Read(string name)
    {
        var root = JsonDocument.Parse(System.IO.File.ReadAllText(File(name + ".json"))).RootElement;
        static void Flatten(JsonElement e, List<double> into, List<int> shape, int depth)
        {
            if (e.ValueKind == JsonValueKind.Number) { into.Add(e.GetDouble()); return; }
            if (shape.Count == depth) shape.Add(e.GetArrayLength());
            foreach (var c in e.EnumerateArray()) Flatten(c, into, shape, depth + 1);
        }
        var x = new List<double>();
        var xs = new List<int>();
        Flatten(root.GetProperty("input"), x, xs, 0);
        var y = new List<double>();
        Flatten(root.GetProperty("output"), y, [], 0);
        return new Golden([.. x], [.. xs.Skip(1)], [.. y], xs[0]);
    }

    /// <summary>NCHW / NCL samples to HetQ's channels-last rows.</summary>
    private static float[] ChannelsLast(Golden g)
    {
        int n = g.Samples, size = g.Input.Length / n, c = g.InputShape[0], spatial = size / c;
        var x = new float[g.Input.Length];
        for (int s = 0; s < n; s++)
            for (int ch = 0; ch < c; ch++)
                for (int p = 0; p < spatial; p++)
                    x[s * size + p * c + ch] = (float)g.Input[s * size + (g.InputShape.Length == 1 ? p : ch * spatial + p)];
        if (g.InputShape.Length == 1) return g.Input.Select(v => (float)v).ToArray();
        return x;
    }

    private static double[] Forward(Model model, float[] x, int n)
    {
        var shape = new[] { n }.Concat(model.InputShape).ToArray();
        var y = model.Forward(new Tensor(shape, x), new ForwardContext { Training = false });
        return y.Data.Take(n * Tensor.Size(model.OutputShape)).Select(v => (double)v).ToArray();
    }

    [Theory]
    [InlineData("torch_mlp", new[] { 16 })]
    [InlineData("torch_cnn", new[] { 8, 8, 2 })]
    [InlineData("torch_residual", new[] { 8 })]
    [InlineData("torch_depthwise", new[] { 4, 4, 3 })]
    [InlineData("torch_conv1d", new[] { 10, 3 })]
    public void A_PyTorch_export_imports_channels_last_and_computes_what_PyTorch_computes(string name, int[] inputShape)
    {
        var (model, _) = OnnxImporter.Import(File(name + ".onnx"));
        Assert.Equal(inputShape, model.InputShape);
        var g = Read(name);
        var y = Forward(model, ChannelsLast(g), g.Samples);
        Assert.Equal(g.Output.Length, y.Length);
        double max = y.Zip(g.Output, (a, b) => Math.Abs(a - b)).Max();
        output.WriteLine($"{name}: {model.Nodes.Count} layers, max |HetQ - PyTorch| = {max:E2} over {g.Samples} samples");
        Assert.True(max < 1e-5, $"max abs difference {max}");
    }

    [Theory]
    [InlineData("qonnx_mlp")]
    [InlineData("qonnx_bipolar_trunc")]
    public void A_QONNX_graph_imports_with_its_quantizers_and_emulates_exactly_what_QONNX_defines(string name)
    {
        var (model, _) = OnnxImporter.Import(File(name + ".onnx"));
        var g = Read(name);
        var x = ChannelsLast(g);
        var y = Forward(model, x, g.Samples);
        double max = y.Zip(g.Output, (a, b) => Math.Abs(a - b)).Max();
        output.WriteLine($"{name}: fake-quant max |HetQ - QONNX reference| = {max:E2}");
        Assert.Equal(g.Output, y); // every value is a fixed-point code: equal, not close
        var freeze = HetQ.Graph.Freezer.Freeze(model, name);
        Assert.True(freeze.Graph is not null, string.Join("; ", freeze.Problems));
        var emu = new HetQ.Emulation.Emulator(freeze.Graph!);
        Assert.Equal(g.Output, emu.Values(emu.Run(x)));
        var data = new Dataset(name, model.InputShape, x, new int[g.Samples], Math.Max(2, Tensor.Size(model.OutputShape)));
        Assert.Equal(0, EvalJob.Run(model, name, data).Mismatches);
    }

    [Fact]
    public void QONNX_quantizers_map_to_fixed_point_types_with_their_rounding_and_range()
    {
        var (model, _) = OnnxImporter.Import(File("qonnx_mlp.onnx"));
        Assert.Equal("ap_fixed<8,4,RND_CONV,SAT>", model.InputQuantizer!.Spec);
        var fc1 = model.Nodes[0].Layer.Quantizers!;
        Assert.Equal("ap_fixed<6,1,RND_CONV,SAT_SYM>", fc1.Kernel!.Spec); // narrow: [-31, 31]·2^-5
        Assert.Equal("ap_fixed<8,3,RND_CONV,SAT>", fc1.Bias!.Spec);
        Assert.Equal("ap_ufixed<6,3,TRN,SAT>", model.Nodes[1].Layer.Quantizers!.Activation!.Spec); // Relu -> Quant(unsigned, FLOOR)
    }

    [Fact]
    public void A_scale_that_is_not_a_power_of_two_is_an_error_naming_the_node()
    {
        var e = Assert.Throws<HetQException>(() => OnnxImporter.Import(File("qonnx_bad_scale.onnx")));
        Assert.Contains("node Quant 'input_quant'", e.Message);
        Assert.Contains("scale 0.10000000149011612 is not a power of two", e.Message);
    }

    [Fact]
    public void An_unsupported_operator_is_an_error_naming_the_node_and_the_supported_list()
    {
        var graph = new global::Onnx.GraphProto { Name = "g" };
        graph.Input.Add(new global::Onnx.ValueInfoProto
        {
            Name = "x",
            Type = new global::Onnx.TypeProto { TensorType = new global::Onnx.TypeProto.Types.Tensor { ElemType = 1, Shape = new global::Onnx.TensorShapeProto() } },
        });
        graph.Input[0].Type.TensorType.Shape.Dim.Add(new global::Onnx.TensorShapeProto.Types.Dimension { DimValue = 1 });
        graph.Input[0].Type.TensorType.Shape.Dim.Add(new global::Onnx.TensorShapeProto.Types.Dimension { DimValue = 4 });
        graph.Node.Add(new global::Onnx.NodeProto { OpType = "Cos", Name = "trig", Input = { "x" }, Output = { "y" } });
        graph.Output.Add(new global::Onnx.ValueInfoProto { Name = "y" });
        using var dir = new TempDir();
        string f = dir.File("cos.onnx");
        System.IO.File.WriteAllBytes(f, new global::Onnx.ModelProto { Graph = graph, IrVersion = 8 }.ToByteArray());
        var e = Assert.Throws<HetQException>(() => OnnxImporter.Import(f));
        Assert.StartsWith($"{f}: node Cos 'trig': Cos is not supported (supported: Gemm, MatMul", e.Message);
        System.IO.File.WriteAllText(dir.File("bad.onnx"), "not protobuf at all");
        Assert.Contains("not an ONNX model", Assert.Throws<HetQException>(() => OnnxImporter.Import(dir.File("bad.onnx"))).Message);
    }
}

[Collection("Console")]
public class OnnxImportCommandTests
{
    [Fact]
    public void The_import_command_takes_an_onnx_file()
    {
        using var dir = new TempDir();
        var (code, stdout, err) = HetQ.Tests.Cli.CliRunner.Run("import", Path.Combine(AppContext.BaseDirectory, "Golden", "onnx", "torch_cnn.onnx"), "--out", dir.File("m"));
        Assert.True(code == 0, err);
        Assert.Contains("conv2d", stdout);
        Assert.True(System.IO.File.Exists(Path.Combine(dir.File("m"), "model.json")));
    }
}
