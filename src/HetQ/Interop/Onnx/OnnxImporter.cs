using System.Text.Json;
using System.Text.Json.Nodes;
using HetQ.Nn;
using Onnx;

namespace HetQ.Interop.Onnx;

/// <summary>Imports ONNX graphs (PyTorch's <c>torch.onnx.export</c>, Brevitas's QONNX export) into HetQ models:
/// Gemm, MatMul (+ Add as its bias), Conv (groups 1 or depthwise), BatchNormalization, Relu, LeakyRelu, Clip,
/// Sigmoid, Tanh, Softmax, MaxPool, AveragePool, GlobalAveragePool, Flatten, Reshape (to [N, -1]), Add, Identity,
/// Dropout, Constant; QONNX's Quant, BipolarQuant and Trunc become HetQ quantizers with the same arithmetic.
/// Channels-first tensors become channels last (HetQ's layout): convolution kernels are transposed, and the rows of
/// a dense layer after a flatten are permuted, so the model computes what the ONNX graph computes on the transposed
/// input. Anything else is an error naming the node.</summary>
public static class OnnxImporter
{
    /// <summary>The ONNX operators that import.</summary>
    public static IReadOnlyList<string> SupportedOps => OnnxGraphBuilder.Supported;

    /// <summary>Reads <paramref name="file"/> (.onnx) and builds the HetQ model with the ONNX weights.</summary>
    /// <exception cref="HetQException">The file is not ONNX, or a node, attribute or quantization is not supported;
    /// the message names the file and the node.</exception>
    public static KerasImport Import(string file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var proto = OnnxValues.Load(file);
        var builder = new OnnxGraphBuilder(file, proto.Graph);
        var (inputShape, specs, weights, inputQuantizer) = builder.Build();
        var layers = new List<(Layer, string[]?)>();
        foreach (var spec in specs)
        {
            string name = spec["name"]!.GetValue<string>();
            var js = new JsonSpec(JsonDocument.Parse(spec.ToJsonString()).RootElement.Clone(), "$", $"{file}: layer '{name}'");
            try
            {
                layers.Add((LayerConfig.Create(js), js.Strings("inputs")));
            }
            catch (HetQException e)
            {
                throw new HetQException($"{file}: layer '{name}': {e.Message}", e);
            }
        }
        Model model;
        try
        {
            model = Model.Build(inputShape, layers, seed: 0);
        }
        catch (HetQException e)
        {
            throw new HetQException($"{file}: {e.Message}", e);
        }
        foreach (var p in model.Parameters)
        {
            if (!weights.TryGetValue(p.Name, out var v))
            {
                if (p.Name.EndsWith("/bias", StringComparison.Ordinal)) continue; // stays zero
                throw new HetQException($"{file}: no ONNX weights for parameter '{p.Name}'");
            }
            if (v.Length != p.Length) throw new HetQException($"{file}: parameter '{p.Name}' has {v.Length} values in the ONNX graph, the layer takes {p.Length}");
            v.CopyTo(p.Value, 0);
        }
        if (inputQuantizer is not null) model.InputQuantizer = new Quantization.FakeQuantizer(Quantization.QuantizerParser.Parse(inputQuantizer));
        var meta = new ModelMetadata(Path.GetFileNameWithoutExtension(file), Numerics.Tensor.Size(model.OutputShape));
        return new KerasImport(model, meta, builder.Warnings);
    }
}
