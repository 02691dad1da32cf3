using HetQ.Data;
using HetQ.Emulation;
using HetQ.Graph;
using HetQ.Hardware;
using HetQ.Nn;
using HetQ.Nn.Layers;
using HetQ.Quantization;

namespace HetQ.Tests.Hardware;

/// <summary>The typed netlist run cycle by cycle by <see cref="NetlistInterpreter"/> equals the emulator on every output
/// of every vector, for every hardware test design (every op, both sharing modes, every pipelining, argmax, every
/// rounding and overflow mode on every input code) and for an MLP on the real digits rows; and a wrong expected value
/// is caught as an internal error.</summary>
public class NetlistInterpreterTests
{
    /// <summary>A digits MLP 64 → 16 (ReLU) → 10, frozen from its initial weights.</summary>
    internal static IntegerGraph DigitsMlp()
    {
        LayerQuantizers Q(string k, string b, string? a) => new(QuantizerParser.Parse(k), QuantizerParser.Parse(b), a is null ? null : QuantizerParser.Parse(a));
        var model = Model.Build([64], new List<(Layer, string[]?)>
        {
            (new Dense(16, new Activation(ActivationKind.Relu)) { Name = "fc1", Quantizers = Q("quantized_bits(5,0,alpha=1)", "quantized_bits(6,2,alpha=1)", "quantized_relu(6,2)") }, null),
            (new Dense(10) { Name = "out", Quantizers = Q("quantized_bits(6,0,alpha=1)", "quantized_bits(6,2,alpha=1)", "quantized_bits(8,3,alpha=1)") }, null),
        }, 11);
        model.InputQuantizer = new FakeQuantizer(QuantizerParser.Parse("ap_ufixed<5,1,RND,SAT>"));
        var r = Freezer.Freeze(model, "digits_mlp");
        Assert.True(r.Graph is not null, string.Join("; ", r.Problems));
        return r.Graph!;
    }

    private static void Check(IntegerGraph g, HardwareOptions o, float[] features, int random)
    {
        var design = VerilogWriter.Write(g, o);
        var v = Testbench.Vectors(g, design.Manifest, features, random);
        // the interpreter itself, compared element by element with the emulator's vectors
        var net = design.Netlist!;
        var run = NetlistInterpreter.For(net);
        var m = design.Manifest;
        int n = m.Input.Elements, k = m.Output.Elements;
        var got = new long[k];
        int compared = 0;
        for (int cycle = 0; cycle < v.Count + m.LatencyCycles; cycle++)
        {
            if (cycle < v.Count) run.SetInput(m.Input.Name, v.Inputs.AsSpan(cycle * n, n), m.Input.ElementWidth);
            run.Evaluate();
            if (cycle >= m.LatencyCycles)
            {
                run.ReadOutput(m.Output.Name, got, m.Output.ElementWidth, m.Output.Signed);
                Assert.Equal(v.Expected.AsSpan((cycle - m.LatencyCycles) * k, k).ToArray(), got);
                compared++;
            }
            run.Clock();
        }
        Assert.Equal(v.Count, compared);
        Testbench.Check(net, m, v); // the check the hw flows run before writing vectors
    }

    [Theory]
    [MemberData(nameof(HardwareCases.Names), MemberType = typeof(HardwareCases))]
    public void The_netlist_run_cycle_by_cycle_equals_the_emulator(string name)
    {
        var c = HardwareCases.Named(name);
        var g = c.Graph();
        bool exhaustive = name.StartsWith("modes_", StringComparison.Ordinal) || name.StartsWith("coarse_", StringComparison.Ordinal);
        Check(g, c.Options, exhaustive ? TestDesigns.AllInputs(g) : Array.Empty<float>(), exhaustive ? 0 : 300);
    }

    [Theory]
    [InlineData(Sharing.Cse, null)]
    [InlineData(Sharing.None, null)]
    [InlineData(Sharing.Cse, 3)]
    public void The_netlist_of_a_digits_MLP_equals_the_emulator_on_the_real_digits_rows(Sharing sharing, int? stages)
    {
        var data = DatasetLoader.LoadDigits();
        Check(DigitsMlp(), new HardwareOptions(stages, Sharing: sharing), data.Features, 100);
    }

    [Theory]
    [InlineData(null, Sharing.Cse)]
    [InlineData("quantized_bits(4,1,alpha=1)", Sharing.Cse)]
    [InlineData("quantized_bits(4,1,alpha=1)", Sharing.None)]
    public void The_netlist_of_a_clip_equals_the_emulator_on_every_input(string? quantizer, Sharing sharing)
    {
        var g = Freezer.Freeze(Graph.ClipOpTests.ClipModel(quantizer), "clip").Graph!;
        Check(g, new HardwareOptions(Sharing: sharing), TestDesigns.AllInputs(g), 0);
    }

    [Fact]
    public void A_netlist_that_disagrees_with_the_emulator_is_an_internal_error()
    {
        var g = TestDesigns.Tiny();
        var design = VerilogWriter.Write(g, new HardwareOptions());
        var v = Testbench.Vectors(g, design.Manifest, Array.Empty<float>(), 20);
        v.Expected[7] ^= 1;
        var e = Assert.Throws<NetlistMismatchException>(() => Testbench.Check(design.Netlist!, design.Manifest, v));
        Assert.Contains("vector 3", e.Message);
        Assert.IsNotType<HetQException>(e, exactMatch: false);
    }
}
