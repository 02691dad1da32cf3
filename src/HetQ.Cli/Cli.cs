using System.CommandLine;
using HetQ.Cli.Commands;

namespace HetQ.Cli;

/// <summary>Builds the `hetq` command tree; each verb lives in its own file under Commands/.</summary>
internal static class Cli
{
    public static RootCommand Build()
    {
        var root = new RootCommand("HetQ: heterogeneous quantization of small neural networks into bit-exact FPGA logic.");
        root.Subcommands.Add(QuantizeCommand.Create());
        return root;
    }

    public static int Run(string[] args)
    {
        try
        {
            // Our own exception types are caught below and printed without a stack trace.
            return Build().Parse(args).Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (HetQException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 2;
        }
    }
}
