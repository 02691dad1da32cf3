using HetQ.Hardware;

namespace HetQ.Tests.Hardware;

/// <summary>Every FPGA family has one descriptor, and the descriptor's cell classes count Yosys's cells as the synthesis
/// report always did.</summary>
public class FpgaTargetTests
{
    [Fact]
    public void Every_synthesis_target_has_one_descriptor_named_as_on_the_command_line()
    {
        foreach (var t in Enum.GetValues<SynthesisTarget>())
        {
            var f = FpgaTarget.For(t);
            Assert.Equal(t, f.Target);
            Assert.Equal(t.ToString().ToLowerInvariant(), f.Name);
            Assert.Same(f, FpgaTarget.Named(f.Name));
        }
        Assert.Equal(Enum.GetValues<SynthesisTarget>().Length, FpgaTarget.All.Select(f => f.Name).Distinct().Count());
        Assert.Null(FpgaTarget.Named("virtex"));
    }

    [Theory]
    [InlineData(SynthesisTarget.Xilinx, 4, 2, 0)]
    [InlineData(SynthesisTarget.Ecp5, 2, 4, 2)]
    [InlineData(SynthesisTarget.Ice40, 1, 2, 0)]
    public void Carry_rules_are_those_the_resource_model_was_calibrated_with(SynthesisTarget t, int bits, int lutAdder, int carryLuts)
    {
        Assert.Equal(bits, ResourceModel.CarryBits(t));
        Assert.Equal(lutAdder, ResourceModel.LutAdderWidth(t));
        Assert.Equal(10 + carryLuts * 3, FpgaTarget.For(t).LutEquivalents(10, 3));
    }

    [Fact]
    public void Cell_classes_count_a_stat_table_by_family()
    {
        var xilinx = new Dictionary<string, int> { ["LUT2"] = 3, ["LUT6"] = 4, ["SRL16E"] = 1, ["FDRE"] = 5, ["CARRY4"] = 2, ["INV"] = 7, ["DSP48E2"] = 1, ["RAMB18E2"] = 1 };
        var x = FpgaTarget.Xilinx;
        Assert.Equal((8, 5, 2, 1, 1), (x.Lut.Count(xilinx), x.Ff.Count(xilinx), x.Carry.Count(xilinx), x.Dsp.Count(xilinx), x.Bram.Count(xilinx)));
        var ecp5 = new Dictionary<string, int> { ["LUT4"] = 9, ["TRELLIS_FF"] = 4, ["CCU2C"] = 6, ["PFUMX"] = 2 };
        Assert.Equal((9, 4, 6), (FpgaTarget.Ecp5.Lut.Count(ecp5), FpgaTarget.Ecp5.Ff.Count(ecp5), FpgaTarget.Ecp5.Carry.Count(ecp5)));
        var ice40 = new Dictionary<string, int> { ["SB_LUT4"] = 9, ["SB_DFF"] = 2, ["SB_DFFE"] = 3, ["SB_CARRY"] = 6 };
        Assert.Equal((9, 5, 6), (FpgaTarget.Ice40.Lut.Count(ice40), FpgaTarget.Ice40.Ff.Count(ice40), FpgaTarget.Ice40.Carry.Count(ice40)));
    }

    [Fact]
    public void The_synthesis_script_runs_the_family_command_and_place_and_route_exists_only_for_lattice()
    {
        var m = new HardwareManifest("top_x", "clk", ["top_x.v"], new HardwarePort("x", 1, "t", 2, false, 0), new HardwarePort("y", 1, "t", 2, false, 0),
            false, 0, 0, "none", 1, 1, 0, [], "g");
        Assert.Contains("synth_xilinx -family xcup -nodsp -noiopad -top top_x\n", Synthesis.Script(m, ["top_x.v"], SynthesisTarget.Xilinx, "n.v"));
        Assert.Contains("synth_ecp5 -top top_x\n", Synthesis.Script(m, ["top_x.v"], SynthesisTarget.Ecp5, "n.v"));
        Assert.Contains("synth_ice40 -top top_x\n", Synthesis.Script(m, ["top_x.v"], SynthesisTarget.Ice40, "n.v"));
        Assert.Null(FpgaTarget.Xilinx.PlaceRoute);
        Assert.Equal("nextpnr-ecp5", FpgaTarget.Ecp5.PlaceRoute!.Program);
        Assert.Equal(PlaceRoute.Ice40Cells, FpgaTarget.Ice40.PlaceRoute!.MaxLogicCells);
    }
}
