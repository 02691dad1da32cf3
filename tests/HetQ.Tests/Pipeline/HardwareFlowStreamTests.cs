using HetQ.Hardware;
using HetQ.Pipeline;
using HetQ.Training;

namespace HetQ.Tests.Pipeline;

/// <summary>The main job's hardware step on a streamed CNN: written one pixel per clock, simulated with both
/// simulators against the emulator, synthesized with Yosys.</summary>
public class HardwareFlowStreamTests
{
    [Fact]
    public void A_small_cnn_is_streamed_simulated_by_both_simulators_and_synthesized()
    {
        Requires.Simulator(SimulatorKind.Verilator);
        Requires.Simulator(SimulatorKind.Icarus);
        Requires.Tool("yosys", "yosys");
        using var dir = new TempDir();
        string config = dir.File("cnn.json");
        // The main job's CNN with 2 filters and 2 epochs, so Yosys takes seconds.
        File.WriteAllText(config, MainJob.CnnConfigJson(5).Replace("\"filters\": 8", "\"filters\": 2", StringComparison.Ordinal).Replace("\"epochs\": 30", "\"epochs\": 2", StringComparison.Ordinal));
        var result = TrainJob.Run(TrainConfig.Load(config), dir.File("cnn"));
        var log = new List<string>();
        var hw = HardwareFlow.Run(result.ModelDirectory, config, dir.File("hw"), log.Add, random: 5, io: HardwareIo.Stream)!;
        Assert.True(hw.Streaming);
        Assert.Equal(359 + 5, hw.Vectors);
        Assert.Equal(0, hw.Mismatches);
        Assert.Equal("verilator+icarus", hw.Simulators);
        Assert.Equal(64, hw.InitiationInterval);
        Assert.True(hw.Luts > 0, string.Join("\n", log));
        Assert.Null(hw.LutEstimate); // the resource model covers parallel designs only
        Assert.Null(hw.Note);
    }
}
