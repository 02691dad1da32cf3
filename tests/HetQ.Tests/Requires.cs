using System.Diagnostics.CodeAnalysis;
using HetQ.Hardware;
using HetQ.Tests.Data;

namespace HetQ.Tests;

/// <summary>What a test needs from the machine (a tool, a server, a data file). When it is absent the test is
/// reported as skipped with the reason; under CI (<c>CI=true</c>) it fails instead, because <c>.ci/run</c>
/// installs every tool and a skip there would hide a broken set-up.</summary>
internal static class Requires
{
    /// <summary>True under CI, where nothing may be missing.</summary>
    public static bool Ci => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Skips (or, under CI, fails) the test with <paramref name="reason"/> unless <paramref name="present"/>.</summary>
    public static void That([DoesNotReturnIf(false)] bool present, string reason)
    {
        if (present) return;
        if (Ci) Assert.Fail($"missing under CI, where .ci/run installs everything: {reason}");
        Assert.Skip(reason);
    }

    /// <summary>A program on PATH, with the Debian package that brings it.</summary>
    public static void Tool(string name, string package)
        => That(ToolRunner.Find(name) is not null, $"{name} not found on PATH (Debian: apt-get install {package})");

    /// <summary>A simulator (Verilator or Icarus).</summary>
    public static void Simulator(SimulatorKind kind)
    {
        string? why = Simulation.Unavailable(kind);
        That(why is null, why ?? "");
    }

    /// <summary>The path of a file or folder under the shared reference data (../shared).</summary>
    public static string Shared(string relative)
    {
        string? p = SharedData.TryGetPath(relative);
        That(p is not null, $"the shared reference data ../shared/{relative} is absent");
        return p;
    }

    /// <summary>The connection string of the PostgreSQL test server that test.sh starts on loopback.</summary>
    public static string Postgres()
    {
        string? conn = Environment.GetEnvironmentVariable("HETQ_TEST_POSTGRES");
        That(!string.IsNullOrEmpty(conn), "HETQ_TEST_POSTGRES is not set (test.sh starts a PostgreSQL server on loopback and sets it)");
        return conn;
    }
}
