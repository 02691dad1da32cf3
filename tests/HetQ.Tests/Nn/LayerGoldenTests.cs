using HetQ.Data;
using HetQ.Nn;
using HetQ.Nn.Layers;
using HetQ.Quantization;
using HetQ.Training;

namespace HetQ.Tests.Nn;

/// <summary>The per-layer matrix: every layer's forward and backward against PyTorch (golden files) and against finite
/// differences, a save/load round trip, and freeze + emulate equal to fake quantization bit for bit. A new layer joins by adding its case to tests/golden/make_golden.py.</summary>
public class LayerGoldenTests
{
    public static TheoryData<string> Cases => GoldenCase.Files("layer_");

    private static void AssertClose(double[] expected, ReadOnlySpan<float> actual, string what, double tol = 2e-5)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: length {actual.Length}, expected {expected.Length}");
        double scale = Math.Max(1, expected.Max(Math.Abs));
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol * scale, $"{what}[{i}]: expected {expected[i]}, got {actual[i]}");
    }

    private static (Layer Layer, Tensor[] Inputs, Tensor Output, Tensor[] GradInputs) Run(GoldenCase g)
    {
        var layer = g.BuildLayer();
        var inputs = g.Inputs;
        var y = layer.Forward(inputs, new ForwardContext { Training = g.Training });
        var output = y.Clone();
        var (ushape, udata) = GoldenCase.Array(g.Root.GetProperty("upstream"));
        var grads = layer.Backward(new Tensor(ushape, udata));
        return (layer, inputs, output, grads);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_and_backward_match_PyTorch(string file)
    {
        var g = GoldenCase.Load(file);
        var (layer, _, output, grads) = Run(g);
        AssertClose(GoldenCase.Doubles(g.Root.GetProperty("output")), output.Data, "output");
        var gin = g.Root.GetProperty("grad_inputs").EnumerateArray().ToArray();
        for (int i = 0; i < gin.Length; i++) AssertClose(GoldenCase.Doubles(gin[i]), grads[i].Data, $"grad_inputs[{i}]");
        var gp = g.Root.GetProperty("grad_params");
        foreach (var p in layer.Parameters.Where(p => p.Trainable))
            AssertClose(GoldenCase.Doubles(gp.GetProperty(p.Name[(p.Name.LastIndexOf('/') + 1)..])), p.Grad, $"grad {p.Name}");
        if (layer is BatchNorm bn && g.Training)
        {
            bn.CommitState(new[] { bn });
            AssertClose(GoldenCase.Doubles(g.Root.GetProperty("new_moving_mean")), bn.MovingMean.Value, "new_moving_mean");
            AssertClose(GoldenCase.Doubles(g.Root.GetProperty("new_moving_variance")), bn.MovingVariance.Value, "new_moving_variance");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Gradients_match_finite_differences(string file)
    {
        var g = GoldenCase.Load(file);
        var (layer, inputs, _, grads) = Run(g);
        var (_, upstream) = GoldenCase.Array(g.Root.GetProperty("upstream"));
        var ctx = new ForwardContext { Training = g.Training };
        double Objective()
        {
            var y = layer.Forward(inputs, ctx);
            double s = 0;
            for (int i = 0; i < y.Length; i++) s += (double)y.Data[i] * upstream[i];
            return s;
        }
        var probes = new List<(string Name, float[] Values, float[] Analytic)>();
        for (int i = 0; i < inputs.Length; i++) probes.Add(($"input{i}", inputs[i].Data, (float[])grads[i].Data.Clone()));
        foreach (var p in layer.Parameters.Where(p => p.Trainable)) probes.Add((p.Name, p.Value, (float[])p.Grad.Clone()));
        const float h = 1e-2f;
        int probed = 0, straddling = 0;
        foreach (var (name, values, analytic) in probes)
        {
            int step = Math.Max(1, values.Length / 16);
            for (int i = 0; i < values.Length; i += step)
            {
                float v = values[i];
                double mid = Objective();
                values[i] = v + h;
                double up = Objective();
                values[i] = v - h;
                double down = Objective();
                values[i] = v;
                double numeric = (up - down) / (2 * h), forward = (up - mid) / h, backward = (mid - down) / h;
                double tol = 2e-2 * Math.Max(1, Math.Abs(numeric));
                probed++;
                // A kink (max pooling's winner changes, ReLU/hard tanh at its corner) inside [v-h, v+h] shows as
                // one-sided slopes that disagree; the backward pass must then give the slope of one side.
                if (Math.Abs(forward - backward) > 2 * tol)
                {
                    straddling++;
                    Assert.True(Math.Abs(forward - analytic[i]) <= tol || Math.Abs(backward - analytic[i]) <= tol,
                        $"{name}[{i}] at a kink: one-sided slopes {backward} and {forward}, backward pass {analytic[i]}");
                    continue;
                }
                Assert.True(Math.Abs(numeric - analytic[i]) <= tol, $"{name}[{i}]: finite difference {numeric}, backward {analytic[i]}");
            }
        }
        Assert.True(straddling * 4 <= probed, $"{straddling} of {probed} probes straddle a kink: the check would mean little");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_model_of_the_layer_saves_and_loads_with_bit_identical_parameters_and_outputs(string file)
    {
        var g = GoldenCase.Load(file);
        var golden = g.BuildLayer();
        var layer = g.CreateLayer();
        layer.Name = golden.Name;
        var inputs = g.Inputs;
        string[]? wiring = inputs.Length > 1 ? Enumerable.Repeat("input", inputs.Length).ToArray() : null;
        var model = Model.Build(inputs[0].Shape[1..], [(layer, wiring)], seed: 1);
        Assert.Equal(golden.Parameters.Count, layer.Parameters.Count);
        for (int i = 0; i < golden.Parameters.Count; i++) golden.Parameters[i].Value.CopyTo(layer.Parameters[i].Value, 0);
        using var dir = new TempDir();
        ModelIO.Save(model, new ModelMetadata("m", Tensor.Size(model.OutputShape)), dir.File("m"));
        var (loaded, _) = ModelIO.Load(dir.File("m"));
        Assert.Equal(model.Parameters.Select(p => (p.Name, p.Value)), loaded.Parameters.Select(p => (p.Name, p.Value)));
        var ctx = new ForwardContext { Training = false };
        float[] before = model.Forward(inputs[0], ctx).Data.ToArray();
        Assert.Equal(before, loaded.Forward(inputs[0], ctx).Data.ToArray());
    }

    /// <summary>Cases the integer graph has no exact form for, and the reason freezing must give (naming the layer).</summary>
    private static readonly Dictionary<string, string> NotFreezable = new()
    {
        ["layer_activation_leaky_relu_01.json"] = "not exactly representable",
        ["layer_activation_leaky_relu_03.json"] = "not exactly representable",
        ["layer_activation_sigmoid.json"] = "not exactly representable",
        ["layer_activation_softmax.json"] = "not exactly representable",
        ["layer_activation_tanh.json"] = "not exactly representable",
        ["layer_avgpool1d_3_same_s2.json"] = "divides by a varying count",
        ["layer_avgpool2d_3x3_same_s2.json"] = "divides by a varying count",
        ["layer_globalavgpool1d.json"] = "not a power of two",
        ["layer_globalavgpool2d.json"] = "not a power of two",
        ["layer_batchnorm_2d_infer.json"] = "must be folded",
        ["layer_batchnorm_2d_train.json"] = "must be folded",
        ["layer_batchnorm_4d_infer.json"] = "must be folded",
        ["layer_batchnorm_4d_train.json"] = "must be folded",
    };

    /// <summary>The layer, quantized (8-bit signed input, 6-bit kernels, 8-bit biases, a 12-bit output quantizer), frozen and
    /// emulated on the golden inputs: every output code equals the fake-quantized model's, bit for bit.</summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void Freezing_and_emulating_the_layer_equals_fake_quantization_bit_for_bit(string file)
    {
        var g = GoldenCase.Load(file);
        var golden = g.BuildLayer();
        var layer = g.CreateLayer();
        layer.Name = "layer";
        var inputs = g.Inputs;
        string[]? wiring = inputs.Length > 1 ? Enumerable.Repeat("input", inputs.Length).ToArray() : null;
        string type = g.Root.GetProperty("layer").GetString()!;
        bool weighted = type is "Dense" or "Conv1D" or "Conv2D" or "DepthwiseConv2D";
        layer.Quantizers = new LayerQuantizers(weighted ? QuantizerParser.Parse("quantized_bits(6,1,alpha=1)") : null,
            weighted ? QuantizerParser.Parse("quantized_bits(8,3,alpha=1)") : null,
            type.StartsWith("MaxPool", StringComparison.Ordinal) ? null : QuantizerParser.Parse("quantized_bits(12,5,alpha=1)")); // max of codes is exact
        var model = Model.Build(inputs[0].Shape[1..], [(layer, wiring)], seed: 1);
        for (int i = 0; i < golden.Parameters.Count; i++) golden.Parameters[i].Value.CopyTo(layer.Parameters[i].Value, 0);
        model.InputQuantizer = new FakeQuantizer(QuantizerParser.Parse("quantized_bits(8,2,alpha=1)"));
        var x = inputs[0];
        int n = x.Shape[0];
        var data = new Dataset("golden", x.Shape[1..], x.Data.ToArray(), new int[n], Math.Max(2, Tensor.Size(model.OutputShape)));
        var r = EvalJob.Run(model, "layer", data);
        if (NotFreezable.TryGetValue(file, out var reason))
        {
            Assert.Null(r.Graph);
            Assert.Contains(r.Problems, p => p.StartsWith("layer 'layer'", StringComparison.Ordinal) && p.Contains(reason, StringComparison.Ordinal));
            return;
        }
        Assert.True(r.Graph is not null, string.Join("; ", r.Problems));
        Assert.True(r.Mismatches == 0, $"{r.Mismatches} of {n} samples differ: {r.FirstMismatch}");
    }
}
