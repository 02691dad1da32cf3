using System.Diagnostics;

namespace HetQ.Tests.Cli;

/// <summary>Runs the Python package's own tests (python/tests) with Debian's python3 and NumPy against the hetq
/// command built with this suite.</summary>
public class PythonPackageTests(ITestOutputHelper output)
{
    [Fact]
    [Trait("Category", "Slow")]
    public void The_python_package_tests_pass_against_the_built_command()
    {
        string python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
        Requires.That(Run(python, "-c \"import numpy\"", null).Code == 0, $"{python} with NumPy is not installed (Debian: apt-get install python3-numpy)");
        string root = Graph.GoldenGraphTests.RepoRoot();
        string cli = Path.Combine(AppContext.BaseDirectory, "HetQ.Cli.dll");
        var (code, text) = Run(python, "-m unittest discover -s python/tests -v", root, ("HETQ_CLI", $"dotnet \"{cli}\""));
        output.WriteLine(text);
        Assert.True(code == 0, text);
        Assert.Contains("OK", text, StringComparison.Ordinal);
    }

    private static (int Code, string Text) Run(string file, string args, string? cwd, params (string, string)[] env)
    {
        var psi = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (cwd is not null) psi.WorkingDirectory = cwd;
        foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(600_000)) { p.Kill(true); return (-1, "timed out after 600 s"); }
        return (p.ExitCode, stdout.Result + stderr.Result);
    }
}
