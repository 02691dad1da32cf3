using System.CommandLine;
using HetQ.Pipeline;

namespace HetQ.Cli.Commands;

/// <summary>`hetq run [--out DIR] [--trials N] [--seed S]`: the main job on the embedded digits.</summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out") { Description = "run directory (default runs/main)", DefaultValueFactory = _ => Path.Combine("runs", "main") };
        var trials = new Option<int>("--trials") { Description = "search trials (default 12)", DefaultValueFactory = _ => 12 };
        var noHardware = new Option<bool>("--no-hardware") { Description = "skip Verilog, simulation and synthesis" };
        var seed = new Option<int>("--seed") { Description = "seed of the data split, the trainings and the search (default 42)", DefaultValueFactory = _ => 42 };
        var cmd = new Command("run", "The whole pipeline on the embedded 8x8 digits: float training, quantization search, freezing, cost, emulation, hardware, report.")
        {
            output, trials, noHardware, seed,
        };
        cmd.SetAction((parse, cancel) =>
        {
            int n = parse.GetValue(trials);
            if (n <= 0) throw new HetQException($"--trials must be positive, given {n}");
            MainJob.Run(parse.GetValue(output)!, n, parse.GetValue(noHardware) ? null : Hardware.Step, m => Console.WriteLine(m), cancel, parse.GetValue(seed));
            return Task.FromResult(0);
        });
        return cmd;
    }
}

/// <summary>The hardware step of the main job.</summary>
internal static class Hardware
{
    /// <summary>Parallel designs get 1,000 random vectors beside the test samples; a streaming design, clocked pixel by pixel, 100 random images.</summary>
    public static HardwareStep Step => (model, data, dir, log, io) => HardwareFlow.Run(model, data, dir, log, io == HetQ.Hardware.HardwareIo.Stream ? 100 : 1000, io);
}
