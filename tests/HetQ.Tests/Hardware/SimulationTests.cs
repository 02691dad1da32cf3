using HetQ.Hardware;
using HetQ.Quantization;

namespace HetQ.Tests.Hardware;

/// <summary>The generated Verilog, simulated, gives exactly the emulator's outputs on every vector.</summary>
public class SimulationTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(SimulatorKind.Verilator, Sharing.Cse)]
    [InlineData(SimulatorKind.Icarus, Sharing.Cse)]
    [InlineData(SimulatorKind.Verilator, Sharing.None)]
    [InlineData(SimulatorKind.Icarus, Sharing.None)]
    public async Task The_tiny_dense_model_simulates_exactly_on_random_vectors_and_extremes(SimulatorKind kind, Sharing sharing)
    {
        using var dir = new TempDir();
        await TestDesigns.Simulate(output, dir.Path, TestDesigns.Tiny(), new HardwareOptions(Sharing: sharing), kind, Array.Empty<float>(), 2000);
    }

    [Theory]
    [InlineData(SimulatorKind.Verilator, Sharing.Cse)]
    [InlineData(SimulatorKind.Icarus, Sharing.Cse)]
    [InlineData(SimulatorKind.Verilator, Sharing.None)]
    [InlineData(SimulatorKind.Icarus, Sharing.None)]
    public async Task The_small_convolutional_model_simulates_exactly(SimulatorKind kind, Sharing sharing)
    {
        using var dir = new TempDir();
        await TestDesigns.Simulate(output, dir.Path, TestDesigns.Conv(), new HardwareOptions(Sharing: sharing), kind, Array.Empty<float>(), 300);
    }

    public static TheoryData<int?, bool, Sharing> Pipelines() => new()
    {
        { 0, false, Sharing.Cse }, { 1, false, Sharing.Cse }, { 3, false, Sharing.Cse }, { null, true, Sharing.Cse }, { 0, true, Sharing.Cse }, { 7, true, Sharing.Cse },
        { 3, false, Sharing.None }, { 7, true, Sharing.None },
    };

    [Theory]
    [MemberData(nameof(Pipelines))]
    public async Task Every_pipelining_and_the_argmax_output_simulate_exactly(int? stages, bool argmax, Sharing sharing)
    {
        using var dir = new TempDir();
        await TestDesigns.Simulate(output, dir.Path, TestDesigns.Conv(), new HardwareOptions(stages, argmax, Sharing: sharing), SimulatorKind.Icarus, Array.Empty<float>(), 100);
        var m = HardwareManifest.Load(Path.Combine(dir.Path, HardwareManifest.FileName));
        if (stages is int n) Assert.Equal(n, m.LatencyCycles);
        Assert.Equal(argmax ? 1 : 3, m.Output.Elements);
    }

    public static TheoryData<Rounding, Overflow> Modes()
    {
        var d = new TheoryData<Rounding, Overflow>();
        foreach (var r in Enum.GetValues<Rounding>())
            foreach (var o in Enum.GetValues<Overflow>()) d.Add(r, o);
        return d;
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Every_rounding_and_overflow_mode_simulates_exactly_on_every_input(Rounding rounding, Overflow overflow)
    {
        foreach (var g in new[] { TestDesigns.Modes(rounding, overflow, false), TestDesigns.Modes(rounding, overflow, true), TestDesigns.Coarse(rounding, overflow) })
        {
            using var dir = new TempDir();
            await TestDesigns.Simulate(output, dir.Path, g, new HardwareOptions(), SimulatorKind.Icarus, TestDesigns.AllInputs(g), 0);
        }
    }

    [Fact]
    public async Task A_wrong_expected_value_is_reported_with_its_sample_and_output()
    {
        Requires.Simulator(SimulatorKind.Icarus);
        using var dir = new TempDir();
        var g = TestDesigns.Tiny();
        var design = VerilogWriter.Write(g, new HardwareOptions());
        design.Save(dir.Path);
        var v = Testbench.Vectors(g, design.Manifest, Array.Empty<float>(), 50);
        v.Expected[17 * 2 + 1] ^= 1;
        Simulation.Prepare(dir.Path, design.Manifest, v);
        var r = await Simulation.RunAsync(dir.Path, design.Manifest, SimulatorKind.Icarus, TimeSpan.FromMinutes(1));
        Assert.Equal(1, r.Mismatches);
        Assert.Equal(17, r.FirstMismatch!.Sample);
        Assert.Equal(1, r.FirstMismatch.Output);
        Assert.Equal(v.Expected[35], r.FirstMismatch.Expected);
        Assert.Equal(v.Expected[35] ^ 1, r.FirstMismatch.Got);
    }
}
