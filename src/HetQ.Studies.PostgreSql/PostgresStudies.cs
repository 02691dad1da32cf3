using HetQ.Search;

namespace HetQ.Studies.PostgreSql;

/// <summary>Wires PostgreSQL studies into HetQ: after <see cref="Register"/>, a study location that is a postgres:// or
/// postgresql:// URL or a "Host=..." connection string opens a <see cref="PostgresStudyStore"/>.</summary>
public static class PostgresStudies
{
    /// <summary>Registers the PostgreSQL study store (idempotent).</summary>
    public static void Register() => StudyServers.Register(StudyServers.PostgreSql, (location, study) => new PostgresStudyStore(location, study));
}
