using System.CommandLine;

namespace HetQ.Cli;

/// <summary>Where the verbs' progress goes: stderr, as plain lines. Steps (a tool run, writing Verilog) print in text mode,
/// and with --json only on a terminal or with --progress, so a script reading stdout or stderr sees only what it asked for;
/// counted work (batches within an epoch) prints on a terminal or with --progress.</summary>
internal static class CliProgress
{
    /// <summary>The `--progress` option of the verbs with long steps.</summary>
    public static Option<bool> Option() => new("--progress")
    {
        Description = "progress on stderr (batches within an epoch, each tool's start, end and elapsed time) even when stderr is not a terminal or with --json",
    };

    /// <summary>Whether stderr is a terminal someone watches.</summary>
    public static bool Terminal => !Console.IsErrorRedirected;

    /// <summary>Progress for the steps of a verb, or null when it stays silent.</summary>
    public static Progress? Steps(bool json, bool asked) => !json || asked || Terminal ? new Progress(Console.Error.WriteLine) : null;

    /// <summary>Progress for counted work within a step (batches), or null.</summary>
    public static Progress? Counted(bool asked) => asked || Terminal ? new Progress(Console.Error.WriteLine) : null;
}
