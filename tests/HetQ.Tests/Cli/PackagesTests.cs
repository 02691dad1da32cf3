using HetQ.Search;
using HetQ.Studies.PostgreSql;

namespace HetQ.Tests.Cli;

/// <summary>The core carries neither plots nor PostgreSQL: the hetq command wires in HetQ.Plots and HetQ.Studies.PostgreSql,
/// and a program with the core alone gets one line naming the package it lacks.</summary>
public class PackagesTests
{
    [Theory]
    [InlineData("postgresql://hetq@127.0.0.1/hetq")]
    [InlineData("postgres://hetq@127.0.0.1/hetq")]
    [InlineData("Host=127.0.0.1;Username=hetq;Password=secret;Database=hetq")]
    public void A_postgresql_study_without_the_package_is_one_line_naming_it(string location)
    {
        Assert.False(StudyStore.IsFile(location));
        var e = Assert.Throws<HetQException>(() => StudyServers.Open(location, "s", new Dictionary<string, Func<string, string, StudyStore>>()));
        Assert.Contains("HetQ.Studies.PostgreSql", e.Message, StringComparison.Ordinal);
        Assert.Contains("PostgresStudies.Register()", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
        Assert.DoesNotContain("secret", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_wired_command_opens_postgresql_locations_with_the_postgresql_store_and_files_with_sqlite()
    {
        // Creating the data source does not connect: no server is needed to see which store a location gets.
        using (var pg = StudyStore.Open("Host=127.0.0.1;Username=hetq;Database=hetq", "s")) Assert.IsType<PostgresStudyStore>(pg);
        using var dir = new TempDir();
        using var file = StudyStore.Open(dir.File("s.sqlite"), "s");
        Assert.IsType<SqliteStudyStore>(file);
    }

    [Fact]
    public void A_plot_without_the_plots_package_is_not_drawn_and_says_so_in_one_line()
    {
        var lines = new List<string>();
        bool drawn = Plotting.TryDraw(null, "/tmp/x/pareto.png", _ => throw new InvalidOperationException("must not draw"), lines.Add);
        Assert.False(drawn);
        var line = Assert.Single(lines);
        Assert.StartsWith("/tmp/x/pareto.png: not written: plots need the HetQ.Plots package", line, StringComparison.Ordinal);
        Assert.Contains("PngPlots.Register()", line, StringComparison.Ordinal);
    }

    [Fact]
    public void The_core_library_references_neither_scottplot_nor_npgsql()
    {
        var names = typeof(StudyStore).Assembly.GetReferencedAssemblies().Select(a => a.Name).ToList();
        Assert.DoesNotContain(names, n => n!.StartsWith("ScottPlot", StringComparison.Ordinal) || n.StartsWith("SkiaSharp", StringComparison.Ordinal)
                                          || n.StartsWith("Npgsql", StringComparison.Ordinal));
        Assert.Contains("Microsoft.Data.Sqlite", names);
    }
}
