using System.CommandLine;

namespace HetQ.Cli;

/// <summary>Builds the `hetq` command tree; each verb lives in its own file under Commands/.</summary>
internal static class Cli
{
    public static RootCommand Build()
    {
        var root = new RootCommand("HetQ: heterogeneous quantization of small neural networks into bit-exact FPGA logic.");
        return root;
    }

    public static int Run(string[] args)
    {
        try
        {
            return Build().Parse(args).Invoke();
        }
        catch (HetQException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 2;
        }
    }
}
