using HetQ.Search;

namespace HetQ.Tests.Search;

public class StudyStoreTests
{
    private static IReadOnlyDictionary<string, string> Proposal(int i) => new Dictionary<string, string> { ["x"] = i.ToString() };

    [Fact]
    public void Trials_are_claimed_once_and_the_study_completes()
    {
        using var dir = new TempDir();
        using var store = StudyStore.Open(dir.File("s.sqlite"), "s");
        store.Initialize("{}");
        store.QueueBaselines(new[] { ("a", (IReadOnlyDictionary<string, string>)new Dictionary<string, string> { ["x"] = "b" }) });
        var seen = new List<int>();
        while (store.ClaimOrCreate("w:1", 4, 60, all => Proposal(all.Count)) is { } t)
        {
            seen.Add(t.Number);
            Assert.True(store.Complete(t.Number, "w:1", TrialState.Done, 0.5, 10, 0.5, null, null, null, 0.1));
        }
        Assert.Equal(new[] { 0, 1, 2, 3 }, seen);
        var trials = store.Trials();
        Assert.Equal(TrialKind.Baseline, trials[0].Kind);
        Assert.Equal("a", trials[0].Baseline);
        Assert.Equal("baseline:a", trials[0].KindName);
        Assert.All(trials, t => Assert.Equal(1, t.Attempts));
    }

    [Fact]
    public void A_trial_of_a_dead_worker_is_queued_again_and_its_late_result_is_dropped()
    {
        using var dir = new TempDir();
        using var store = StudyStore.Open(dir.File("s.sqlite"), "s");
        store.Initialize("{}");
        var t = store.ClaimOrCreate("otherhost:123", 2, timeoutSeconds: 0.0, all => Proposal(0))!;
        Thread.Sleep(20);
        var again = store.ClaimOrCreate("me:1", 2, timeoutSeconds: 0.0, all => Proposal(1))!;
        Assert.Equal(t.Number, again.Number);
        Assert.Equal(2, again.Attempts);
        Assert.False(store.Complete(t.Number, "otherhost:123", TrialState.Done, 1, 1, 1, null, null, null, 1));
        Assert.True(store.Complete(t.Number, "me:1", TrialState.Done, 1, 1, 1, null, null, null, 1));
    }

    [Fact]
    public void Show_of_a_missing_study_database_is_an_error_naming_it()
    {
        var e = Assert.Throws<HetQException>(() => StudyStore.StudyNames("/nonexistent/dir/x.sqlite"));
        Assert.Contains("x.sqlite", e.Message);
    }
}
