using System.Data.Common;
using HetQ.Search;

namespace HetQ.Studies.PostgreSql;

/// <summary>The study in PostgreSQL: many workers on many machines share it.</summary>
public sealed class PostgresStudyStore : StudyStore
{
    private readonly Npgsql.NpgsqlDataSource _source;

    public PostgresStudyStore(string connection, string study) : base(study, connection)
    {
        _source = Npgsql.NpgsqlDataSource.Create(connection);
    }

    protected override string Real => "DOUBLE PRECISION";
    protected override string ClaimSuffix => " FOR UPDATE SKIP LOCKED";

    protected override DbConnection Connect() => _source.OpenConnection();

    protected override void LockSchema(DbConnection c, DbTransaction t) => Exec(c, t, "SELECT pg_advisory_xact_lock(7406)");

    // One transaction at a time per study creates or claims trials: proposals see every finished trial.
    protected override void BeginExclusive(DbConnection c, DbTransaction t) =>
        Exec(c, t, "SELECT pg_advisory_xact_lock(hashtext(@s))", ("@s", Study));

    public override void Dispose()
    {
        _source.Dispose();
        base.Dispose();
    }
}
