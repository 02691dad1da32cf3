using HetQ.Data;
using HetQ.Nn;
using HetQ.Nn.Layers;
using HetQ.Search;

namespace HetQ.Tests.Safety;

/// <summary>Guards that are not a CLI table row: a diverging training stops at the first non-finite loss naming the
/// epoch, batch and learning rate; a sampler's repeated proposal is replaced by an untried configuration; a catastrophic
/// regular expression cannot hang; the layer-name and Verilog-name rules.</summary>
public sealed class GuardTests
{
    [Fact]
    public void A_non_finite_loss_stops_training_at_once_naming_epoch_batch_and_learning_rate()
    {
        var rng = new Random(1);
        var x = Enumerable.Range(0, 64 * 4).Select(_ => (float)rng.NextDouble()).ToArray();
        var data = new Dataset("tiny", new[] { 4 }, x, Enumerable.Range(0, 64).Select(i => i % 2).ToArray(), 2);
        var model = Model.Build(new[] { 4 }, new List<(Layer, string[]?)> { (new Dense(2) { Name = "out" }, null) }, seed: 1);
        // beta1 = 1 divides by zero in the bias correction: the configuration rejects it, the trainer must still stop
        using var trainer = new Trainer(model, new SoftmaxCrossEntropy(0), new Adam(1e-3, beta1: 1), new TrainOptions(Epochs: 50, BatchSize: 16));
        var e = Assert.Throws<HetQException>(() => trainer.Fit(data, null));
        Assert.Contains("epoch 1, batch 2 of 4", e.Message);
        Assert.Contains("learning rate 0.001", e.Message);
    }

    [Fact]
    public void A_catastrophic_pattern_cannot_hang()
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var re = Names.Pattern("(a+)+b", why => new HetQException(why));
        Assert.DoesNotMatch(re, new string('a', 50_000));
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5), $"{sw.Elapsed}");
        Assert.Throws<HetQException>(() => Names.Pattern("(a)\\1", why => new HetQException(why)));
        Assert.Throws<HetQException>(() => Names.Pattern("(", why => new HetQException(why)));
    }

    private sealed class RepeatingSampler(IReadOnlyDictionary<string, string> always) : ISampler
    {
        public IReadOnlyDictionary<string, string> Propose(SearchSpace space, IReadOnlyList<Observation> history, Random rng) => always;
    }

    [Fact]
    public void A_tried_configuration_is_not_proposed_again_while_an_untried_one_exists()
    {
        var model = Model.Build(new[] { 4 }, new List<(Layer, string[]?)> { (new Dense(3) { Name = "a" }, null), (new Dense(2) { Name = "b" }, null) }, seed: 1);
        var space = SearchSpace.Create(model, null);
        var rng = new Random(3);
        var tried = new List<TrialRecord>();
        var seen = new HashSet<string>();
        var tpe = new TpeSampler(startupTrials: 3);
        int distinct = Math.Min(30, (int)Math.Min(space.Size, 30));
        for (int i = 0; i < distinct; i++)
        {
            var history = tried.Select(t => new Observation(t.Choice, rng.NextDouble())).ToList();
            var c = SearchJob.Untried(tpe, space, history, tried, rng);
            string key = string.Join(",", c.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key + "=" + kv.Value));
            Assert.True(seen.Add(key), $"trial {i} repeats {key}");
            tried.Add(Trial(i, c));
        }
        var fixedChoice = tried[0].Choice;
        var next = SearchJob.Untried(new RepeatingSampler(fixedChoice), space, new List<Observation>(), tried, rng);
        Assert.NotEqual(Key(fixedChoice), Key(next));
    }

    private static string Key(IReadOnlyDictionary<string, string> c) => string.Join(",", c.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key + "=" + kv.Value));

    private static TrialRecord Trial(int n, IReadOnlyDictionary<string, string> choice) =>
        new(n, TrialKind.Search, choice, TrialState.Done, null, 0.5, 1, 0.5, null, null, null, 1, 1, 0, null);

    [Theory]
    [InlineData("fc1", true)]
    [InlineData("_x9", true)]
    [InlineData("9x", false)]
    [InlineData("a b", false)]
    [InlineData("a\nb", false)]
    [InlineData("dense/1", false)]
    [InlineData("", false)]
    public void Layer_names_are_identifiers(string name, bool ok) => Assert.Equal(ok, Names.IsIdentifier(name));

    [Fact]
    public void Verilog_names_refuse_keywords_generated_names_and_line_breaks()
    {
        Assert.Throws<HetQException>(() => HetQ.Hardware.VerilogNames.CheckModule("module", "--top"));
        Assert.Throws<HetQException>(() => HetQ.Hardware.VerilogNames.CheckModule("hetq_tb", "--top"));
        Assert.Equal("hetq_tb_top", HetQ.Hardware.VerilogNames.Top("tb", null));
        Assert.Equal("hetq_digits_qat", HetQ.Hardware.VerilogNames.Top("digits-qat", null));
        Assert.DoesNotContain('\n', HetQ.Hardware.VerilogNames.Comment("a\n$system(\"x\")"));
    }
}
