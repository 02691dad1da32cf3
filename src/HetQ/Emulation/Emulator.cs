using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using HetQ.Graph;
using HetQ.Numerics;
using HetQ.Quantization;

namespace HetQ.Emulation;

/// <summary>Runs an <see cref="IntegerGraph"/> with integer arithmetic: the executable definition of every op,
/// bit-exact by construction. Samples are independent, so batches are split across threads.</summary>
public sealed partial class Emulator
{
    public IntegerGraph Graph { get; }
    private readonly Kernel[] _kernels;
    private readonly int[] _sizes;
    private readonly InputQuantizer _input;
    private readonly ElementInputQuantizer? _inputs;

    private readonly long _memoryLimit;

    /// <summary>Samples that each kernel call processes.</summary>
    private const int Block = 32;

    /// <summary>Samples in each thread's block of node codes (for <see cref="EmulationMemory"/>).</summary>
    internal const int BlockSamples = Block;

    /// <summary>An emulator of <paramref name="graph"/>; its memory (<see cref="EmulationMemory"/>) is checked first, and
    /// again before every run, against <paramref name="memoryLimit"/> bytes (default: what this process may still use).</summary>
    public Emulator(IntegerGraph graph, long? memoryLimit = null)
    {
        Graph = graph;
        _memoryLimit = memoryLimit ?? EmulationMemory.Available();
        EmulationMemory.Estimate(graph, 0, 1).Check(graph.Name, _memoryLimit);
        _sizes = graph.Nodes.Select(n => n.Output.Size).ToArray();
        _kernels = graph.Nodes.Select((n, i) => Kernel.Create(graph, i)).ToArray();
        var inputOp = (InputOp)graph.Nodes[0].Op;
        _input = new InputQuantizer(inputOp.Format);
        if (inputOp.Elements is not null)
        {
            _inputs = new ElementInputQuantizer(inputOp);
            if (_inputs.Size != _sizes[0]) throw new HetQException($"input: {_inputs.Size} element formats for {_sizes[0]} elements");
        }
    }

    public int InputSize => _sizes[0];
    public int OutputSize => _sizes[^1];
    public FixedType OutputType => Graph.Output.Output.Type;

    /// <summary>Raw output codes [n × OutputSize] for float inputs [n × InputSize].</summary>
    public long[] Run(ReadOnlySpan<float> inputs, int threads = 2)
    {
        if (inputs.Length % InputSize != 0) throw new ArgumentException($"input length {inputs.Length} is not a multiple of {InputSize}");
        int n = inputs.Length / InputSize;
        EmulationMemory.Estimate(Graph, n, threads).Check(Graph.Name, _memoryLimit);
        var output = new long[n * OutputSize];
        float[] x = inputs.ToArray();
        int chunk = Math.Max(64, (n + threads * 8 - 1) / (threads * 8));
        int chunks = (n + chunk - 1) / chunk;
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, () => Buffers(), (c, _, buf) =>
        {
            int lo = c * chunk, hi = Math.Min(n, lo + chunk);
            for (int s = lo; s < hi; s += Block)
            {
                int count = Math.Min(Block, hi - s);
                RunBlock(x.AsSpan(s * InputSize, count * InputSize), count, buf, output.AsSpan(s * OutputSize, count * OutputSize));
            }
            return buf;
        }, _ => { });
        return output;
    }

    /// <summary>Every node's raw codes for float inputs [n × InputSize]: element k is node k's output,
    /// [n × size_k] (the counterpart of hls4ml's trace; single-threaded, meant for a few samples).</summary>
    public long[][] Trace(ReadOnlySpan<float> inputs)
    {
        if (inputs.Length % InputSize != 0) throw new ArgumentException($"input length {inputs.Length} is not a multiple of {InputSize}");
        int n = inputs.Length / InputSize;
        EmulationMemory.Estimate(Graph, n, 1, trace: true).Check(Graph.Name, _memoryLimit);
        var all = _sizes.Select(size => new long[n * size]).ToArray();
        var buf = Buffers();
        for (int s = 0; s < n; s += Block)
        {
            int count = Math.Min(Block, n - s);
            RunBlock(inputs.Slice(s * InputSize, count * InputSize), count, buf, new long[count * OutputSize]);
            for (int k = 0; k < _sizes.Length; k++) buf[k].AsSpan(0, count * _sizes[k]).CopyTo(all[k].AsSpan(s * _sizes[k]));
        }
        return all;
    }

    /// <summary>The value of each output code.</summary>
    public double[] Values(long[] raw) => raw.Select(r => FixedPoint.FromRaw(r, OutputType)).ToArray();

    private long[][] Buffers() => _sizes.Select(s => new long[s * Block]).ToArray();

    private void RunBlock(ReadOnlySpan<float> x, int count, long[][] buf, Span<long> output)
    {
        var b0 = buf[0];
        if (_inputs is { } pe)
            for (int i = 0; i < x.Length; i++) b0[i] = pe.Apply(i % pe.Size, x[i]);
        else
            for (int i = 0; i < x.Length; i++) b0[i] = _input.Apply(x[i]);
        for (int k = 1; k < _kernels.Length; k++)
        {
            var kernel = _kernels[k];
            for (int s = 0; s < count; s++) kernel.Run(buf, k, s);
        }
        buf[^1].AsSpan(0, count * OutputSize).CopyTo(output);
    }

    /// <summary>The emulation of one node for sample <c>s</c> of a block: node k's codes for that sample are
    /// buf[k][s·size_k .. (s+1)·size_k).</summary>
    private abstract class Kernel
    {
        public int[] Sizes { get; set; } = Array.Empty<int>();

        public abstract void Run(long[][] buf, int self, int s);

        protected Span<long> At(long[][] buf, int node, int s) => buf[node].AsSpan(s * Sizes[node], Sizes[node]);

        public static Kernel Create(IntegerGraph g, int i)
        {
            var node = g.Nodes[i];
            var inputs = node.Inputs;
            TensorType In(int j) => g.Nodes[inputs[j]].Output;
            // the op contract says which ops requantize and which take per-element formats
            var rq = node.Op.Requantized;
            if (rq?.Elements is { } el && el.Count != node.Output.Size)
                throw new HetQException($"node '{node.Name}': {el.Count} element formats for {node.Output.Size} elements");
            if (rq?.Elements is not null && !node.Op.ElementFormats)
                throw new HetQException($"node '{node.Name}': per-element formats on {node.Op.Name} are not supported");
            var kernel = CreateCore(g, node, inputs, In);
            kernel.Sizes = g.Nodes.Select(n => n.Output.Size).ToArray();
            return kernel;
        }

        private static Kernel CreateCore(IntegerGraph g, GraphNode node, int[] inputs, Func<int, TensorType> In) =>
            node.Op.Accept(new Factory(g, inputs, In));
    }

    /// <summary>The kernel of each op: the one dispatch of the emulator over ops.</summary>
    private sealed class Factory(IntegerGraph g, int[] inputs, Func<int, TensorType> input) : IOpVisitor<Kernel>
    {
        public Kernel Visit(InputOp op) => new Nop();
        public Kernel Visit(DenseOp op) => new DenseKernel(op, inputs[0], input(0).Type);
        public Kernel Visit(ConvOp op) => new ConvKernel(op, inputs[0], input(0).Type);
        public Kernel Visit(DepthwiseConvOp op) => new DepthwiseKernel(op, inputs[0], input(0).Type);
        public Kernel Visit(MaxPoolOp op) => new MaxPoolKernel(op.Window, inputs[0]);
        public Kernel Visit(AvgPoolOp op) => new AvgPoolKernel(op, inputs[0]);
        public Kernel Visit(FlattenOp op) => new CopyKernel(inputs[0]);
        public Kernel Visit(AddOp op) => new AddKernel(op, inputs, inputs.Select(j => g.Nodes[j].Output.Type).ToArray());
        public Kernel Visit(RequantOp op) => new RequantKernel(new Requantizer(op.Output, input(0).Type.FractionalBits), inputs[0], ElementRequantizer.For(op.Output, input(0).Type.FractionalBits));
        public Kernel Visit(ReconstructionErrorOp op) => new ReconstructionErrorKernel(op, inputs[0], input(0).Type, inputs[1], input(1).Type);
        public Kernel Visit(ClipOp op) => new ClipKernel(op, new Requantizer(op.Output, input(0).Type.FractionalBits), inputs[0]);
    }

    /// <summary>Weights and biases shifted to the accumulator's fractional bits (products x·w then add without
    /// further alignment), and the requantizer of the accumulator.</summary>
    private static (long[] W, long[] B, Requantizer Rq) Aligned(long[] weights, FixedType weightType, long[]? bias, FixedType? biasType,
        FixedType acc, Requantization output, FixedType inType, int outputs)
    {
        int shift = acc.FractionalBits - inType.FractionalBits - weightType.FractionalBits;
        var w = weights.Select(v => v << shift).ToArray();
        var b = new long[outputs];
        if (bias is not null) for (int j = 0; j < outputs; j++) b[j] = bias[j] << (acc.FractionalBits - biasType!.Value.FractionalBits);
        return (w, b, new Requantizer(output, acc.FractionalBits));
    }

    private sealed class Nop : Kernel
    {
        public override void Run(long[][] buf, int self, int s) { }
    }

    private sealed class CopyKernel(int input) : Kernel
    {
        public override void Run(long[][] buf, int self, int s) => At(buf, input, s).CopyTo(At(buf, self, s));
    }

    private sealed class RequantKernel(Requantizer rq, int input, ElementRequantizer? erq) : Kernel
    {
        public override void Run(long[][] buf, int self, int s)
        {
            var x = At(buf, input, s);
            var y = At(buf, self, s);
            if (erq is not null)
            {
                for (int i = 0; i < y.Length; i++) y[i] = erq.Apply(i, x[i]);
                return;
            }
            for (int i = 0; i < y.Length; i++) y[i] = rq.Apply(x[i]);
        }
    }

    private sealed class ClipKernel(ClipOp op, Requantizer rq, int input) : Kernel
    {
        public override void Run(long[][] buf, int self, int s)
        {
            var x = At(buf, input, s);
            var y = At(buf, self, s);
            for (int i = 0; i < y.Length; i++) y[i] = rq.Apply(Math.Clamp(x[i], op.Lo, op.Hi));
        }
    }

    /// <summary>Σ x·w with weights pre-shifted to the accumulator's fractional bits; int32 SIMD lanes when the
    /// accumulator fits 31 bits (wrap-around partial sums are then still exact), else int64.</summary>
    private sealed class DenseKernel : Kernel
    {
        private readonly int _in, _out, _input, _outPadded;
        private readonly long[] _w, _b;
        private readonly int[]? _w32, _b32;
        private readonly Requantizer _rq;
        private readonly ElementRequantizer? _erq;

        public DenseKernel(DenseOp d, int input, FixedType inType)
        {
            _in = d.In;
            _out = d.Out;
            _input = input;
            (_w, _b, _rq) = Aligned(d.Weights, d.WeightType, d.Bias, d.BiasType, d.AccType, d.Output, inType, _out);
            _erq = ElementRequantizer.For(d.Output, d.AccType.FractionalBits);
            _outPadded = (_out + 7) / 8 * 8;
            if (d.AccType.Width <= 31 && inType.Width <= 31 && Vector256.IsHardwareAccelerated)
            {
                _w32 = new int[_in * _outPadded];
                for (int i = 0; i < _in; i++)
                    for (int j = 0; j < _out; j++) _w32[i * _outPadded + j] = unchecked((int)_w[i * _out + j]);
                _b32 = new int[_outPadded];
                for (int j = 0; j < _out; j++) _b32[j] = unchecked((int)_b[j]);
            }
        }

        public override void Run(long[][] buf, int self, int s)
        {
            var x = At(buf, _input, s);
            var y = At(buf, self, s);
            if (_w32 is not null)
            {
                Span<int> xi = stackalloc int[_in];
                for (int i = 0; i < _in; i++) xi[i] = (int)x[i];
                Span<int> acc = stackalloc int[_outPadded];
                ref int wRef = ref MemoryMarshal.GetArrayDataReference(_w32);
                ref int bRef = ref MemoryMarshal.GetArrayDataReference(_b32!);
                // Up to 32 outputs at a time in four vector registers.
                for (int j0 = 0; j0 < _outPadded; j0 += 32)
                {
                    int vectors = Math.Min(4, (_outPadded - j0) / 8);
                    var a0 = Vector256.LoadUnsafe(ref bRef, (nuint)j0);
                    var a1 = vectors > 1 ? Vector256.LoadUnsafe(ref bRef, (nuint)(j0 + 8)) : default;
                    var a2 = vectors > 2 ? Vector256.LoadUnsafe(ref bRef, (nuint)(j0 + 16)) : default;
                    var a3 = vectors > 3 ? Vector256.LoadUnsafe(ref bRef, (nuint)(j0 + 24)) : default;
                    nuint row = (nuint)j0;
                    for (int i = 0; i < _in; i++, row += (nuint)_outPadded)
                    {
                        var xv = Vector256.Create(xi[i]);
                        a0 += xv * Vector256.LoadUnsafe(ref wRef, row);
                        if (vectors > 1) a1 += xv * Vector256.LoadUnsafe(ref wRef, row + 8);
                        if (vectors > 2) a2 += xv * Vector256.LoadUnsafe(ref wRef, row + 16);
                        if (vectors > 3) a3 += xv * Vector256.LoadUnsafe(ref wRef, row + 24);
                    }
                    if (_rq.Vectorizable && _erq is null)
                    {
                        a0 = _rq.Apply(a0);
                        a1 = _rq.Apply(a1);
                        a2 = _rq.Apply(a2);
                        a3 = _rq.Apply(a3);
                    }
                    a0.CopyTo(acc.Slice(j0, 8));
                    if (vectors > 1) a1.CopyTo(acc.Slice(j0 + 8, 8));
                    if (vectors > 2) a2.CopyTo(acc.Slice(j0 + 16, 8));
                    if (vectors > 3) a3.CopyTo(acc.Slice(j0 + 24, 8));
                }
                if (_erq is not null)
                    for (int j = 0; j < _out; j++) y[j] = _erq.Apply(j, acc[j]);
                else if (_rq.Vectorizable)
                    for (int j = 0; j < _out; j++) y[j] = acc[j];
                else
                    for (int j = 0; j < _out; j++) y[j] = _rq.Apply(acc[j]);
                return;
            }
            for (int j = 0; j < _out; j++)
            {
                long sum = _b[j];
                for (int i = 0; i < _in; i++) sum += x[i] * _w[i * _out + j];
                y[j] = _erq is not null ? _erq.Apply(j, sum) : _rq.Apply(sum);
            }
        }
    }

    /// <summary>Convolution: at each output position, the taps inside the input (<see cref="Window.TapTable"/>, built
    /// once) times the kernel's [C, F] slice of each tap.</summary>
    private sealed class ConvKernel : Kernel
    {
        private readonly int _input, _c, _f;
        private readonly long[] _w, _b;
        private readonly (int Pixel, int Tap)[][] _taps;
        private readonly Requantizer _rq;

        public ConvKernel(ConvOp c, int input, FixedType inType)
        {
            _input = input;
            _c = c.Window.Channels;
            _f = c.Filters;
            _taps = c.Window.TapTable();
            (_w, _b, _rq) = Aligned(c.Weights, c.WeightType, c.Bias, c.BiasType, c.AccType, c.Output, inType, c.Filters);
            _erq = ElementRequantizer.For(c.Output, c.AccType.FractionalBits);
        }

        private readonly ElementRequantizer? _erq;

        public override void Run(long[][] buf, int self, int s)
        {
            var x = At(buf, _input, s);
            var y = At(buf, self, s);
            int f = _f, c = _c;
            Span<long> acc = stackalloc long[f];
            for (int p = 0; p < _taps.Length; p++)
            {
                _b.AsSpan().CopyTo(acc);
                foreach (var (pixel, tap) in _taps[p])
                {
                    int xo = pixel * c, wo = tap * c * f;
                    for (int ci = 0; ci < c; ci++)
                    {
                        long xv = x[xo + ci];
                        if (xv == 0) continue;
                        for (int j = 0; j < f; j++) acc[j] += xv * _w[wo + ci * f + j];
                    }
                }
                int yo = p * f;
                for (int j = 0; j < f; j++) y[yo + j] = _erq is not null ? _erq.Apply(yo + j, acc[j]) : _rq.Apply(acc[j]);
            }
        }
    }

    private sealed class DepthwiseKernel : Kernel
    {
        private readonly int _input, _c, _m;
        private readonly long[] _w, _b;
        private readonly (int Pixel, int Tap)[][] _taps;
        private readonly Requantizer _rq;

        public DepthwiseKernel(DepthwiseConvOp d, int input, FixedType inType)
        {
            _input = input;
            _c = d.Window.Channels;
            _m = d.Multiplier;
            _taps = d.Window.TapTable();
            (_w, _b, _rq) = Aligned(d.Weights, d.WeightType, d.Bias, d.BiasType, d.AccType, d.Output, inType, d.OutChannels);
            _erq = ElementRequantizer.For(d.Output, d.AccType.FractionalBits);
        }

        private readonly ElementRequantizer? _erq;

        public override void Run(long[][] buf, int self, int s)
        {
            var x = At(buf, _input, s);
            var y = At(buf, self, s);
            int c = _c, m = _m, oc = c * m;
            Span<long> acc = stackalloc long[oc];
            for (int p = 0; p < _taps.Length; p++)
            {
                _b.AsSpan().CopyTo(acc);
                foreach (var (pixel, tap) in _taps[p])
                {
                    int xo = pixel * c, wo = tap * oc;
                    for (int ci = 0; ci < c; ci++)
                        for (int mi = 0; mi < m; mi++) acc[ci * m + mi] += x[xo + ci] * _w[wo + ci * m + mi];
                }
                int yo = p * oc;
                for (int j = 0; j < oc; j++) y[yo + j] = _erq is not null ? _erq.Apply(yo + j, acc[j]) : _rq.Apply(acc[j]);
            }
        }
    }

    private sealed class MaxPoolKernel(Window g, int input) : Kernel
    {
        public override void Run(long[][] buf, int self, int s)
        {
            var x = At(buf, input, s);
            var y = At(buf, self, s);
            int c = g.Channels;
            for (int oy = 0; oy < g.OutH; oy++)
                for (int ox = 0; ox < g.OutW; ox++)
                {
                    var (y0, y1, x0, x1) = g.Clip(oy, ox);
                    for (int ch = 0; ch < c; ch++)
                    {
                        long best = long.MinValue;
                        for (int iy = y0; iy < y1; iy++)
                            for (int ix = x0; ix < x1; ix++) best = Math.Max(best, x[(iy * g.InW + ix) * c + ch]);
                        y[(oy * g.OutW + ox) * c + ch] = best;
                    }
                }
        }
    }

    /// <summary>Average pooling: the sum over the window (never padded: the freezer refuses padding), requantized.</summary>
    private sealed class AvgPoolKernel(AvgPoolOp op, int input) : Kernel
    {
        private readonly Requantizer _rq = new(op.Output, op.SumType.FractionalBits);

        public override void Run(long[][] buf, int self, int s)
        {
            var x = At(buf, input, s);
            var y = At(buf, self, s);
            var g = op.Window;
            int c = g.Channels;
            for (int oy = 0; oy < g.OutH; oy++)
                for (int ox = 0; ox < g.OutW; ox++)
                {
                    var (y0, y1, x0, x1) = g.Clip(oy, ox);
                    for (int ch = 0; ch < c; ch++)
                    {
                        long sum = 0;
                        for (int iy = y0; iy < y1; iy++)
                            for (int ix = x0; ix < x1; ix++) sum += x[(iy * g.InW + ix) * c + ch];
                        y[(oy * g.OutW + ox) * c + ch] = _rq.Apply(sum);
                    }
                }
        }
    }

    private sealed class AddKernel : Kernel
    {
        private readonly int[] _inputs, _shifts;
        private readonly Requantizer _rq;

        public AddKernel(AddOp a, int[] inputs, FixedType[] types)
        {
            _inputs = inputs;
            _shifts = types.Select(t => a.SumType.FractionalBits - t.FractionalBits).ToArray();
            _rq = new Requantizer(a.Output, a.SumType.FractionalBits);
        }

        public override void Run(long[][] buf, int self, int s)
        {
            var y = At(buf, self, s);
            for (int i = 0; i < y.Length; i++)
            {
                long sum = 0;
                for (int k = 0; k < _inputs.Length; k++) sum += At(buf, _inputs[k], s)[i] << _shifts[k];
                y[i] = _rq.Apply(sum);
            }
        }
    }
}
