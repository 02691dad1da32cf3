using System.CommandLine;
using System.Text.Json;
using HetQ.Search;

namespace HetQ.Cli.Commands;

/// <summary>`hetq study show STUDY [--name N] [--json]`.</summary>
internal static class StudyCommand
{
    public static Command Create()
    {
        var study = new Argument<string>("study") { Description = "study database: a SQLite file or a PostgreSQL connection string" };
        var name = new Option<string?>("--name") { Description = "study name (default: the only study in the database)" };
        var json = new Option<bool>("--json") { Description = "print the trials as JSON" };
        var show = new Command("show", "Print every trial of a study: state, quantizers, accuracy, cost, score.") { study, name, json };
        show.SetAction(parse =>
        {
            string location = parse.GetValue(study)!;
            if (!location.Contains('=') && !location.Contains("://", StringComparison.Ordinal) && !File.Exists(location))
                throw new HetQException($"{location}: study database not found");
            string studyName = parse.GetValue(name) ?? OnlyStudy(location);
            var names = StudyStore.StudyNames(location);
            if (!names.Contains(studyName))
                throw new HetQException($"{location}: no study named '{Files.SafeOutput.Printable(studyName)}' (studies: {(names.Count == 0 ? "none" : string.Join(", ", names))})");
            using var store = StudyStore.Open(location, studyName);
            var trials = store.Trials();
            if (parse.GetValue(json))
            {
                Console.WriteLine(CliJson.Serialize(trials.Select(t => SearchCommand.Describe(t, t.Model))));
                return 0;
            }
            Console.WriteLine($"study '{studyName}' in {store.Location}: {trials.Count} trials, {trials.Count(t => t.IsDone)} done, {trials.Count(t => t.State == TrialState.Failed)} failed, {trials.Count(t => t.State is TrialState.Running or TrialState.Queued)} running or queued");
            PrintTable(trials, "cost", top: int.MaxValue);
            return 0;
        });
        var cmd = new Command("study", "Inspect search studies.");
        cmd.Subcommands.Add(show);
        return cmd;
    }

    private static string OnlyStudy(string location)
    {
        var names = StudyStore.StudyNames(location);
        return names.Count switch
        {
            0 => throw new HetQException($"{location}: no study in this database"),
            1 => names[0],
            _ => throw new HetQException($"{location}: several studies ({string.Join(", ", names)}); name one with --name"),
        };
    }

    internal static void PrintTable(IReadOnlyList<TrialRecord> trials, string metric, int top)
    {
        var rows = trials.OrderByDescending(t => t.Score ?? double.NegativeInfinity).Take(top).ToList();
        Console.WriteLine($"{"trial",6} {"kind",-22} {"state",-8} {"val_acc",8} {metric,14} {"score",8}  quantizers");
        foreach (var t in rows)
        {
            string q = string.Join(" ", t.Choice.Select(kv => $"{kv.Key}={kv.Value}"));
            string kind = t.Parent is { } parent ? $"{t.KindName} r{t.Rung}<#{parent}" : t.Rung > 0 ? $"{t.KindName} r{t.Rung}" : t.KindName;
            Console.WriteLine($"{t.Number,6} {kind,-22} {t.State.Name(),-8} {(t.Accuracy is { } a ? a.ToString("P2") : "-"),8} {(t.Cost is { } c ? c.ToString("N0") : "-"),14} {(t.Score is { } s ? s.ToString("F4") : "-"),8}  {q}");
            if (t.Error is { } e) Console.WriteLine($"{"",6} {e}");
        }
    }
}
