using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace HetQ.Hardware;

/// <summary>An external tool (a simulator, Yosys) failed: it exited with a non-zero code or ran past its time.</summary>
public sealed class ToolException : HetQException
{
    public ToolException(string commandLine, int exitCode, string stderrTail, bool timedOut, TimeSpan timeout)
        : base(timedOut
            ? $"{commandLine}: timed out after {timeout.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s"
            : $"{commandLine}: exit code {exitCode}" + (stderrTail.Length > 0 ? $"\n{stderrTail}" : ""))
    {
        CommandLine = commandLine;
        ExitCode = exitCode;
        StderrTail = stderrTail;
        TimedOut = timedOut;
    }

    public string CommandLine { get; }
    public int ExitCode { get; }
    public string StderrTail { get; }
    public bool TimedOut { get; }
}

/// <summary>What a tool printed and how it exited.</summary>
public sealed record ToolResult(string CommandLine, int ExitCode, string StandardOutput, string StandardError, TimeSpan Elapsed);

/// <summary>Runs external tools: stdout and stderr are read concurrently, the timeout and the caller's cancellation
/// kill the whole process tree, and a non-zero exit raises <see cref="ToolException"/> with the command line, the
/// exit code and the tail of stderr.</summary>
public static class ToolRunner
{
    private const int TailLines = 30;

    /// <summary>The full path of <paramref name="program"/> on PATH, or null when it is not installed.</summary>
    public static string? Find(string program)
    {
        if (Path.IsPathRooted(program)) return File.Exists(program) ? program : null;
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            string p = Path.Combine(dir, program);
            if (File.Exists(p)) return p;
        }
        return null;
    }

    /// <summary>Runs <paramref name="program"/> in <paramref name="workingDirectory"/>; appends the command line and
    /// both outputs to <paramref name="log"/> when given, also when the tool fails. With <paramref name="progress"/>, a line
    /// when it starts (<paramref name="label"/>, default the program's name), "still running" while it runs and one with
    /// its elapsed time when it ends.</summary>
    public static async Task<ToolResult> RunAsync(string program, IReadOnlyList<string> arguments, string workingDirectory,
        TimeSpan timeout, TextWriter? log = null, CancellationToken cancel = default, Progress? progress = null, string? label = null)
    {
        using var step = progress?.Step(label ?? Path.GetFileName(program));
        string commandLine = CommandLine(program, arguments);
        var psi = new ProcessStartInfo(program)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        using var process = new Process { StartInfo = psi };
        var watch = Stopwatch.StartNew();
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            throw new HetQException($"{program}: cannot run it ({e.Message}); is it installed and on PATH?", e);
        }
        process.StandardInput.Close();
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        limit.CancelAfter(timeout);
        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        try
        {
            await process.WaitForExitAsync(limit.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Kill(process);
            string err = await Drain(stderr).ConfigureAwait(false);
            string @out = await Drain(stdout).ConfigureAwait(false);
            Log(log, commandLine, @out, err, "killed");
            cancel.ThrowIfCancellationRequested();
            throw new ToolException(commandLine, -1, Tail(err), timedOut: true, timeout);
        }
        string output = await stdout.ConfigureAwait(false), error = await stderr.ConfigureAwait(false);
        watch.Stop();
        Log(log, commandLine, output, error, $"exit code {process.ExitCode}, {watch.Elapsed.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture)} s");
        if (process.ExitCode != 0) throw new ToolException(commandLine, process.ExitCode, Tail(error.Length > 0 ? error : output), timedOut: false, timeout);
        step?.Done();
        return new ToolResult(commandLine, process.ExitCode, output, error, watch.Elapsed);
    }

    /// <summary>The command as one shell-quoted line (for logs and messages).</summary>
    public static string CommandLine(string program, IEnumerable<string> arguments) =>
        string.Join(" ", new[] { program }.Concat(arguments).Select(Quote));

    private static string Quote(string a) =>
        a.Length > 0 && a.All(c => char.IsLetterOrDigit(c) || "-_./=:+,@%".Contains(c, StringComparison.Ordinal)) ? a : "'" + a.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private static void Kill(Process p)
    {
        try
        {
            if (!p.HasExited) p.Kill(entireProcessTree: true);
            p.WaitForExit(5000);
        }
        catch (InvalidOperationException) { }
        catch (Win32Exception) { }
    }

    private static async Task<string> Drain(Task<string> read)
    {
        var done = await Task.WhenAny(read, Task.Delay(2000)).ConfigureAwait(false);
        return done == read ? await read.ConfigureAwait(false) : "";
    }

    private static string Tail(string text)
    {
        var lines = text.TrimEnd().Split('\n');
        return string.Join("\n", lines.Skip(Math.Max(0, lines.Length - TailLines)));
    }

    private static void Log(TextWriter? log, string commandLine, string stdout, string stderr, string status)
    {
        if (log is null) return;
        var sb = new StringBuilder();
        sb.Append("$ ").Append(commandLine).Append('\n');
        if (stdout.Length > 0) sb.Append(stdout.TrimEnd()).Append('\n');
        if (stderr.Length > 0) sb.Append("[stderr]\n").Append(stderr.TrimEnd()).Append('\n');
        sb.Append("[").Append(status).Append("]\n\n");
        lock (log) log.Write(sb.ToString());
        log.Flush();
    }
}
