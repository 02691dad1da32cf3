using System.Collections.Concurrent;

namespace HetQ.Search;

/// <summary>The study servers a program has wired up, by kind: the core opens SQLite study files itself and nothing
/// else; a server's store lives in its own package (HetQ.Studies.PostgreSql), which registers its opener here, so the
/// core library carries no database driver beyond SQLite.</summary>
internal static class StudyServers
{
    /// <summary>The kind of a postgres:// or postgresql:// URL or a "Host=..." connection string.</summary>
    internal const string PostgreSql = "postgresql";

    private static readonly ConcurrentDictionary<string, Func<string, string, StudyStore>> Openers = new(StringComparer.Ordinal);

    /// <summary>Registers the opener (location, study name) of a kind of server; a second registration replaces the first.</summary>
    internal static void Register(string kind, Func<string, string, StudyStore> open)
    {
        ArgumentNullException.ThrowIfNull(open);
        Openers[kind] = open;
    }

    /// <summary>The server kind of a study location, or null for a SQLite file path.</summary>
    internal static string? Kind(string location) =>
        location.StartsWith("postgres://", StringComparison.Ordinal) || location.StartsWith("postgresql://", StringComparison.Ordinal)
        || location.Contains("Host=", StringComparison.OrdinalIgnoreCase) ? PostgreSql : null;

    /// <summary>Opens a server study with the registered opener; without one, one line naming the package to add.</summary>
    internal static StudyStore Open(string location, string study) => Open(location, study, Openers);

    internal static StudyStore Open(string location, string study, IReadOnlyDictionary<string, Func<string, string, StudyStore>> openers)
    {
        string kind = Kind(location) ?? throw new ArgumentException("not a study server location", nameof(location));
        if (openers.TryGetValue(kind, out var open)) return open(location, study);
        throw new HetQException($"study '{StudyStore.SafeText(location)}': a PostgreSQL study needs the HetQ.Studies.PostgreSql package "
                                + "(reference it and call HetQ.Studies.PostgreSql.PostgresStudies.Register() once; the hetq command does)");
    }
}
