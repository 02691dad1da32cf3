using System.CodeDom.Compiler;
using System.Globalization;
using System.Numerics;
using System.Text;

namespace HetQ.Hardware;

/// <summary>What drives a streaming design, clock by clock: <see cref="Reset"/>, <see cref="Valid"/> and the pixel on
/// the input port (<see cref="Pixels"/>, the port's elements per cycle), and how many images it carries.</summary>
public sealed record StreamStimulus(int Cycles, int Images, bool[] Reset, bool[] Valid, long[] Pixels);

/// <summary>The testbench of a streaming design (<see cref="HardwareManifest.IsStreaming"/>): two reset clocks, then
/// every image pixel by pixel with random gaps in in_valid (random codes on the input port in the gaps), images also
/// back to back; every out_valid pulse's outputs are compared with the emulator's outputs of the next image. The
/// in-process check (<see cref="Check"/>) runs the same stimulus on the design's netlist.</summary>
public static class StreamingTestbench
{
    public const string StimulusFile = "stimulus.hex";

    /// <summary>The clock-by-clock stimulus of <paramref name="v"/>'s images (row-major pixels, channels last): before a
    /// pixel, with probability 1/4, a gap of 1 to 3 clocks without in_valid; every fourth image has no gaps; after an image's last
    /// pixel the clocks that the initiation interval asks for beyond the pixels (padded stages' flush).</summary>
    public static StreamStimulus Schedule(HardwareManifest m, SimulationVectors v, int seed)
    {
        ArgumentNullException.ThrowIfNull(m);
        ArgumentNullException.ThrowIfNull(v);
        if (!m.IsStreaming) throw new ArgumentException("not a streaming design", nameof(m));
        int c = m.Input.Elements, pixels = m.SampleElements / c, w = m.Input.ElementWidth;
        var rng = new Random(seed);
        var reset = new List<bool>();
        var valid = new List<bool>();
        var data = new List<long>();
        long lo = m.Input.Signed ? -(1L << (w - 1)) : 0, hi = m.Input.Signed ? (1L << (w - 1)) - 1 : (1L << w) - 1;
        void Cycle(bool r, bool ok, ReadOnlySpan<long> pixel)
        {
            reset.Add(r);
            valid.Add(ok);
            if (pixel.IsEmpty) for (int i = 0; i < c; i++) data.Add(rng.NextInt64(lo, hi + 1));
            else foreach (long x in pixel) data.Add(x);
        }
        Cycle(true, true, default);
        Cycle(true, false, default);
        for (int s = 0; s < v.Count; s++)
            for (int p = 0; p < pixels; p++)
            {
                if (s % 4 != 3 && rng.Next(4) == 0)
                    for (int g = rng.Next(1, 4); g > 0; g--) Cycle(false, false, default);
                Cycle(false, true, v.Inputs.AsSpan((s * pixels + p) * c, c));
                if (p == pixels - 1)
                    for (int g = m.InitiationInterval - pixels; g > 0; g--) Cycle(false, false, default);
            }
        for (int i = 0; i < m.LatencyCycles + 3; i++) Cycle(false, false, default);
        return new StreamStimulus(reset.Count, v.Count, reset.ToArray(), valid.ToArray(), data.ToArray());
    }

    /// <summary>Runs the netlist on the stimulus clock by clock and compares the outputs of every out_valid pulse with
    /// the emulator's for the next image; returns the images compared (all of them). A difference, a missing or an extra
    /// pulse is a bug in HetQ: <see cref="NetlistMismatchException"/>.</summary>
    internal static int Check(Netlist netlist, HardwareManifest m, SimulationVectors v, StreamStimulus s)
    {
        var run = NetlistInterpreter.For(netlist);
        int c = m.Input.Elements, k = m.Output.Elements, images = 0;
        var got = new long[k];
        var flag = new long[1];
        for (int t = 0; t < s.Cycles; t++)
        {
            run.SetInput(VerilogWriter.ResetPort, [s.Reset[t] ? 1 : 0], 1);
            run.SetInput(VerilogWriter.InValidPort, [s.Valid[t] ? 1 : 0], 1);
            run.SetInput(m.Input.Name, s.Pixels.AsSpan(t * c, c), m.Input.ElementWidth);
            run.Evaluate();
            run.ReadOutput(VerilogWriter.OutValidPort, flag, 1, false);
            if (flag[0] == 1 && t >= 2)
            {
                if (images == v.Count) throw new NetlistMismatchException($"the netlist of {m.Top} pulses {VerilogWriter.OutValidPort} in clock {t}, after all {v.Count} images (a bug in HetQ; please report it)");
                run.ReadOutput(m.Output.Name, got, m.Output.ElementWidth, m.Output.Signed);
                for (int j = 0; j < k; j++)
                    if (got[j] != v.Expected[images * k + j])
                        throw new NetlistMismatchException($"the netlist of {m.Top} gives {got[j]} for output {j} of image {images}, the emulator {v.Expected[images * k + j]}: the writer and the emulator disagree (a bug in HetQ; please report it)");
                images++;
            }
            run.Clock();
        }
        if (images != v.Count) throw new NetlistMismatchException($"the netlist of {m.Top} gave {images} outputs for {v.Count} images (a bug in HetQ; please report it)");
        return images;
    }

    /// <summary>Writes tb.v, the stimulus (one line per clock: rst, in_valid, the pixel) and the expected outputs (one line
    /// per image) into <paramref name="directory"/>.</summary>
    public static void Write(string directory, HardwareManifest m, SimulationVectors v, StreamStimulus s)
    {
        ArgumentNullException.ThrowIfNull(m);
        ArgumentNullException.ThrowIfNull(v);
        ArgumentNullException.ThrowIfNull(s);
        if (v.Count == 0) throw new HetQException("no images to simulate (the data's test part is empty and no random vectors were asked for)");
        Directory.CreateDirectory(directory);
        int c = m.Input.Elements, w = m.Input.ElementWidth, bits = m.Input.Bits + 2;
        using (var f = new StreamWriter(Path.Combine(directory, StimulusFile), false, new UTF8Encoding(false)) { NewLine = "\n" })
            for (int t = 0; t < s.Cycles; t++)
            {
                BigInteger word = (s.Reset[t] ? 2 : 0) | (s.Valid[t] ? 1 : 0);
                for (int i = c - 1; i >= 0; i--) word = (word << w) | ((BigInteger)s.Pixels[t * c + i] & ((BigInteger.One << w) - 1));
                f.WriteLine(Testbench.Hex(word, bits));
            }
        using (var f = new StreamWriter(Path.Combine(directory, Testbench.ExpectedFile), false, new UTF8Encoding(false)) { NewLine = "\n" })
            for (int i = 0; i < v.Count; i++)
            {
                BigInteger word = 0;
                for (int j = m.Output.Elements - 1; j >= 0; j--) word = (word << m.Output.ElementWidth) | ((BigInteger)v.Expected[i * m.Output.Elements + j] & ((BigInteger.One << m.Output.ElementWidth) - 1));
                f.WriteLine(Testbench.Hex(word, m.Output.Bits));
            }
        File.WriteAllText(Path.Combine(directory, Testbench.FileName), Text(m, v.Count, s.Cycles));
    }

    private static string Text(HardwareManifest m, int images, int cycles)
    {
        var s = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
        var w = Testbench.Begin(s, m,
            [$"// Streaming testbench generated by HetQ for {m.Top}: {images} images over {cycles} clocks ({StimulusFile}: rst, in_valid and",
             $"// the pixel of every clock, random gaps in in_valid); the outputs of every out_valid pulse are compared with {Testbench.ExpectedFile}."],
            [("N", images), ("T", cycles)]);
        w.WriteLine("reg clk = 1'b0;");
        w.WriteLine("reg rst = 1'b1;");
        w.WriteLine("reg in_valid = 1'b0;");
        w.WriteLine("reg [IN_BITS-1:0] x = {IN_BITS{1'b0}};");
        w.WriteLine("wire out_valid;");
        w.WriteLine("wire [OUT_BITS-1:0] y;");
        w.WriteLine("reg [OUT_BITS-1:0] want;");
        w.WriteLine("reg [IN_BITS+1:0] stimulus [0:T-1];");
        w.WriteLine("reg [OUT_BITS-1:0] expected [0:N-1];");
        w.WriteLine("integer cycle, image, j, first, mismatches;");
        w.WriteLineNoTabs("");
        w.WriteLine($"{m.Top} dut (.{m.Clock}(clk), .{VerilogWriter.ResetPort}(rst), .{VerilogWriter.InValidPort}(in_valid), .{m.Input.Name}(x), .{VerilogWriter.OutValidPort}(out_valid), .{m.Output.Name}(y));");
        w.WriteLineNoTabs("");
        w.WriteLine("initial begin");
        w.Indent++;
        w.WriteLine($"$readmemh(\"{StimulusFile}\", stimulus);");
        w.WriteLine($"$readmemh(\"{Testbench.ExpectedFile}\", expected);");
        w.WriteLine("mismatches = 0;");
        w.WriteLine("image = 0;");
        w.WriteLine("for (cycle = 0; cycle < T; cycle = cycle + 1) begin");
        w.Indent++;
        w.WriteLine("{rst, in_valid, x} = stimulus[cycle];");
        w.WriteLine("#1;");
        w.WriteLine("if (cycle >= 2 && out_valid !== 1'b0) begin");
        w.Indent++;
        w.WriteLine("if (out_valid !== 1'b1 || image >= N) begin");
        w.Indent++;
        w.WriteLine("if (mismatches == 0) $display(\"HETQ-MISMATCH sample=%0d output=0 got=%h expected=0\", image, out_valid);");
        w.WriteLine("mismatches = mismatches + 1;");
        w.Indent--;
        w.WriteLine("end else begin");
        w.Indent++;
        Testbench.WriteCompare(w, "image");
        w.WriteLine("image = image + 1;");
        w.Indent--;
        w.WriteLine("end");
        w.Indent--;
        w.WriteLine("end");
        w.WriteLine("clk = 1'b1;");
        w.WriteLine("#1;");
        w.WriteLine("clk = 1'b0;");
        w.Indent--;
        w.WriteLine("end");
        return Testbench.End(w, s, "image", "an image without its out_valid pulse counts as a mismatch");
    }
}
