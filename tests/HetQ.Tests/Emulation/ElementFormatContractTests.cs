using HetQ.Emulation;
using HetQ.Graph;
using HetQ.Quantization;

namespace HetQ.Tests.Emulation;

/// <summary>Which ops take per-element formats (learned bit widths) is part of the op contract
/// (<see cref="Op.ElementFormats"/>, <see cref="Op.Requantized"/>): the emulator refuses per-element formats on an
/// op that does not take them, naming the node and the op, and accepts them on one that does.</summary>
public sealed class ElementFormatContractTests
{
    private static readonly FixedFormat Code = new(new FixedType(true, 8, 4), Rounding.RND, Overflow.SAT);

    private static IntegerGraph Graph(Op op, FixedFormat?[] elements) => new("t", [
        new GraphNode("input", new InputOp(Code), [], new TensorType([2], Code.Type)),
        new GraphNode("a", new RequantOp(new Requantization(false, Code)), [0], new TensorType([2], Code.Type)),
        new GraphNode("b", op, op is AddOp ? [0, 1] : [1], new TensorType([2], Code.Type, elements.Select(f => f?.Type).ToArray()))], []);

    [Fact]
    public void Per_element_formats_are_refused_on_ops_whose_contract_has_none_and_run_on_those_that_have_them()
    {
        FixedFormat?[] elements = [new FixedFormat(new FixedType(true, 4, 2), Rounding.RND, Overflow.SAT), Code];
        var rq = new Requantization(false, Code, elements);
        var add = new AddOp(new FixedType(true, 9, 4), rq);
        var clip = new ClipOp(-8, 8, rq);
        foreach (var op in new Op[] { add, clip })
        {
            Assert.False(op.ElementFormats);
            var e = Assert.Throws<HetQException>(() => new Emulator(Graph(op, elements)));
            Assert.Equal($"node 'b': per-element formats on {op.Name} are not supported", e.Message);
        }
        var requant = new RequantOp(rq);
        Assert.True(requant.ElementFormats);
        Assert.Same(rq, requant.Requantized);
        // element 0 goes through ap_fixed<4,2>: 0.3 -> 0.25 (code 4 on the common 4 fractional bits); element 1 keeps 0.3 -> 5
        Assert.Equal(new long[] { 4, 5 }, new Emulator(Graph(requant, elements)).Run([0.3f, 0.3f]));
        // a count of element formats other than the elements is refused too
        Assert.Contains("1 element formats for 2 elements", Assert.Throws<HetQException>(() =>
            new Emulator(Graph(new RequantOp(new Requantization(false, Code, [Code])), [Code, Code]))).Message);
    }

    [Fact]
    public void Every_op_that_takes_per_element_formats_requantizes()
    {
        var types = typeof(Op).Assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(Op)) && !t.IsAbstract).ToList();
        Assert.Equal(11, types.Count);
        var rq = new Requantization(false, Code);
        var w = new FixedType(true, 4, 2);
        Op[] ops = [new InputOp(Code), new DenseOp(1, 1, [1], w, null, null, w, rq), new RequantOp(rq), new AddOp(w, rq), new ClipOp(0, 1, rq),
            new FlattenOp(), new ReconstructionErrorOp(true, 0, w)];
        foreach (var op in ops) Assert.True(!op.ElementFormats || op.Requantized is not null, op.Name);
        Assert.Equal(["dense", "requant"], ops.Where(o => o.ElementFormats).Select(o => o.Name));
    }
}
