using System.Diagnostics;
using HetQ.Graph;
using HetQ.Nn;
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

        if ((ins.Length > 0 ? WeightedLayer.Of(node.Op, ins[0]) : WeightedLayer.Of(node.Op, input)) is { } w)
        {
            var kind = floatBits is null ? w.Multiplier : MultiplierKind.Float;
            double mul = MultiplicationEnergy(e, kind, input.Width, w.WeightType.Width, w.DistinctWeights, floatBits);
            double add = AdditionEnergy(e, w.AccType.Width, floatBits);
            double parameterEnergy = p.Access(e, w.KernelBits, p.Weights, io: false) + p.Access(e, w.BiasBits, p.Weights, io: false);
            return new LayerCost(node.Name, OpName(node.Op), inputType, w.WeightType.ToString(), outType.ToString(),
                w.Parameters, w.ZeroWeights, w.ParameterBits, outBits, w.Multiplications, w.Additions, w.Bops, w.Ebops, kind,
                w.Multiplications * mul + w.Additions * add, parameterEnergy, activationEnergy);
        }

        if (node.Op is ReconstructionErrorOp r) return ReconstructionErrorCost(node, r, ins, inputType, e, floatBits, activationEnergy);

        var (additions, width, bits) = node.Op switch
        {
            InputOp => (0L, 0, outBits),
            FlattenOp => (0L, 0, 0L),
            RequantOp => (0L, 0, outBits),
            // A comparator is a subtractor: window − 1 comparisons per output, at the input width.
            MaxPoolOp m => (WindowAdditions(m.Window), input.Width, outBits),
            AvgPoolOp a => (WindowAdditions(a.Window), a.SumType.Width, outBits),
            AddOp a => ((long)(ins.Length - 1) * node.Output.Size, a.SumType.Width, outBits),
            _ => throw new UnreachableException($"no cost for op {node.Op.GetType().Name}"),
        };
        return new LayerCost(node.Name, OpName(node.Op), inputType, null, outType.ToString(), 0, 0, 0, bits, 0, additions, 0, 0,
            MultiplierKind.None, additions * AdditionEnergy(e, width, floatBits), 0, activationEnergy);
    }

    /// <summary>(valid taps − 1) per output position and channel.</summary>
    private static long WindowAdditions(Window g)
    {
        long adds = 0;
        for (int oy = 0; oy < g.OutH; oy++)
        {
            int rows = Math.Min(g.InH, oy * g.SH - g.PadTop + g.KH) - Math.Max(0, oy * g.SH - g.PadTop);
            for (int ox = 0; ox < g.OutW; ox++)
            {
                int cols = Math.Min(g.InW, ox * g.SW - g.PadLeft + g.KW) - Math.Max(0, ox * g.SW - g.PadLeft);
                adds += Math.Max((long)rows * cols - 1, 0);
            }
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

    internal static string OpName(Op op) => op switch
    {
        InputOp => "input",
        DenseOp => "dense",
        ConvOp => "conv",
        DepthwiseConvOp => "depthwise_conv",
        MaxPoolOp => "max_pool",
        AvgPoolOp => "avg_pool",
        FlattenOp => "flatten",
        AddOp => "add",
        RequantOp => "requant",
        ReconstructionErrorOp => "reconstruction_error",
        _ => throw new UnreachableException($"no name for op {op.GetType().Name}"),
    };
}
