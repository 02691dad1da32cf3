using System.Data.Common;
using System.Text.Json;

namespace HetQ.Search;

/// <summary>A trial as stored: its configuration, state, metrics and where its model is. Under Hyperband,
/// <see cref="Rung"/> is its budget level and <see cref="Parent"/> the trial it continues training (null for a new configuration);
/// a baseline trial has its <see cref="Baseline"/> name.</summary>
public sealed record TrialRecord(int Number, TrialKind Kind, IReadOnlyDictionary<string, string> Choice, TrialState State, string? Worker,
    double? Accuracy, double? Cost, double? Score, string? Metrics, string? Model, string? Error, double? Seconds, int Attempts,
    int Rung = 0, int? Parent = null, string? Baseline = null)
{
    public bool IsDone => State == TrialState.Done;
    /// <summary>True once the trial has finished, with or without a score.</summary>
    public bool IsFinished => State is TrialState.Done or TrialState.Failed;
    /// <summary>True for a trial the search proposed (not a baseline).</summary>
    public bool IsSearch => Kind == TrialKind.Search;
    /// <summary>The kind as the study stores and prints it: "search", or "baseline:" and the baseline's name.</summary>
    public string KindName => StudyStore.KindText(Kind, Baseline);
}

/// <summary>The study database: every trial, claimed by one worker at a time. SQLite (a file, one machine) or
/// PostgreSQL (any number of workers on any machines; the HetQ.Studies.PostgreSql package). A worker claims or creates a trial inside one
/// transaction, heartbeats while it runs it, and a trial whose worker died is queued again.</summary>
public abstract class StudyStore : IDisposable
{
    /// <summary>A search trial to create: a new configuration (no parent), or a promotion of <c>Parent</c> to <c>Rung</c>.</summary>
    public sealed record Proposal(IReadOnlyDictionary<string, string> Choice, int Rung = 0, int? Parent = null);

    /// <summary>The kind column: "search", or "baseline:" and the baseline's name.</summary>
    internal static string KindText(TrialKind kind, string? baseline) => kind == TrialKind.Search ? "search" : "baseline:" + baseline;

    private static (TrialKind Kind, string? Baseline) ParseKind(string text) =>
        text.StartsWith("baseline:", StringComparison.Ordinal) ? (TrialKind.Baseline, text["baseline:".Length..]) : (TrialKind.Search, null);

    private static TrialState ParseState(string text) =>
        SearchNames.Parse<TrialState>(text) ?? throw new HetQException($"study: unknown trial state '{text}'");

    public string Study { get; }
    public string Location { get; }

    protected StudyStore(string study, string location)
    {
        Study = study;
        Location = location;
    }

    /// <summary>Whether a study location is a SQLite file path (else a PostgreSQL connection string or URL).</summary>
    public static bool IsFile(string location) => StudyServers.Kind(location) is null;

    /// <summary>A store for a location: a SQLite file path, or a PostgreSQL connection string ("Host=...") or postgres:// URL
    /// when the HetQ.Studies.PostgreSql package is registered (else one line saying so).</summary>
    public static StudyStore Open(string location, string study) =>
        IsFile(location) ? new SqliteStudyStore(location, study) : StudyServers.Open(location, study);

    protected abstract DbConnection Connect();
    protected abstract string Real { get; }
    protected abstract void BeginExclusive(DbConnection c, DbTransaction t);
    protected abstract string ClaimSuffix { get; }
    protected virtual void LockSchema(DbConnection c, DbTransaction t) { }

    protected void Exec(DbConnection c, DbTransaction? t, string sql, params (string, object?)[] args)
    {
        using var cmd = Command(c, t, sql, args);
        cmd.ExecuteNonQuery();
    }

    protected static DbCommand Command(DbConnection c, DbTransaction? t, string sql, params (string Name, object? Value)[] args)
    {
        var cmd = c.CreateCommand();
        cmd.Transaction = t;
        cmd.CommandText = sql;
        foreach (var (name, value) in args)
        {
            var p = cmd.CreateParameter();
            p.ParameterName = name;
            p.Value = value ?? DBNull.Value;
            cmd.Parameters.Add(p);
        }
        return cmd;
    }

    /// <summary>Creates the tables and the study (with its configuration) if they do not exist; returns the stored configuration.</summary>
    public string Initialize(string config)
    {
        using var c = Connect();
        using (var ddl = c.BeginTransaction())
        {
            // Workers starting together must not race on CREATE TABLE (PostgreSQL would fail one of them).
            LockSchema(c, ddl);
            Exec(c, ddl, $"CREATE TABLE IF NOT EXISTS studies (name TEXT PRIMARY KEY, config TEXT NOT NULL, created TEXT NOT NULL)");
            Exec(c, ddl, $@"CREATE TABLE IF NOT EXISTS trials (study TEXT NOT NULL, number INTEGER NOT NULL, kind TEXT NOT NULL, choice TEXT NOT NULL,
                state TEXT NOT NULL, worker TEXT, heartbeat {Real}, attempts INTEGER NOT NULL, accuracy {Real}, cost {Real}, score {Real},
                metrics TEXT, model TEXT, error TEXT, seconds {Real}, rung INTEGER NOT NULL DEFAULT 0, parent INTEGER, PRIMARY KEY (study, number))");
            // Databases from before Hyperband lack the rung and parent columns: add them.
            var columns = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            using (var probe = Command(c, ddl, "SELECT * FROM trials WHERE 1 = 0"))
            using (var r = probe.ExecuteReader())
                for (int i = 0; i < r.FieldCount; i++) columns.Add(r.GetName(i));
            if (!columns.Contains("rung")) Exec(c, ddl, "ALTER TABLE trials ADD COLUMN rung INTEGER NOT NULL DEFAULT 0");
            if (!columns.Contains("parent")) Exec(c, ddl, "ALTER TABLE trials ADD COLUMN parent INTEGER");
            ddl.Commit();
        }
        using var t = c.BeginTransaction();
        BeginExclusive(c, t);
        using (var cmd = Command(c, t, "SELECT config FROM studies WHERE name = @n", ("@n", Study)))
            if (cmd.ExecuteScalar() is string existing)
            {
                t.Commit();
                return existing;
            }
        Exec(c, t, "INSERT INTO studies (name, config, created) VALUES (@n, @c, @t)", ("@n", Study), ("@c", config), ("@t", DateTime.UtcNow.ToString("O")));
        t.Commit();
        return config;
    }

    /// <summary>Queues baseline trials (fixed configurations) once, as the first trial numbers.</summary>
    public void QueueBaselines(IReadOnlyList<(string Name, IReadOnlyDictionary<string, string> Choice)> baselines)
    {
        using var c = Connect();
        using var t = c.BeginTransaction();
        BeginExclusive(c, t);
        using (var cmd = Command(c, t, "SELECT COUNT(*) FROM trials WHERE study = @s", ("@s", Study)))
            if (Convert.ToInt64(cmd.ExecuteScalar()) > 0)
            {
                t.Commit();
                return;
            }
        for (int i = 0; i < baselines.Count; i++)
            Exec(c, t, "INSERT INTO trials (study, number, kind, choice, state, attempts) VALUES (@s, @n, @k, @c, 'queued', 0)",
                ("@s", Study), ("@n", i), ("@k", KindText(TrialKind.Baseline, baselines[i].Name)), ("@c", JsonSerializer.Serialize(baselines[i].Choice)));
        t.Commit();
    }

    /// <summary>In one transaction: queue again the trials of dead workers, then claim the oldest queued trial, or
    /// create a new one from <paramref name="propose"/> while fewer than <paramref name="maxTrials"/> exist.
    /// Null when the study is complete (or everything left is running elsewhere).</summary>
    public TrialRecord? ClaimOrCreate(string worker, int maxTrials, double timeoutSeconds,
        Func<IReadOnlyList<TrialRecord>, IReadOnlyDictionary<string, string>> propose) =>
        ClaimOrCreate(worker, maxTrials, timeoutSeconds, (all, canCreate) => canCreate ? new Proposal(propose(all)) : null);

    /// <summary>As above, with proposals that may also promote a finished trial (Hyperband): <paramref name="propose"/>
    /// gets every trial and whether a new configuration may still be created (fewer than <paramref name="maxTrials"/>
    /// trials without a parent exist); it returns the trial to create or null. Everything happens in one transaction,
    /// so a promotion is created once however many workers ask together.</summary>
    public TrialRecord? ClaimOrCreate(string worker, int maxTrials, double timeoutSeconds, Func<IReadOnlyList<TrialRecord>, bool, Proposal?> propose)
    {
        using var c = Connect();
        using var t = c.BeginTransaction();
        BeginExclusive(c, t);
        double now = Now();
        var all = Trials(c, t);
        foreach (var r in all.Where(r => r.State == TrialState.Running && (IsDead(r.Worker) || Heartbeat(c, t, r.Number) < now - timeoutSeconds)))
            Exec(c, t, "UPDATE trials SET state = 'queued', worker = NULL WHERE study = @s AND number = @n AND state = 'running'", ("@s", Study), ("@n", r.Number));
        TrialRecord? claimed = null;
        using (var cmd = Command(c, t, $"SELECT number FROM trials WHERE study = @s AND state = 'queued' ORDER BY number LIMIT 1{ClaimSuffix}", ("@s", Study)))
            if (cmd.ExecuteScalar() is { } n and not DBNull)
            {
                int number = Convert.ToInt32(n);
                Exec(c, t, "UPDATE trials SET state = 'running', worker = @w, heartbeat = @h, attempts = attempts + 1 WHERE study = @s AND number = @n",
                    ("@w", worker), ("@h", now), ("@s", Study), ("@n", number));
                claimed = Trials(c, t).First(r => r.Number == number);
            }
        if (claimed is null && propose(all, all.Count(r => r.Parent is null) < maxTrials) is { } p)
        {
            int number = all.Count == 0 ? 0 : all.Max(r => r.Number) + 1;
            Exec(c, t, @"INSERT INTO trials (study, number, kind, choice, state, worker, heartbeat, attempts, rung, parent)
                VALUES (@s, @n, @k, @c, 'running', @w, @h, 1, @r, @p)",
                ("@s", Study), ("@n", number), ("@k", KindText(TrialKind.Search, null)), ("@c", JsonSerializer.Serialize(p.Choice)), ("@w", worker), ("@h", now),
                ("@r", p.Rung), ("@p", p.Parent));
            claimed = new TrialRecord(number, TrialKind.Search, p.Choice, TrialState.Running, worker, null, null, null, null, null, null, null, 1, p.Rung, p.Parent);
        }
        t.Commit();
        return claimed;
    }

    public void Heartbeat(int number, string worker)
    {
        using var c = Connect();
        Exec(c, null, "UPDATE trials SET heartbeat = @h WHERE study = @s AND number = @n AND worker = @w AND state = 'running'",
            ("@h", Now()), ("@s", Study), ("@n", number), ("@w", worker));
    }

    /// <summary>Records a finished trial; false when the trial was meanwhile given to another worker (this result is then dropped).</summary>
    public bool Complete(int number, string worker, TrialState state, double? accuracy, double? cost, double? score, string? metrics, string? model, string? error, double seconds)
    {
        using var c = Connect();
        using var cmd = Command(c, null, @"UPDATE trials SET state = @st, accuracy = @a, cost = @c, score = @sc, metrics = @m, model = @mo, error = @e, seconds = @sec
            WHERE study = @s AND number = @n AND worker = @w AND state = 'running'",
            ("@st", state.Name()), ("@a", accuracy), ("@c", cost), ("@sc", score), ("@m", metrics), ("@mo", model), ("@e", error), ("@sec", seconds),
            ("@s", Study), ("@n", number), ("@w", worker));
        return cmd.ExecuteNonQuery() == 1;
    }

    /// <summary>The names of the studies in a database.</summary>
    public static IReadOnlyList<string> StudyNames(string location)
    {
        using var store = Open(location, "");
        using var c = store.Connect();
        using var cmd = Command(c, null, "SELECT name FROM studies ORDER BY name");
        var names = new List<string>();
        try
        {
            using var r = cmd.ExecuteReader();
            while (r.Read()) names.Add(r.GetString(0));
        }
        catch (Exception e) when (e is DbException or InvalidOperationException or InvalidCastException)
        {
            throw new HetQException($"{location}: not a HetQ study database, or a damaged one ({e.Message})");
        }
        return names;
    }

    public IReadOnlyList<TrialRecord> Trials()
    {
        using var c = Connect();
        try
        {
            return Trials(c, null);
        }
        catch (Exception e) when (e is DbException or InvalidOperationException or InvalidCastException or FormatException or JsonException or OverflowException)
        {
            throw new HetQException($"{SafeLocation}: the study's trials cannot be read: the database is damaged or not a HetQ study ({e.Message})");
        }
    }

    /// <summary>The location for messages: a PostgreSQL connection string without its password.</summary>
    private string SafeLocation => SafeText(Location);

    /// <summary>A location for messages: a connection string without its password.</summary>
    internal static string SafeText(string location) => location.Contains('=', StringComparison.Ordinal)
        ? string.Join(";", location.Split(';').Where(p => !p.TrimStart().StartsWith("Password", StringComparison.OrdinalIgnoreCase)))
        : location;

    public string? Config()
    {
        using var c = Connect();
        using var cmd = Command(c, null, "SELECT config FROM studies WHERE name = @n", ("@n", Study));
        return cmd.ExecuteScalar() as string;
    }

    private List<TrialRecord> Trials(DbConnection c, DbTransaction? t)
    {
        var list = new List<TrialRecord>();
        using var cmd = Command(c, t, "SELECT number, kind, choice, state, worker, accuracy, cost, score, metrics, model, error, seconds, attempts, rung, parent FROM trials WHERE study = @s ORDER BY number", ("@s", Study));
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            var (kind, baseline) = ParseKind(r.GetString(1));
            list.Add(new TrialRecord(Convert.ToInt32(r.GetValue(0)), kind, JsonSerializer.Deserialize<Dictionary<string, string>>(r.GetString(2))!,
                ParseState(r.GetString(3)), r.IsDBNull(4) ? null : r.GetString(4), D(r, 5), D(r, 6), D(r, 7), S(r, 8), S(r, 9), S(r, 10), D(r, 11), Convert.ToInt32(r.GetValue(12)),
                Convert.ToInt32(r.GetValue(13)), r.IsDBNull(14) ? null : Convert.ToInt32(r.GetValue(14)), baseline));
        }
        return list;
    }

    private double Heartbeat(DbConnection c, DbTransaction t, int number)
    {
        using var cmd = Command(c, t, "SELECT heartbeat FROM trials WHERE study = @s AND number = @n", ("@s", Study), ("@n", number));
        return cmd.ExecuteScalar() is { } v and not DBNull ? Convert.ToDouble(v) : 0;
    }

    private static double? D(DbDataReader r, int i) => r.IsDBNull(i) ? null : Convert.ToDouble(r.GetValue(i));
    private static string? S(DbDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    public static double Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;

    /// <summary>This machine's worker id: host and process.</summary>
    public static string WorkerId() => $"{Environment.MachineName}:{Environment.ProcessId}";

    /// <summary>A worker on this machine whose process is gone is dead at once (no need to wait for the timeout).</summary>
    private static bool IsDead(string? worker)
    {
        if (worker is null) return true;
        int colon = worker.LastIndexOf(':');
        if (colon < 0 || worker[..colon] != Environment.MachineName || !int.TryParse(worker[(colon + 1)..], out int pid)) return false;
        if (pid == Environment.ProcessId) return false;
        try
        {
            using var p = System.Diagnostics.Process.GetProcessById(pid);
            return p.HasExited;
        }
        catch (ArgumentException)
        {
            return true;
        }
    }

    public virtual void Dispose() => GC.SuppressFinalize(this);
}

/// <summary>The study in a SQLite file (the default): one machine, any number of processes.</summary>
public sealed class SqliteStudyStore(string file, string study) : StudyStore(study, Path.GetFullPath(file))
{
    protected override string Real => "REAL";
    protected override string ClaimSuffix => "";

    protected override DbConnection Connect()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Location)!);
        if (Directory.Exists(Location)) throw new HetQException($"{Location}: is a directory, a study database file is expected");
        if (File.Exists(Location) && !Files.SafeOutput.IsReadable(Location)) throw new HetQException($"{Location}: not a regular file");
        // The builder quotes the path: a ';' or '=' in it cannot add connection options.
        var builder = new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder { DataSource = Location, DefaultTimeout = 60, Pooling = false };
        var c = new Microsoft.Data.Sqlite.SqliteConnection(builder.ToString());
        try
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "PRAGMA journal_mode=WAL; PRAGMA busy_timeout=60000;";
            cmd.ExecuteNonQuery();
        }
        catch (DbException e)
        {
            c.Dispose();
            throw new HetQException($"{Location}: not a readable SQLite study database ({e.Message})");
        }
        return c;
    }

    // SQLite takes the write lock at the first write; an UPDATE of nothing takes it at once, serializing claimers.
    protected override void BeginExclusive(DbConnection c, DbTransaction t) =>
        Exec(c, t, "UPDATE studies SET name = name WHERE 0");
}
