using HetQ.Hardware;

namespace HetQ.Tests.Hardware;

public class ToolRunnerTests
{
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task A_non_zero_exit_raises_a_tool_exception_with_the_command_exit_code_and_stderr()
    {
        using var log = new StringWriter();
        var e = await Assert.ThrowsAsync<ToolException>(() => ToolRunner.RunAsync("sh", new[] { "-c", "echo fine; echo broken >&2; exit 3" }, Path.GetTempPath(), Minute, log));
        Assert.Equal(3, e.ExitCode);
        Assert.False(e.TimedOut);
        Assert.Contains("broken", e.StderrTail);
        Assert.StartsWith("sh -c 'echo fine; echo broken >&2; exit 3'", e.CommandLine);
        Assert.Contains("exit code 3", e.Message);
        Assert.Contains("$ sh -c", log.ToString());
        Assert.Contains("fine", log.ToString());
    }

    [Fact]
    public async Task Large_stdout_and_stderr_are_read_together_without_blocking()
    {
        var r = await ToolRunner.RunAsync("sh", new[] { "-c", "head -c 300000 /dev/zero | tr '\\0' e >&2; head -c 300000 /dev/zero | tr '\\0' o" }, Path.GetTempPath(), Minute);
        Assert.Equal(300000, r.StandardOutput.Length);
        Assert.Equal(300000, r.StandardError.Length);
    }

    [Fact]
    public async Task The_timeout_kills_the_whole_process_tree()
    {
        using var dir = new TempDir();
        var started = DateTime.UtcNow;
        var e = await Assert.ThrowsAsync<ToolException>(() => ToolRunner.RunAsync("sh", new[] { "-c", "sleep 60 & echo $! > child; wait" }, dir.Path, TimeSpan.FromMilliseconds(500)));
        Assert.True(e.TimedOut);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(20));
        int child = int.Parse(File.ReadAllText(dir.File("child")).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        string stat = $"/proc/{child}/stat";
        Assert.True(!File.Exists(stat) || File.ReadAllText(stat).Split(' ')[2] == "Z", $"child {child} still runs");
    }

    [Fact]
    public async Task Cancellation_kills_the_tool_and_throws_operation_cancelled()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ToolRunner.RunAsync("sleep", new[] { "60" }, Path.GetTempPath(), Minute, cancel: cts.Token));
    }

    [Fact]
    public async Task A_missing_program_is_a_clear_error()
    {
        var e = await Assert.ThrowsAsync<HetQException>(() => ToolRunner.RunAsync("hetq-no-such-tool", Array.Empty<string>(), Path.GetTempPath(), Minute));
        Assert.Contains("hetq-no-such-tool", e.Message);
        Assert.Null(ToolRunner.Find("hetq-no-such-tool"));
        Assert.NotNull(ToolRunner.Find("sh"));
    }
}
