using System.Text;
using HetQ.Pipeline;

namespace HetQ.Tests.Pipeline;

/// <summary>The main job's streamed-CNN section shows a figure only for a step that ran.</summary>
public class CnnSectionTests
{
    private static string Section(HardwareNumbers? hw)
    {
        var row = new ReportRow("CNN", "q", 0.9721, 86784, 1000, 10, 0, hw, "m", 0.9582);
        var sb = new StringBuilder();
        MainJob.AppendCnn(sb, new CnnSection(row, 42.4, 431, 359));
        return sb.ToString();
    }

    [Fact]
    public void A_streamed_and_synthesized_cnn_shows_its_images_luts_and_cycles_per_image()
    {
        var hw = new HardwareNumbers(459, 0, "verilator+icarus", 25970, 1771, 8651, 0, 1, null) { InitiationInterval = 64, Streaming = true };
        string s = Section(hw);
        Assert.Contains("simulated with verilator and icarus (459 images: the 359 test images and random ones", s);
        Assert.Contains("| CNN | 95.82 % | 97.21 % | 86,784 | 0 | 459 / 0 (verilator+icarus) | 25,970 | 1,771 | 8,651 | 64 | 1 |", s);
        Assert.Contains("The section took 42 s.", s);
    }

    [Fact]
    public void Without_hardware_or_synthesis_the_section_says_what_did_not_run()
    {
        string none = Section(null);
        Assert.Contains("hardware not run (--no-hardware)", none);
        Assert.Contains("| 0 | not run | not run | - | - | - | - |", none);
        var unsynthesized = Section(new HardwareNumbers(459, 0, "icarus", null, null, null, null, 1, "yosys not installed: no synthesis") { InitiationInterval = 64, Streaming = true });
        Assert.Contains("not synthesized", unsynthesized);
        Assert.Contains("Note (CNN): yosys not installed: no synthesis", unsynthesized);
        Assert.DoesNotContain("25,970", unsynthesized);
    }
}
