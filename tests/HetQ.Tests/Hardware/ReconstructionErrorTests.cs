using System.Numerics;
using HetQ.Cost;
using HetQ.Emulation;
using HetQ.Graph;
using HetQ.Hardware;
using HetQ.Nn;
using HetQ.Nn.Layers;
using HetQ.Quantization;

namespace HetQ.Tests.Hardware;

/// <summary>The anomaly score op: emulation against an independent big-integer sum, its type, its cost, and the
/// Verilog simulated against the emulator.</summary>
public class ReconstructionErrorTests(ITestOutputHelper output)
{
    /// <summary>A tiny untrained autoencoder 4 → 3 → 4; the output is requantized to <paramref name="outQuantizer"/>
    /// (null: the raw accumulator, wider and with more fractional bits than the input).</summary>
    internal static IntegerGraph Autoencoder(string? outQuantizer, ScoreNorm norm)
    {
        LayerQuantizers Q(string? a) => new(QuantizerParser.Parse("quantized_bits(5,1,alpha=1)"), QuantizerParser.Parse("quantized_bits(6,2,alpha=1)"),
            a is null ? null : QuantizerParser.Parse(a));
        var model = Model.Build([4], new List<(Layer, string[]?)>
        {
            (new Dense(3, new Activation(ActivationKind.Relu)) { Name = "enc", Quantizers = Q("quantized_relu(5,2)") }, null),
            (new Dense(4) { Name = "dec", Quantizers = Q(outQuantizer) }, null),
        }, 3);
        model.InputQuantizer = new FakeQuantizer(QuantizerParser.Parse("ap_fixed<6,2,RND_CONV,SAT>"));
        var r = Freezer.Freeze(model, "ae");
        Assert.True(r.Graph is not null, string.Join("; ", r.Problems));
        return ReconstructionError.Append(r.Graph!, norm);
    }

    public static TheoryData<string?, ScoreNorm> Cases() => new()
    {
        { "quantized_bits(7,2,alpha=1)", ScoreNorm.L2 }, { "quantized_bits(7,2,alpha=1)", ScoreNorm.L1 },
        { null, ScoreNorm.L2 }, { null, ScoreNorm.L1 }, { "quantized_relu(4,1)", ScoreNorm.L2 },
    };

    private static float[] Random(IntegerGraph g, int n)
    {
        var rng = new Random(5);
        return Enumerable.Range(0, n * g.Input.Output.Size).Select(_ => (float)(rng.NextDouble() * 10 - 5)).ToArray();
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_emulated_score_is_the_exact_sum_of_aligned_differences_and_fits_its_type(string? outQuantizer, ScoreNorm norm)
    {
        var g = Autoencoder(outQuantizer, norm);
        var op = Assert.IsType<ReconstructionErrorOp>(g.Output.Op);
        Assert.Equal(new[] { 0, g.Nodes.Count - 2 }, g.Output.Inputs);
        var inner = g with { Nodes = g.Nodes.Take(g.Nodes.Count - 1).ToList() };
        var x = Random(g, 200);
        var recon = new Emulator(inner).Run(x);
        var score = new Emulator(g).Run(x);
        var xt = g.Input.Output.Type;
        var yt = inner.Output.Output.Type;
        var q = new InputQuantizer(((InputOp)g.Input.Op).Format);
        for (int s = 0; s < 200; s++)
        {
            BigInteger sum = 0;
            for (int i = 0; i < 4; i++)
            {
                // value difference times 2^frac, from the values (not the emulator's shifts)
                var dx = (BigInteger)q.Apply(x[s * 4 + i]) << (op.Frac - xt.FractionalBits);
                var dy = (BigInteger)recon[s * 4 + i] << (op.Frac - yt.FractionalBits);
                var d = dx - dy;
                sum += norm == ScoreNorm.L2 ? d * d : BigInteger.Abs(d);
            }
            Assert.Equal(sum, (BigInteger)score[s]);
            Assert.InRange(score[s], 0, op.ScoreType.MaxRaw);
        }
        Assert.False(op.ScoreType.Signed);
        Assert.Equal(norm == ScoreNorm.L2 ? 2 * op.Frac : op.Frac, op.ScoreType.FractionalBits);
    }

    [Fact]
    public void The_score_round_trips_through_the_graph_file_and_is_costed()
    {
        var g = Autoencoder("quantized_bits(7,2,alpha=1)", ScoreNorm.L2);
        var back = IntegerGraph.FromJson(g.ToJson(), "ae.json");
        Assert.Equal(g.Output.Op, back.Output.Op);
        var cost = CostModel.Estimate(g).Layers[^1];
        Assert.Equal("reconstruction_error", cost.Op);
        Assert.Equal(4, cost.Multiplications);
        Assert.Equal(7, cost.Additions);
        Assert.True(cost.Ebops > 0);
        var l1 = CostModel.Estimate(Autoencoder("quantized_bits(7,2,alpha=1)", ScoreNorm.L1)).Layers[^1];
        Assert.Equal(0, l1.Multiplications);
        Assert.Equal(0, l1.Ebops);
        Assert.True(ResourceModel.Estimate(g).Lut > ResourceModel.Estimate(g with { Nodes = g.Nodes.Take(g.Nodes.Count - 1).ToList() }).Lut);
    }

    [Fact]
    public void A_graph_whose_output_is_not_the_input_size_has_no_reconstruction_error()
    {
        var g = Freezer.Freeze(Graph.GoldenGraphTests.Tiny(), "tiny").Graph!;
        var e = Assert.Throws<HetQException>(() => ReconstructionError.Append(g, ScoreNorm.L2));
        Assert.Contains("as many outputs as inputs", e.Message);
    }

    public static TheoryData<string?, ScoreNorm, SimulatorKind> SimCases()
    {
        var d = new TheoryData<string?, ScoreNorm, SimulatorKind>();
        foreach (var (q, n) in new (string?, ScoreNorm)[] { ("quantized_bits(7,2,alpha=1)", ScoreNorm.L2), ("quantized_bits(7,2,alpha=1)", ScoreNorm.L1), (null, ScoreNorm.L2), (null, ScoreNorm.L1), ("quantized_relu(4,1)", ScoreNorm.L2) })
            d.Add(q, n, SimulatorKind.Icarus);
        d.Add("quantized_bits(7,2,alpha=1)", ScoreNorm.L2, SimulatorKind.Verilator);
        return d;
    }

    [Theory]
    [MemberData(nameof(SimCases))]
    public async Task The_score_in_Verilog_equals_the_emulator_on_every_vector(string? outQuantizer, ScoreNorm norm, SimulatorKind kind)
    {
        var g = Autoencoder(outQuantizer, norm);
        using var dir = new TempDir();
        await TestDesigns.Simulate(output, dir.Path, g, new HardwareOptions(), kind, Random(g, 300), 1000);
        using var dir0 = new TempDir();
        await TestDesigns.Simulate(output, dir0.Path, g, new HardwareOptions(Stages: 0), kind, Array.Empty<float>(), 300);
    }
}
