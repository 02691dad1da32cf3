using System.CommandLine;
using HetQ.Cli.Commands;

namespace HetQ.Cli;

/// <summary>Builds the `hetq` command tree; each verb lives in its own file under Commands/.</summary>
internal static class Cli
{
    public static Command Build()
    {
        // A plain command named "hetq" (a RootCommand takes its name from the assembly, HetQ.Cli).
        var root = new Command("hetq", "HetQ: train small neural networks, quantize each layer differently, and turn them into bit-exact FPGA logic.");
        root.Options.Add(new System.CommandLine.Help.HelpOption());
        root.Options.Add(new VersionOption());
        root.Subcommands.Add(TrainCommand.Create());
        root.Subcommands.Add(QuantizeCommand.Create());
        root.Subcommands.Add(FreezeCommand.Create());
        root.Subcommands.Add(EvalCommand.Create());
        root.Subcommands.Add(PredictCommand.CreatePredict());
        root.Subcommands.Add(PredictCommand.CreateTrace());
        root.Subcommands.Add(ImportCommand.Create());
        root.Subcommands.Add(PtqCommand.Create());
        root.Subcommands.Add(SearchCommand.Create());
        root.Subcommands.Add(StudyCommand.Create());
        root.Subcommands.Add(EstimateCommand.Create());
        root.Subcommands.Add(RunCommand.Create());
        root.Subcommands.Add(HwCommand.Create());
        return root;
    }

    /// <summary>Runs the command line; user errors print one message (the stack only with HETQ_VERBOSE=1) and exit 2.</summary>
    public static int Run(string[] args)
    {
        var config = new InvocationConfiguration { EnableDefaultExceptionHandler = false };
        try
        {
            return Build().Parse(args).Invoke(config);
        }
        catch (HetQException e)
        {
            Console.Error.WriteLine($"hetq: error: {e.Message}");
            if (Environment.GetEnvironmentVariable("HETQ_VERBOSE") == "1") Console.Error.WriteLine(e);
            return 2;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("hetq: cancelled");
            return 130;
        }
    }
}
