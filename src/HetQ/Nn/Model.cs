using HetQ.Nn.Layers;
using HetQ.Numerics;

namespace HetQ.Nn;

/// <summary>One layer of a model graph and the nodes it reads (-1 is the model input).</summary>
public sealed record Node(Layer Layer, int[] Inputs);

/// <summary>A model: a directed acyclic graph of layers in topological order; the last node is the output.
/// Residual connections are nodes with several inputs (Add).</summary>
public sealed class Model
{
    public int[] InputShape { get; }
    public IReadOnlyList<Node> Nodes { get; }
    public int[] OutputShape => Nodes[^1].Layer.OutputShape;

    /// <summary>Quantizes the model input before the first layer (the input's fixed-point type in hardware).</summary>
    public Quantization.FakeQuantizer? InputQuantizer { get; set; }

    private readonly Tensor?[] _preQuant;
    private readonly Tensor?[] _quantOut;
    private readonly Tensor?[] _quantGrad;
    private Tensor? _quantInput;
    private IReadOnlyList<Parameter>? _parameters;

    private readonly Tensor?[] _outputs;
    private readonly Tensor?[] _grads;
    private readonly Tensor?[] _ownedGrads;
    private readonly bool[] _owned;

    private Model(int[] inputShape, IReadOnlyList<Node> nodes)
    {
        InputShape = inputShape;
        Nodes = nodes;
        _outputs = new Tensor?[nodes.Count];
        _grads = new Tensor?[nodes.Count];
        _ownedGrads = new Tensor?[nodes.Count];
        _owned = new bool[nodes.Count];
        _preQuant = new Tensor?[nodes.Count];
        _quantOut = new Tensor?[nodes.Count];
        _quantGrad = new Tensor?[nodes.Count];
    }

    /// <summary>The most parameters a model may have (a guard against a typo such as units: 1000000).</summary>
    public const long MaxParameters = 1L << 26;

    /// <summary>Names the layers, wires them (a layer without "inputs" reads the previous one), builds the shapes
    /// and draws the initial weights from <paramref name="seed"/>.</summary>
    public static Model Build(int[] inputShape, IReadOnlyList<(Layer Layer, string[]? Inputs)> layers, int seed)
    {
        if (layers.Count == 0) throw new HetQException("a model needs at least one layer");
        var rng = new Random(seed);
        var index = new Dictionary<string, int>(StringComparer.Ordinal) { ["input"] = -1 };
        var counts = new Dictionary<string, int>();
        var nodes = new List<Node>();
        for (int i = 0; i < layers.Count; i++)
        {
            var (layer, inputs) = layers[i];
            if (string.IsNullOrEmpty(layer.Name))
            {
                counts[layer.Type] = counts.GetValueOrDefault(layer.Type) + 1;
                layer.Name = $"{layer.Type}_{counts[layer.Type]}";
                while (index.ContainsKey(layer.Name)) layer.Name += "_";
            }
            if (index.ContainsKey(layer.Name)) throw new HetQException($"layer name '{layer.Name}' is used twice");
            int[] ins = inputs is null || inputs.Length == 0
                ? new[] { i - 1 }
                : inputs.Select(n => index.TryGetValue(n, out int k) ? k : throw new HetQException($"layer '{layer.Name}': input '{n}' is not an earlier layer (or 'input')")).ToArray();
            if (layer.Arity > 0 && ins.Length != layer.Arity) throw new HetQException($"layer '{layer.Name}' ({layer.Type}) takes {layer.Arity} input(s), given {ins.Length}");
            layer.Build(ins.Select(k => k < 0 ? inputShape : nodes[k].Layer.OutputShape).ToArray(), rng);
            if (ins.All(k => k < 0))
            {
                if (layer is Dense d) d.NeedsInputGradient = false;
                if (layer is Conv c) c.NeedsInputGradient = false;
            }
            nodes.Add(new Node(layer, ins));
            index[layer.Name] = i;
            long parameters = nodes.Sum(n => n.Layer.Parameters.Sum(p => (long)p.Length));
            if (parameters > MaxParameters)
                throw new HetQException($"layer '{layer.Name}': the model reaches {parameters:N0} parameters ({parameters * 4.0 / (1 << 20):F0} MiB of float32), over the limit of {MaxParameters:N0}");
        }
        return new Model(inputShape, nodes);
    }

    /// <summary>Every parameter once (trainable weights and state), in node order.</summary>
    /// <remarks>With learned-width quantizers their bits and ranges come after the layers' parameters (input first).</remarks>
    public IReadOnlyList<Parameter> Parameters
    {
        get
        {
            var own = _parameters ??= Nodes.SelectMany(n => n.Layer.Parameters).ToList();
            bool learned = InputQuantizer?.Learned is not null || Nodes.Any(n => n.Layer.QuantizerParameters.Any());
            if (!learned) return own;
            return own.Concat(InputQuantizer?.Learned?.Parameters ?? []).Concat(Nodes.SelectMany(n => n.Layer.QuantizerParameters)).ToList();
        }
    }

    public IReadOnlyList<Parameter> TrainableParameters => Parameters.Where(p => p.Trainable).ToList();

    public Tensor Forward(Tensor x, ForwardContext ctx)
    {
        if (InputQuantizer is not null)
        {
            var q = EnsureLike(ref _quantInput, x);
            InputQuantizer.Forward(x.Data, q.Data, LastDim(x), InputQuantizer.Learned is not null && ctx.Training, null);
            _inputPre = x;
            x = q;
        }
        foreach (var p in Parameters) p.Refresh(ctx.Training, ctx.Rng);
        for (int i = 0; i < Nodes.Count; i++)
        {
            var node = Nodes[i];
            var inputs = new Tensor[node.Inputs.Length];
            for (int j = 0; j < inputs.Length; j++) inputs[j] = node.Inputs[j] < 0 ? x : _outputs[node.Inputs[j]]!;
            var y = node.Layer.Forward(inputs, ctx);
            if (node.Layer.OutputQuantizer is { } oq)
            {
                _preQuant[i] = y;
                var q = EnsureLike(ref _quantOut[i], y);
                oq.Forward(y.Data, q.Data, LastDim(y), ctx.Training, ctx.Rng);
                y = q;
            }
            _outputs[i] = y;
        }
        return _outputs[^1]!;
    }

    /// <summary>The output of node <paramref name="i"/> from the last forward pass.</summary>
    public Tensor NodeOutput(int i) => _outputs[i] ?? throw new InvalidOperationException("no forward pass yet");

    /// <summary>A replica without any quantizer (same weights): the float model of a quantized one.</summary>
    public Model WithoutQuantization()
    {
        var m = CloneForWorker();
        m.InputQuantizer = null;
        foreach (var n in m.Nodes) n.Layer.Quantizers = null;
        return m;
    }

    private static int LastDim(Tensor t) => t.Shape.Length > 1 ? t.Shape[^1] : 1;

    private static Tensor EnsureLike(ref Tensor? buffer, Tensor like)
    {
        if (buffer is null || buffer.Length != like.Length || !buffer.Shape.AsSpan().SequenceEqual(like.Shape)) buffer = new Tensor(like.Shape);
        return buffer;
    }

    /// <summary>Back-propagates dLoss/dOutput; parameter gradients accumulate into each Parameter.Grad.</summary>
    public void Backward(Tensor gradOutput)
    {
        Array.Clear(_grads);
        Array.Clear(_owned);
        _grads[^1] = gradOutput;
        for (int i = Nodes.Count - 1; i >= 0; i--)
        {
            var g = _grads[i];
            if (g is null) continue;
            var node = Nodes[i];
            if (node.Layer.OutputQuantizer is { } oq)
            {
                var gq = EnsureLike(ref _quantGrad[i], g);
                oq.Backward(_preQuant[i]!.Data, g.Data, gq.Data);
                g = gq;
            }
            var gin = node.Layer.Backward(g);
            for (int j = 0; j < node.Inputs.Length; j++)
            {
                int k = node.Inputs[j];
                if (k < 0)
                {
                    if (InputQuantizer?.Learned is not null && gin[j] is { } gi) AccumulateInput(gi);
                    continue;
                }
                Accumulate(k, gin[j]);
            }
        }
        if (InputQuantizer?.Learned is { } iq && _inputGradSum is { } ig && _inputGradSet)
            iq.BackwardBits(_inputPre!.Data, ig.Data.AsSpan(0, ig.Length));
        _inputGradSet = false;
        foreach (var p in Parameters) p.BackwardQuantizer();
    }

    private Tensor? _inputGrad, _inputPre, _inputGradSum;
    private bool _inputGradSet;

    // dLoss/d(quantized input), summed over the nodes that read the input (learned input widths only): the one node's
    // gradient itself (read only: the input quantizer takes only its bits' gradient from it), or a sum in a buffer of
    // our own from the second node on.
    private void AccumulateInput(Tensor t)
    {
        if (!_inputGradSet)
        {
            _inputGradSum = t;
            _inputGradSet = true;
            return;
        }
        var g = EnsureLike(ref _inputGrad, t);
        if (!ReferenceEquals(_inputGradSum, g)) _inputGradSum!.Data.AsSpan(0, t.Length).CopyTo(g.Data);
        System.Numerics.Tensors.TensorPrimitives.Add(g.Data.AsSpan(0, t.Length), t.Data.AsSpan(0, t.Length), g.Data.AsSpan(0, t.Length));
        _inputGradSum = g;
    }

    private void Accumulate(int k, Tensor t)
    {
        if (_grads[k] is null)
        {
            _grads[k] = t;
            return;
        }
        if (!_owned[k])
        {
            var buf = _ownedGrads[k];
            if (buf is null || buf.Length != t.Length) buf = _ownedGrads[k] = new Tensor(t.Shape);
            _grads[k]!.Data.AsSpan(0, t.Length).CopyTo(buf.Data);
            _grads[k] = buf.Shape.AsSpan().SequenceEqual(t.Shape) ? buf : buf.Reshape(t.Shape);
            _owned[k] = true;
        }
        System.Numerics.Tensors.TensorPrimitives.Add(_grads[k]!.Data, t.Data, _grads[k]!.Data);
    }

    /// <summary>A replica for a worker thread: shared weights, own gradients and buffers.</summary>
    public Model CloneForWorker() =>
        new(InputShape, Nodes.Select(n => new Node(n.Layer.CloneForWorker(), n.Inputs)).ToList()) { InputQuantizer = InputQuantizer?.CloneForWorker() };

    public int ParameterCount => Parameters.Sum(p => p.Length);

    public string Summary()
    {
        var sb = new System.Text.StringBuilder();
        sb.AppendLine($"{"layer",-22}{"type",-18}{"output",-16}{"params",10}");
        foreach (var n in Nodes)
            sb.AppendLine($"{n.Layer.Name,-22}{n.Layer.Type,-18}{"[" + string.Join(",", n.Layer.OutputShape) + "]",-16}{n.Layer.Parameters.Where(p => p.Trainable).Sum(p => p.Length),10}");
        sb.Append($"total trainable parameters: {TrainableParameters.Sum(p => p.Length)}");
        return sb.ToString();
    }
}
