using System.Diagnostics;
using HetQ.Graph;
using HetQ.Nn;
using HetQ.Numerics;
using HetQ.Quantization;

namespace HetQ.Cost;

/// <summary>Bits, BOPs, EBOPs and energy of an integer graph, node by node; and the same for a model under a
/// reference quantization (the denominator of AutoQKeras's forgiving factor).</summary>
public static partial class CostModel
{
    /// <summary>Costs every node of <paramref name="graph"/> with <paramref name="energy"/> (default QTools's
    /// horowitz values) and <paramref name="placement"/> (default <see cref="Placement.OnChip"/>).</summary>
    public static CostReport Estimate(IntegerGraph graph, EnergyModel? energy = null, Placement? placement = null) =>
        Run(graph, energy ?? EnergyModel.Horowitz45nm, placement ?? Placement.OnChip, floatBits: null);

    /// <summary>A costing view of <paramref name="model"/> in which every dense and convolution layer has the
    /// reference widths (its float weights rounded to them), whatever quantizers the model has or lacks.</summary>
    public static IntegerGraph Reference(Model model, ReferenceQuantization? quantization = null, string name = "reference") =>
        ReferenceView.Build(model, quantization ?? ReferenceQuantization.Int8, name);

    /// <summary>The cost of <paramref name="model"/> under <paramref name="quantization"/> (default int8 weights and
    /// activations, int32 accumulators): <see cref="Reference"/> costed as <see cref="Estimate"/> costs a frozen graph,
    /// with floating-point operation energies when the reference accumulator is floating point.</summary>
    public static CostReport EstimateReference(Model model, ReferenceQuantization? quantization = null, EnergyModel? energy = null,
        Placement? placement = null)
    {
        var q = quantization ?? ReferenceQuantization.Int8;
        return Run(Reference(model, q), energy ?? EnergyModel.Horowitz45nm, placement ?? Placement.OnChip,
            q.FloatAccumulator ? q.AccumulatorBits : null);
    }

    private static CostReport Run(IntegerGraph graph, EnergyModel e, Placement p, int? floatBits)
    {
        var nodes = graph.Nodes;
        var layers = new List<LayerCost>(nodes.Count);
        for (int i = 0; i < nodes.Count; i++) layers.Add(Node(graph, i, e, p, floatBits));
        return new CostReport(graph.Name, layers, e, p);
    }

    private static LayerCost Node(IntegerGraph graph, int index, EnergyModel e, Placement p, int? floatBits)
    {
        var node = graph.Nodes[index];
        var ins = node.Inputs.Select(k => graph.Nodes[k].Output).ToArray();
        var input = ins.Length > 0 ? ins[0].Type : node.Output.Type;
        string? inputType = ins.Length == 0 ? null : string.Join(" + ", ins.Select(t => t.Type.ToString()).Distinct());
        var outType = node.Output.Type;
        long outBits = node.Output.Elements is null ? (long)node.Output.Size * outType.Width
            : Enumerable.Range(0, node.Output.Size).Sum(e => (long)node.Output.ElementWidth(e));
        double activationEnergy = ActivationEnergy(graph, index, e, p);

        if (node.Op is ReconstructionErrorOp r) return ReconstructionErrorCost(node, r, ins, inputType, e, floatBits, activationEnergy);

        var c = node.Op.Accept(new Counter(ins, input, node.Output.Size));
        if (c.Weighted is { } w)
        {
            var kind = floatBits is null ? w.Multiplier : MultiplierKind.Float;
            double mul = MultiplicationEnergy(e, kind, input.Width, w.WeightType.Width, w.DistinctWeights, floatBits);
            double add = AdditionEnergy(e, w.AccType.Width, floatBits);
            double parameterEnergy = p.Access(e, w.KernelBits, p.Weights, io: false) + p.Access(e, w.BiasBits, p.Weights, io: false);
            return new LayerCost(node.Name, node.Op.Name, inputType, w.WeightType.ToString(), outType.ToString(),
                w.Parameters, w.ZeroWeights, w.ParameterBits, outBits, w.Multiplications, w.Additions, w.Bops, w.Ebops, kind,
                w.Multiplications * mul + w.Additions * add, parameterEnergy, activationEnergy);
        }
        long bits = c.MovesData ? outBits : 0;
        return new LayerCost(node.Name, node.Op.Name, inputType, null, outType.ToString(), 0, 0, 0, bits, 0, c.Additions, 0, 0,
            MultiplierKind.None, c.Additions * AdditionEnergy(e, c.AdditionWidth, floatBits), 0, activationEnergy);
    }

    /// <summary>What one op costs before energies: a weighted layer's counts, or additions (comparisons count as
    /// additions) at a width, and whether its output is a tensor of its own (a flatten's is its input's).</summary>
    private readonly record struct Counts(WeightedLayer? Weighted, long Additions, int AdditionWidth, bool MovesData);

    /// <summary>The counts of each op: the one dispatch of the cost model over ops.</summary>
    private sealed class Counter(TensorType[] ins, FixedType input, int outputs) : IOpVisitor<Counts>
    {
        public Counts Visit(InputOp op) => new(null, 0, 0, true);
        public Counts Visit(DenseOp op) => Weighted(op);
        public Counts Visit(ConvOp op) => Weighted(op);
        public Counts Visit(DepthwiseConvOp op) => Weighted(op);
        // A comparator is a subtractor: window − 1 comparisons per output, at the input width.
        public Counts Visit(MaxPoolOp op) => new(null, WindowAdditions(op.Window), input.Width, true);
        public Counts Visit(AvgPoolOp op) => new(null, WindowAdditions(op.Window), op.SumType.Width, true);
        public Counts Visit(FlattenOp op) => new(null, 0, 0, false);
        public Counts Visit(AddOp op) => new(null, (long)(ins.Length - 1) * outputs, op.SumType.Width, true);
        public Counts Visit(RequantOp op) => new(null, 0, 0, true);
        // Two comparisons per element (with each bound), at the input width.
        public Counts Visit(ClipOp op) => new(null, 2L * outputs, input.Width, true);

        // Costed as a whole by ReconstructionErrorCost (it multiplies two variables), before this dispatch.
        public Counts Visit(ReconstructionErrorOp op) => throw new UnreachableException("the reconstruction error is costed by ReconstructionErrorCost");

        // Per-element input types (learned bit widths) weight each product's EBOPs by its input element's width.
        private Counts Weighted(WeightedOp op) => new(WeightedLayer.Of(op, ins[0]), 0, 0, true);
    }

    /// <summary>(valid taps − 1) per output position and channel.</summary>
    private static long WindowAdditions(Window g)
    {
        long adds = 0;
        for (int oy = 0; oy < g.OutH; oy++)
            for (int ox = 0; ox < g.OutW; ox++)
            {
                var (y0, y1, x0, x1) = g.Clip(oy, ox);
                adds += Math.Max((long)(y1 - y0) * (x1 - x0) - 1, 0);
            }
        return adds * g.Channels;
    }

    /// <summary>One multiplication (multiplier_impl.py: gate_factor · OP[type][mode](gate_bits)).</summary>
    private static double MultiplicationEnergy(EnergyModel e, MultiplierKind kind, int inputBits, int weightBits, int distinct, int? floatBits) => kind switch
    {
        MultiplierKind.Float => floatBits <= 16 ? e.Fp16Mul : e.Fp32Mul,
        // A 1-bit input selects the weight or its negation: a mux of the weight's width.
        MultiplierKind.Fixed when inputBits == 1 => e.BinaryGate * e.Add(weightBits),
        MultiplierKind.Fixed => e.Multiply(inputBits, weightBits),
        MultiplierKind.Binary => e.BinaryGate * e.Add(inputBits == 1 ? 1 : inputBits),
        MultiplierKind.Ternary => e.TernaryGate * e.Add(inputBits),
        MultiplierKind.And => e.AndGate * e.Add(inputBits),
        MultiplierKind.Shift => e.ShiftPerValue * distinct * e.Add(inputBits),
        _ => 0,
    };

    private static double AdditionEnergy(EnergyModel e, int bits, int? floatBits) =>
        floatBits is null ? e.Add(bits) : floatBits <= 16 ? e.Fp16Add : e.Fp32Add;

    /// <summary>Reading each input and writing the output where activations are placed; the model input and output
    /// go through the I/O rule of <see cref="Placement"/>. A flatten moves nothing: its readers read its source.</summary>
    private static double ActivationEnergy(IntegerGraph graph, int index, EnergyModel e, Placement p)
    {
        var node = graph.Nodes[index];
        bool isOutput = index == graph.Nodes.Count - 1;
        if (node.Op is InputOp) return 0;
        double energy = 0;
        if (node.Op is not FlattenOp)
        {
            foreach (int k in node.Inputs)
            {
                int source = k;
                while (graph.Nodes[source].Op is FlattenOp) source = graph.Nodes[source].Inputs[0];
                var t = graph.Nodes[k].Output;
                energy += p.Access(e, (long)t.Size * t.Type.Width, p.Activations, io: graph.Nodes[source].Op is InputOp);
            }
        }
        if (node.Op is not FlattenOp || isOutput)
            energy += p.Access(e, (long)node.Output.Size * node.Output.Type.Width, p.Activations, io: isOutput);
        return energy;
    }
}
