namespace HetQ.Cli;

/// <summary>The exit codes of `hetq` (the README's table): one meaning each, so scripts can tell a failed check from a bad command line.</summary>
internal static class ExitCodes
{
    /// <summary>Done, and every check passed.</summary>
    public const int Ok = 0;

    /// <summary>The command ran but a check it makes failed: the Verilog or the emulator differs from the reference (mismatches).</summary>
    public const int CheckFailed = 1;

    /// <summary>Bad usage or input: an unknown option or verb, a bad value, a missing or malformed file, an output that would replace
    /// something HetQ did not write. One line on stderr names the file, field or option.</summary>
    public const int BadInput = 2;

    /// <summary>An internal error (a bug in HetQ): one line, and the stack with HETQ_VERBOSE=1 (sysexits' EX_SOFTWARE).</summary>
    public const int Internal = 70;

    /// <summary>Cancelled with Ctrl-C (128 + SIGINT).</summary>
    public const int Cancelled = 130;
}
