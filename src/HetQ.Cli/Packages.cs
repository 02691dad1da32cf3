namespace HetQ.Cli;

/// <summary>Wires the optional packages into the core: PNG plots (HetQ.Plots) and PostgreSQL studies (HetQ.Studies.PostgreSql).</summary>
internal static class Packages
{
    public static void Wire()
    {
        HetQ.Plots.PngPlots.Register();
        HetQ.Studies.PostgreSql.PostgresStudies.Register();
    }
}
