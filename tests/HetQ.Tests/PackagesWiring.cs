using System.Runtime.CompilerServices;

namespace HetQ.Tests;

/// <summary>The tests see what the hetq command sees: plots and PostgreSQL studies wired up before any test runs
/// (tests that call a job directly, not through the command line, need them too).</summary>
internal static class PackagesWiring
{
#pragma warning disable CA2255 // a module initializer in a test assembly wires the packages as the hetq command does
    [ModuleInitializer]
    internal static void Wire() => HetQ.Cli.Packages.Wire();
#pragma warning restore CA2255
}
