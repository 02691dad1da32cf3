using HetQ.Numerics;
using HetQ.Quantization;

namespace HetQ.Nn;

/// <summary>The quantizers of one layer (QKeras's kernel_quantizer, bias_quantizer and activation quantizer);
/// any may be absent.</summary>
public sealed record LayerQuantizers(IQuantizer? Kernel = null, IQuantizer? Bias = null, IQuantizer? Activation = null)
{
    public bool IsEmpty => Kernel is null && Bias is null && Activation is null;

    /// <summary>Fields of <paramref name="other"/> that are set replace these.</summary>
    public LayerQuantizers Override(LayerQuantizers other) =>
        new(other.Kernel ?? Kernel, other.Bias ?? Bias, other.Activation ?? Activation);
}

/// <summary>Per-call settings of a forward pass: training mode and the replica's random source.</summary>
public sealed class ForwardContext
{
    public bool Training { get; init; }
    public Random Rng { get; set; } = new(0);
}

/// <summary>A layer of a model graph: builds its parameters from the input shapes, computes its
/// output and, in training, the gradients of its inputs and parameters. Shapes exclude the batch.
/// Output and gradient buffers are owned by the layer and reused from batch to batch.</summary>
public abstract class Layer
{
    public string Name { get; internal set; } = "";
    public abstract string Type { get; }
    public int[][] InputShapes { get; private set; } = Array.Empty<int[]>();
    public int[] OutputShape { get; private set; } = Array.Empty<int>();

    public virtual IReadOnlyList<Parameter> Parameters => Array.Empty<Parameter>();

    private LayerQuantizers? _quantizers;

    /// <summary>Quantization-aware training: the kernel and bias quantizers act on the parameters named
    /// <c>kernel</c> and <c>bias</c>, the activation quantizer on the layer's output (after its activation).</summary>
    public LayerQuantizers? Quantizers
    {
        get => _quantizers;
        set
        {
            _quantizers = value is null || value.IsEmpty ? null : value;
            OutputQuantizer = _quantizers?.Activation is { } a ? FakeQuantizer.For(a, Name + "/activation", OutputShape) : null;
            if (OutputShape.Length > 0 || InputShapes.Length > 0) ApplyParameterQuantizers();
        }
    }

    /// <summary>The fake quantizer of the output (from <see cref="Quantizers"/>); the model applies it.</summary>
    public FakeQuantizer? OutputQuantizer { get; private set; }

    private void ApplyParameterQuantizers()
    {
        foreach (var p in Parameters)
        {
            string role = p.Name[(p.Name.LastIndexOf('/') + 1)..];
            var q = role switch
            {
                "kernel" => _quantizers?.Kernel,
                "bias" => _quantizers?.Bias,
                _ => null,
            };
            if (role is "kernel" or "bias") p.Quantizer = q is null ? null : FakeQuantizer.For(q, p.Name, p.Shape);
        }
    }

    /// <summary>The state of learned-width quantizers on this layer's parameters and output (bits, ranges).</summary>
    public IEnumerable<Parameter> QuantizerParameters =>
        Parameters.Select(p => p.Quantizer?.Learned).Append(OutputQuantizer?.Learned)
            .Where(l => l is not null).SelectMany(l => l!.Parameters);

    /// <summary>Number of inputs the layer takes (Add takes two or more: -1).</summary>
    public virtual int Arity => 1;

    /// <summary>Checks the input shapes, creates the parameters, returns the output shape.</summary>
    public void Build(int[][] inputShapes, Random rng)
    {
        InputShapes = inputShapes;
        OutputShape = BuildCore(inputShapes, rng);
        if (_quantizers is not null)
        {
            if (_quantizers.Kernel is not null && !Parameters.Any(p => p.Name.EndsWith("/kernel", StringComparison.Ordinal)))
                throw new HetQException($"layer '{Name}' ({Type}) has no kernel for kernel_quantizer '{_quantizers.Kernel.Spec}'");
            // A bias quantizer on a layer without bias is kept: folding a batch norm gives the layer a bias.
            ApplyParameterQuantizers();
            if (_quantizers.Activation is LearnedQuantizer learned) OutputQuantizer = FakeQuantizer.For(learned, Name + "/activation", OutputShape);
        }
    }

    protected abstract int[] BuildCore(int[][] inputShapes, Random rng);

    public abstract Tensor Forward(IReadOnlyList<Tensor> inputs, ForwardContext ctx);

    /// <summary>Given dLoss/dOutput, accumulates parameter gradients and returns dLoss/dInput per input.</summary>
    public abstract Tensor[] Backward(Tensor gradOutput);

    /// <summary>A copy for a worker thread: same parameter values, own gradients and buffers.</summary>
    public abstract Layer CloneForWorker();

    /// <summary>After a training step: fold the replicas' state (batch-norm statistics) into this layer.</summary>
    public virtual void CommitState(IReadOnlyList<Layer> replicas) { }

    /// <summary>The JSON-ready hyperparameters (the layer's spec without name and inputs).</summary>
    public abstract void WriteConfig(System.Text.Json.Utf8JsonWriter w);

    protected T CopyBuildTo<T>(T clone) where T : Layer
    {
        clone.Name = Name;
        clone.InputShapes = InputShapes;
        clone.OutputShape = OutputShape;
        clone._quantizers = _quantizers;
        clone.OutputQuantizer = OutputQuantizer?.CloneForWorker();
        return clone;
    }

    protected static Tensor Ensure(ref Tensor? buffer, int batch, int[] sampleShape)
    {
        int n = batch * Tensor.Size(sampleShape);
        if (buffer is not null && buffer.Length == n && buffer.Shape[0] == batch) return buffer;
        var shape = new int[sampleShape.Length + 1];
        shape[0] = batch;
        sampleShape.CopyTo(shape, 1);
        buffer = new Tensor(shape);
        return buffer;
    }

    protected HetQException ShapeError(string what) =>
        new($"layer '{Name}' ({Type}): {what}; input shapes {string.Join(" ", InputShapes.Select(s => "[" + string.Join(",", s) + "]"))}");

    public override string ToString() => $"{Name} ({Type}) -> [{string.Join(",", OutputShape)}]";
}

/// <summary>Base of single-input layers.</summary>
public abstract class UnaryLayer : Layer
{
    protected Tensor? Input;

    protected sealed override int[] BuildCore(int[][] inputShapes, Random rng)
    {
        if (inputShapes.Length != 1) throw new HetQException($"layer '{Name}' ({Type}) takes one input, given {inputShapes.Length}");
        return Build(inputShapes[0], rng);
    }

    protected abstract int[] Build(int[] inputShape, Random rng);

    public sealed override Tensor Forward(IReadOnlyList<Tensor> inputs, ForwardContext ctx)
    {
        Input = inputs[0];
        return Forward(inputs[0], ctx);
    }

    protected abstract Tensor Forward(Tensor x, ForwardContext ctx);

    public sealed override Tensor[] Backward(Tensor gradOutput) => new[] { BackwardUnary(gradOutput) };

    protected abstract Tensor BackwardUnary(Tensor gradOutput);
}
