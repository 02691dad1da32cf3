using System.Numerics.Tensors;
using System.Text.Json;
using HetQ.Numerics;

namespace HetQ.Nn.Layers;

/// <summary>An activation as its own layer.</summary>
public sealed class ActivationLayer : UnaryLayer
{
    public Activation Activation { get; }
    private Tensor? _y, _gradIn;

    public ActivationLayer(Activation activation) => Activation = activation;

    public override string Type => Activation.Name;

    protected override int[] Build(int[] s, Random rng) => s;

    protected override Tensor Forward(Tensor x, ForwardContext ctx)
    {
        var y = Ensure(ref _y, x.Shape[0], OutputShape);
        x.Data.AsSpan().CopyTo(y.Data);
        Activation.Apply(y.Data, OutputShape.Length == 0 ? 1 : OutputShape[^1]);
        return y;
    }

    protected override Tensor BackwardUnary(Tensor gradOutput)
    {
        var gx = Ensure(ref _gradIn, gradOutput.Shape[0], OutputShape);
        Activation.Backward(_y!.Data, gradOutput.Data, gx.Data, OutputShape.Length == 0 ? 1 : OutputShape[^1]);
        return gx;
    }

    public override Layer CloneForWorker() => CopyBuildTo(new ActivationLayer(Activation));

    public override void WriteConfig(Utf8JsonWriter w)
    {
        if (Activation.Kind == ActivationKind.LeakyRelu) w.WriteNumber("alpha", Activation.Alpha);
        if (Activation.Kind == ActivationKind.HardTanh)
        {
            w.WriteNumber("min", Activation.Min);
            w.WriteNumber("max", Activation.Max);
        }
    }
}

/// <summary>Row-major flattening of all sample axes (Keras order for channels-last data). No copy.</summary>
public sealed class Flatten : UnaryLayer
{
    public override string Type => "flatten";

    protected override int[] Build(int[] s, Random rng) => new[] { Tensor.Size(s) };

    protected override Tensor Forward(Tensor x, ForwardContext ctx) => x.Reshape(x.Shape[0], OutputShape[0]);

    protected override Tensor BackwardUnary(Tensor gradOutput)
    {
        var shape = new int[InputShapes[0].Length + 1];
        shape[0] = gradOutput.Shape[0];
        InputShapes[0].CopyTo(shape, 1);
        return gradOutput.Reshape(shape);
    }

    public override Layer CloneForWorker() => CopyBuildTo(new Flatten());

    public override void WriteConfig(Utf8JsonWriter w) { }
}

/// <summary>Inverted dropout: in training each value is zeroed with probability rate and the rest
/// scaled by 1/(1−rate); the identity at inference.</summary>
public sealed class Dropout : UnaryLayer
{
    public double Rate { get; }
    private Tensor? _y, _gradIn;
    private float[] _mask = Array.Empty<float>();
    private bool _applied;

    public Dropout(double rate)
    {
        if (rate is < 0 or >= 1) throw new HetQException($"dropout: rate must be in [0, 1), given {rate}");
        Rate = rate;
    }

    public override string Type => "dropout";

    protected override int[] Build(int[] s, Random rng) => s;

    protected override Tensor Forward(Tensor x, ForwardContext ctx)
    {
        _applied = ctx.Training && Rate > 0;
        if (!_applied) return x;
        var y = Ensure(ref _y, x.Shape[0], OutputShape);
        if (_mask.Length != x.Length) _mask = new float[x.Length];
        float keep = (float)(1 / (1 - Rate));
        for (int i = 0; i < _mask.Length; i++) _mask[i] = ctx.Rng.NextDouble() < Rate ? 0f : keep;
        TensorPrimitives.Multiply(x.Data, _mask, y.Data);
        return y;
    }

    protected override Tensor BackwardUnary(Tensor gradOutput)
    {
        if (!_applied) return gradOutput;
        var gx = Ensure(ref _gradIn, gradOutput.Shape[0], OutputShape);
        TensorPrimitives.Multiply(gradOutput.Data, _mask, gx.Data);
        return gx;
    }

    public override Layer CloneForWorker() => CopyBuildTo(new Dropout(Rate));

    public override void WriteConfig(Utf8JsonWriter w) => w.WriteNumber("rate", Rate);
}

/// <summary>Element-wise sum of two or more inputs of the same shape (residual connections).</summary>
public sealed class Add : Layer
{
    private Tensor? _y;

    public override string Type => "add";
    public override int Arity => -1;

    protected override int[] BuildCore(int[][] inputShapes, Random rng)
    {
        if (inputShapes.Length < 2) throw new HetQException($"layer '{Name}' (add) needs at least two inputs");
        foreach (var s in inputShapes)
            if (!s.AsSpan().SequenceEqual(inputShapes[0]))
                throw ShapeError("all inputs must have the same shape");
        return inputShapes[0];
    }

    public override Tensor Forward(IReadOnlyList<Tensor> inputs, ForwardContext ctx)
    {
        var y = Ensure(ref _y, inputs[0].Shape[0], OutputShape);
        inputs[0].Data.AsSpan().CopyTo(y.Data);
        for (int i = 1; i < inputs.Count; i++) TensorPrimitives.Add(y.Data, inputs[i].Data, y.Data);
        return y;
    }

    public override Tensor[] Backward(Tensor gradOutput) => Enumerable.Repeat(gradOutput, InputShapes.Length).ToArray();

    public override Layer CloneForWorker() => CopyBuildTo(new Add());

    public override void WriteConfig(Utf8JsonWriter w) { }
}
