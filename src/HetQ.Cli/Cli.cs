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
        root.Subcommands.Add(ScoreCommand.Create());
        root.Subcommands.Add(ImportCommand.Create());
        root.Subcommands.Add(PtqCommand.Create());
        root.Subcommands.Add(SearchCommand.Create());
        root.Subcommands.Add(StudyCommand.Create());
        root.Subcommands.Add(EstimateCommand.Create());
        root.Subcommands.Add(RunCommand.Create());
        root.Subcommands.Add(HwCommand.Create());
        return root;
    }

    /// <summary>Runs the command line. Every failure is one line on stderr: a user's error (a bad file, option, path or
    /// value; an I/O, database or HDF5 error) exits 2; an unexpected internal error exits 70 and says how to get the stack
    /// (HETQ_VERBOSE=1); Ctrl-C exits 130.</summary>
    public static int Run(string[] args)
    {
        var config = new InvocationConfiguration { EnableDefaultExceptionHandler = false };
        bool verbose = Environment.GetEnvironmentVariable("HETQ_VERBOSE") == "1";
        Packages.Wire();
        try
        {
            args = HwCommand.Alias(args);
            var parse = Build().Parse(args);
            if (parse.Errors.Count > 0 && !args.Any(a => a is "--help" or "-h" or "-?" or "--version"))
            {
                Console.Error.WriteLine($"hetq: error: {OneLine(parse.Errors[0].Message)} (see {Usage(parse.CommandResult)} --help)");
                return ExitCodes.BadInput;
            }
            return parse.Invoke(config);
        }
        catch (Exception e) when (Unwrap(e) is OperationCanceledException)
        {
            Console.Error.WriteLine("hetq: cancelled");
            return ExitCodes.Cancelled;
        }
        catch (Exception e)
        {
            var inner = Unwrap(e);
            var (message, user) = Describe(inner);
            Console.Error.WriteLine(user
                ? $"hetq: error: {OneLine(message)}"
                : $"hetq: internal error: {inner.GetType().Name}: {OneLine(message)} (set HETQ_VERBOSE=1 for the stack trace)");
            if (verbose) Console.Error.WriteLine(inner);
            return user ? ExitCodes.BadInput : ExitCodes.Internal;
        }
    }

    /// <summary>The command line of a (sub)command, as `hetq hw sim`.</summary>
    private static string Usage(System.CommandLine.Parsing.CommandResult? c)
    {
        var names = new List<string>();
        for (; c is not null; c = c.Parent as System.CommandLine.Parsing.CommandResult) names.Insert(0, c.Command.Name);
        return string.Join(' ', names);
    }

    private static Exception Unwrap(Exception e)
    {
        while (true)
        {
            if (e is AggregateException { InnerExceptions.Count: 1 } a) e = a.InnerExceptions[0];
            else if (e is System.Reflection.TargetInvocationException { InnerException: { } t }) e = t;
            else return e;
        }
    }

    /// <summary>The message of an exception and whether the user can cause (and fix) it.</summary>
    internal static (string Message, bool User) Describe(Exception e) => e switch
    {
        HetQException => (e.Message, true),
        FileNotFoundException f => ($"{f.FileName ?? "file"}: not found", true),
        DirectoryNotFoundException => (e.Message, true),
        PathTooLongException => (e.Message, true),
        UnauthorizedAccessException => ($"permission denied: {e.Message}", true),
        IOException io when io.HResult == 28 || io.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase) => ($"disk full: {e.Message}", true),
        IOException => ($"I/O error: {e.Message}", true),
        System.Data.Common.DbException => ($"study database: {e.Message}", true),
        System.Text.RegularExpressions.RegexMatchTimeoutException r => ($"the regular expression '{r.Pattern}' took too long (over {r.MatchTimeout.TotalSeconds:0.#} s); simplify it", true),
        System.Text.RegularExpressions.RegexParseException r => ($"bad regular expression: {r.Message}", true),
        OverflowException => ($"a number is out of range: {e.Message}", true),
        OutOfMemoryException or InsufficientMemoryException => ("out of memory: the model, data or design is too large for this machine", true),
        System.Text.Json.JsonException => ($"bad JSON: {e.Message}", true),
        InvalidDataException or EndOfStreamException or FormatException => ($"bad input file: {e.Message}", true),
        _ when e.GetType().Namespace?.StartsWith("PureHDF", StringComparison.Ordinal) == true => ($"HDF5: {e.Message}", true),
        ArgumentException => ($"bad argument: {e.Message}", true),
        _ => (e.Message, false),
    };

    /// <summary>A message as one line: control characters escaped; a multi-line tool message keeps its first and last lines.</summary>
    internal static string OneLine(string message)
    {
        var raw = message.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        // a spec error points at its column with a caret under the quoted spec: that second line stays
        if (raw.Length is 2 or 3 && raw[^1].Trim() == "^") return string.Join("\n", raw.Select(l => HetQ.Files.SafeOutput.Printable(l.TrimEnd())));
        var lines = raw.Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
        string text = lines.Length switch
        {
            0 => "(no message)",
            1 => lines[0],
            _ => $"{lines[0]}: ... {lines[^1]}",
        };
        return HetQ.Files.SafeOutput.Printable(text);
    }
}
