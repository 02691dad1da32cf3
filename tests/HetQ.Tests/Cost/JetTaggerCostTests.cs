using HetQ.Cost;
using HetQ.Graph;
using HetQ.Interop;
using HetQ.Tests.Data;

namespace HetQ.Tests.Cost;

/// <summary>The reference QKeras jet tagger (hls4ml's qkeras_3layer: 16-64-32-32-5, quantized_bits(6,0,0,alpha=1)
/// weights and biases, quantized_relu(6,0) activations) from ../shared/data, frozen and costed. Each test is
/// skipped, saying so, when the shared folder is absent.</summary>
public class JetTaggerCostTests(ITestOutputHelper output)
{
    private static readonly Lazy<IntegerGraph?> Tagger = new(() =>
    {
        string? json = SharedData.TryGetPath("data/models/keras/qkeras_3layer.json");
        string? h5 = SharedData.TryGetPath("data/models/keras/qkeras_3layer_weights.h5");
        if (json is null || h5 is null) return null;
        var (model, _) = KerasImporter.Import(json, h5);
        return Freezer.Freeze(model, "qkeras_3layer").Graph;
    });

    private static IntegerGraph Graph()
    {
        Requires.That(Tagger.Value is not null, "the shared reference models ../shared/data/models/keras are absent");
        return Tagger.Value;
    }

    private static double Word(double bits)
    {
        double x = Math.Log2(bits);
        return 9.02427321e-04 * x * x * x - 2.68847858e-02 * x * x + 2.08900804e-01 * x;
    }

    [Fact]
    public void The_jet_tagger_has_4389_parameters_and_26334_parameter_bits_as_QTools_reports()
    {
        var g = Graph();
        var r = CostModel.Estimate(g);
        Assert.Equal(4389, r.Total.Parameters);
        Assert.Equal(4389 * 6, r.Total.ParameterBits);
        Assert.Equal(26334, r.Metric("bits"));
        Assert.Equal(["input", "fc1", "fc2", "fc3", "output"], r.Layers.Select(l => l.Name));
    }

    [Fact]
    public void The_output_layer_costs_what_the_hand_derivation_gives()
    {
        var g = Graph();
        var l = CostModel.Estimate(g).Layers[^1];
        var op = Assert.IsType<DenseOp>(g.Output.Op);
        // 'output': 32 inputs ap_ufixed<6,0> (fc3's quantized_relu(6,0)), 5 outputs, weights and biases ap_fixed<6,1>,
        // accumulator ap_fixed<16,5> (from the actual weights), no activation quantizer: the output is the accumulator.
        Assert.Equal("ap_ufixed<6,0>", l.InputType);
        Assert.Equal("ap_fixed<6,1>", l.WeightType);
        Assert.Equal(new HetQ.Quantization.FixedType(true, 16, 5), op.AccType);
        Assert.Equal(32 * 5 + 5, l.Parameters);
        // 32 of the 160 kernel codes are 0; the 5 biases are -6 4 5 -6 2 (none 0). Non-zero codes per output: 23 23 26 28 28.
        Assert.Equal(32, l.ZeroWeights);
        Assert.Equal(23 + 23 + 26 + 28 + 28, l.Multiplications);                 // 128
        Assert.Equal((23 + 1 - 1) + (23 + 1 - 1) + (26 + 1 - 1) + (28 + 1 - 1) + (28 + 1 - 1), l.Additions); // 128
        // BOPs = m·n·((1-p)·b_a·b_w + b_a + b_w + log2 n) = 5·32·(0.8·6·6 + 6 + 6 + 5) = 160·45.8 = 7328.
        Assert.Equal(7328, l.Bops, 1e-9);
        // EBOPs: the 128 non-zero |codes| by significant bits (|code| with trailing zeros dropped):
        //   1 bit  (1 2 4 8 16 32):                32 codes
        //   2 bits (3 6 12 24):                    13 codes
        //   3 bits (5 7 10 14 20 28):              25 codes
        //   4 bits (9 11 13 15 18 22 26 30):       31 codes
        //   5 bits (17 19 21 23 25 27 29 31):      27 codes
        // Σ = 32 + 26 + 75 + 124 + 135 = 392 bits, times b_a = 6: 2352.
        var histogram = op.Weights.Where(c => c != 0).GroupBy(WeightedLayer.SignificantBits).OrderBy(x => x.Key).Select(x => (x.Key, x.Count())).ToArray();
        Assert.Equal(new[] { (1, 32), (2, 13), (3, 25), (4, 31), (5, 27) }, histogram);
        Assert.Equal(6 * 392, l.Ebops);
        // Energy (QTools horowitz): a 6x6-bit multiplier, g = √36 = 6: 0.002994791667·36 + 0.001041666667·6 = 0.1140625 pJ;
        // an adder of the 16-bit accumulator: 0.003125·16 = 0.05 pJ. Ops: 128·0.1140625 + 128·0.05 = 14.6 + 6.4 = 21.0 pJ
        // (to 2e-9: QTools's coefficients are 23/7680 and 1/960 rounded to 12 decimals).
        Assert.Equal(21.0, l.OpEnergy, 1e-8);
        // On chip the weights cost nothing to read; the model output, 5 × 16 = 80 bits, is written to SRAM: 2 words at x = log2 80.
        Assert.Equal(0, l.ParameterEnergy);
        Assert.Equal(2 * Word(80), l.ActivationEnergy, 1e-9);
        Assert.Equal(21.948, l.Energy, 3);
    }

    [Fact]
    public void QTools_949_pJ_follows_from_its_counting_rules_and_HetQ_counts_the_multiplications_that_exist()
    {
        var g = Graph();
        var r = CostModel.Estimate(g, EnergyModel.Horowitz45nm, Placement.OnChip);
        var dense = g.Nodes.Skip(1).Select(n => (DenseOp)n.Op).ToArray();

        // QTools (qkeras/qtools as of 2021, process "horowitz", source quantizer of 16 bits = ap_fixed<16,6>,
        // keras_accumulator "fp32", weights_on_memory = activations_on_memory = "fixed", rd_wr_on_io False,
        // total = extract_energy_sum(cfg.include_energy, pe(...))):
        //  * every QDense: operation_count = n·m multiplications, each with one adder of the accumulator:
        //    energy_op = n·m·(fpm_mul(√(b_in·b_w)) + fpm_add(b_acc)), b_acc = b_in + b_w + ⌈log2(n + 1)⌉
        //    (FixedPointMultiplier bits = b_in + b_w; FixedPointAccumulator adds ⌈log2(fan-in + bias)⌉), printed to 0.01 pJ;
        //  * QActivation layers count their outputs, 0 in "fixed"; the final softmax (a Keras Activation, output fp32) is
        //    the output layer: its 5 × 32 bits are written to SRAM.
        double qtools = 0;
        int bIn = 16;
        foreach (var d in dense)
        {
            int bAcc = bIn + 6 + (int)Math.Ceiling(Math.Log2(d.In + 1));
            double layer = d.In * d.Out * (EnergyModel.Horowitz45nm.Multiply(bIn, 6) + EnergyModel.Horowitz45nm.Add(bAcc));
            qtools += Math.Round(layer, 2);
            output.WriteLine($"QTools rule, {d.In}x{d.Out}: accumulator {bAcc} bits, {layer:F2} pJ");
            bIn = 6;
        }
        double softmaxWrite = Math.Round(EnergyModel.Horowitz45nm.Sram(5 * 32), 2);   // 3 words at x = log2 160: 1.33 pJ
        qtools += softmaxWrite;
        Assert.Equal(949, (int)qtools);   // 391.25 + 355.20 + 174.40 + 27.25 + 1.33 = 949.43

        // HetQ on the same graph and settings: only the 2706 products with a non-zero weight (QTools: 4256), adder trees
        // of terms − 1 (2693 additions; QTools: one per multiplication) at the accumulator widths the weights need
        // (24, 15, 15, 16 bits; QTools: 27, 19, 18, 18), plus the model input read (16 × 16 bits) and the logits
        // written (5 × 16 bits) through SRAM.
        Assert.Equal(2706, r.Total.Multiplications);
        Assert.Equal(2693, r.Total.Additions);
        Assert.Equal(new[] { 24, 15, 15, 16 }, dense.Select(d => d.AccType.Width).ToArray());
        double ours = 0;
        bIn = 16;
        for (int i = 0; i < dense.Length; i++)
        {
            var l = r.Layers[i + 1];
            ours += l.Multiplications * EnergyModel.Horowitz45nm.Multiply(bIn, 6) + l.Additions * EnergyModel.Horowitz45nm.Add(dense[i].AccType.Width);
            bIn = 6;
        }
        ours += 4 * Word(256) + 2 * Word(80);
        Assert.Equal(ours, r.Total.Energy, 1e-9);
        Assert.Equal(616.08, Math.Round(r.Total.Energy, 2));
        Assert.Equal(231552, r.Total.Bops, 1e-6);
        Assert.Equal(49026, r.Total.Ebops);
        output.WriteLine($"HetQ: {r.Total.Energy:F2} pJ ({r.Total.Multiplications} multiplications, {r.Total.Additions} additions); QTools: {qtools:F2} pJ");
    }
}
