using HetQ.Graph;
using HetQ.Nn;
using HetQ.Nn.Layers;
using HetQ.Numerics;
using HetQ.Quantization;

namespace HetQ.Cost;

/// <summary>The widths a reference model is costed with: AutoQKeras's reference_internal (weights, biases and
/// activations) and reference_accumulator. With <see cref="FloatAccumulator"/> the multiplications and additions
/// cost QTools's floating-point energies (fp16 for 16 bits, fp32 otherwise), as QTools does when the reference
/// accumulator is fp16 or fp32.</summary>
public sealed record ReferenceQuantization(int WeightBits = 8, int ActivationBits = 8, int AccumulatorBits = 32, bool FloatAccumulator = false)
{
    /// <summary>int8 weights, biases and activations, int32 accumulators.</summary>
    public static ReferenceQuantization Int8 { get; } = new();

    /// <summary>Floating point everywhere (AutoQKeras's default reference: reference_internal and reference_accumulator "fp32").</summary>
    public static ReferenceQuantization Float32 { get; } = new(32, 32, 32, FloatAccumulator: true);
}

/// <summary>The costing view of a model under a <see cref="ReferenceQuantization"/>: the graph of the one
/// <see cref="Lowering"/> (the freezer's), under a coding that rounds every weight to the reference weight width (a
/// power-of-two scale per tensor that holds its largest magnitude, round to nearest even, saturation) and gives every
/// layer output and the model input the activation width and every accumulator the accumulator width. Integer bits of
/// the activation and accumulator types are nominal (no cost reads them); the view is for costing, not for emulation.</summary>
internal static class ReferenceView
{
    public static IntegerGraph Build(Model model, ReferenceQuantization q, string name)
    {
        var coding = new ReferenceCoding(q);
        var notes = new[] { $"reference quantization: {q.WeightBits}-bit weights, {q.ActivationBits}-bit activations, {q.AccumulatorBits}-bit{(q.FloatAccumulator ? " floating-point" : "")} accumulators" };
        var lowered = Lowering.Lower(model, coding, name, notes);
        if (lowered.Graph is null) throw new HetQException($"the reference cost of '{name}': {lowered.Problems[0]}");
        if (lowered.OutputNode != lowered.Graph.Nodes.Count - 1)
            throw new HetQException($"the reference view of '{name}' does not end with the model's output layer");
        return lowered.Graph;
    }

    /// <summary>The reference widths as a coding of the lowering.</summary>
    private sealed class ReferenceCoding : Coding
    {
        private readonly ReferenceQuantization _q;
        private readonly FixedFormat _act;
        private readonly FixedType _acc;

        public ReferenceCoding(ReferenceQuantization q)
        {
            CheckWidth(q.WeightBits, nameof(q.WeightBits));
            CheckWidth(q.ActivationBits, nameof(q.ActivationBits));
            CheckWidth(q.AccumulatorBits, nameof(q.AccumulatorBits));
            _q = q;
            _act = new FixedFormat(new FixedType(true, q.ActivationBits, 1), Rounding.RND_CONV, Overflow.SAT);
            _acc = new FixedType(true, q.AccumulatorBits, q.AccumulatorBits / 2);
        }

        public override FixedFormat InputFormat => _act;

        public override (long[] Raw, FixedType Type) Codes(Parameter p, string role) => Round(p, _q.WeightBits);

        public override FixedType Accumulator(FixedType x, FixedType weightType, long[]? bias, FixedType? biasType, int outputs, Func<int, long[]> column) => _acc;

        /// <summary>ReLU becomes the output stage's ReLU; any other activation is an element-wise function of the same width.</summary>
        public override Requantization Output(Layer layer, Activation activation, List<string> notes)
        {
            if (activation.Kind is not (ActivationKind.Linear or ActivationKind.Relu))
                notes.Add($"'{layer.Name}': the {activation.Name} activation is costed as a free element-wise function");
            return new Requantization(activation.Kind == ActivationKind.Relu, _act);
        }

        public override FixedType AddSum(TensorType[] inputs) => _acc;

        public override FixedType PoolSum(Window window, FixedType input) => _acc;

        public override void BatchNorm(Layer layer, List<string> notes) =>
            notes.Add($"'{layer.Name}' (batch_norm) is taken as folded into the layer before it: no cost");

        /// <summary>Left out at the output whatever its quantizer, as the freezer leaves it out.</summary>
        public override bool DropsOutputActivation(ActivationLayer layer) => true;

        /// <summary>Every output stage is nominal (the activation width): an activation after it replaces it.</summary>
        public override bool Fuses(Requantization producer) => true;
    }

    private static void CheckWidth(int bits, string what)
    {
        if (bits < 1 || bits > FixedType.MaxWidth)
            throw new HetQException($"reference {what} must be between 1 and {FixedType.MaxWidth}, given {bits}");
    }

    /// <summary>The float values of <paramref name="p"/> (its quantizer ignored) rounded to a signed
    /// <paramref name="bits"/>-bit type whose range holds the largest magnitude.</summary>
    private static (long[] Raw, FixedType Type) Round(Parameter p, int bits)
    {
        double max = 0;
        foreach (float v in p.Value)
        {
            if (!float.IsFinite(v)) throw new HetQException($"parameter '{p.Name}' has a non-finite value");
            max = Math.Max(max, Math.Abs(v));
        }
        // 2^(I-1) >= max: the top of ap_fixed<bits, I>'s range.
        int integer = max == 0 ? 1 : Math.Clamp((int)Math.Ceiling(Math.Log2(max)) + 1, -FixedType.MaxBinaryPoint + FixedType.MaxWidth, FixedType.MaxBinaryPoint);
        var t = new FixedType(true, bits, integer);
        var raw = new long[p.Length];
        for (int i = 0; i < raw.Length; i++) raw[i] = FixedPoint.ToRaw(p.Value[i], t, Rounding.RND_CONV, Overflow.SAT);
        return (raw, t);
    }
}
