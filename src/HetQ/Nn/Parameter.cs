namespace HetQ.Nn;

/// <summary>Kernel regularizer added to the loss: l1·Σ|w| + l2·Σw² (Keras's definition).</summary>
public sealed record Regularizer(double L1, double L2)
{
    public double Penalty(ReadOnlySpan<float> w)
    {
        double s = 0;
        foreach (float v in w) s += L1 * Math.Abs(v) + L2 * v * v;
        return s;
    }

    public void AddGradient(ReadOnlySpan<float> w, Span<float> grad)
    {
        float l1 = (float)L1, l2 = (float)(2 * L2);
        for (int i = 0; i < w.Length; i++) grad[i] += l1 * MathF.Sign(w[i]) + l2 * w[i];
    }
}

/// <summary>A named weight tensor with its gradient. Worker replicas share <see cref="Value"/>
/// and own their <see cref="Grad"/>. Non-trainable parameters are state (batch-norm moving statistics).</summary>
public sealed class Parameter
{
    public string Name { get; }
    public int[] Shape { get; }
    public float[] Value { get; }
    public float[] Grad { get; }
    public bool Trainable { get; }
    public Regularizer? Regularizer { get; set; }

    /// <summary>The fake quantizer applied to the values in every forward pass (quantization-aware training).</summary>
    public Quantization.FakeQuantizer? Quantizer
    {
        get => _quantizer;
        set
        {
            _quantizer = value;
            _quantized = value is null ? null : new float[Value.Length];
        }
    }

    private Quantization.FakeQuantizer? _quantizer;
    private float[]? _quantized;

    /// <summary>What the layer computes with: the quantized values when there is a quantizer (after <see cref="Refresh"/>).</summary>
    public float[] Effective => _quantized ?? Value;

    /// <summary>Quantizes the current values into <see cref="Effective"/>; the last axis is the channel axis.</summary>
    public void Refresh(bool training, Random? rng)
    {
        if (_quantizer is null) return;
        _quantizer.Forward(Value, _quantized, Shape.Length == 0 ? 1 : Shape[^1], training, rng);
    }

    /// <summary>Turns dLoss/dEffective into dLoss/dValue with the quantizer's straight-through estimator.</summary>
    public void BackwardQuantizer()
    {
        if (_quantizer is null || !Trainable) return;
        _quantizer.Backward(Value, Grad, Grad);
    }

    public Parameter(string name, int[] shape, bool trainable = true, float[]? value = null)
    {
        Name = name;
        Shape = shape;
        int n = Numerics.Tensor.Size(shape);
        Value = value ?? new float[n];
        if (Value.Length != n) throw new ArgumentException($"{name}: {Value.Length} values for shape [{string.Join(",", shape)}]");
        Grad = trainable ? new float[n] : Array.Empty<float>();
        Trainable = trainable;
    }

    private Parameter(Parameter shared)
    {
        Name = shared.Name;
        Shape = shared.Shape;
        Value = shared.Value;
        Trainable = shared.Trainable;
        Grad = shared.Trainable ? new float[shared.Value.Length] : Array.Empty<float>();
        Regularizer = shared.Regularizer;
        Quantizer = shared.Quantizer?.CloneForWorker();
    }

    public int Length => Value.Length;

    /// <summary>A parameter with the same values (shared array) and its own gradient buffer.</summary>
    public Parameter ShareForWorker() => new(this);

    public override string ToString() => $"{Name}[{string.Join(",", Shape)}]";
}
