using System.Numerics;
using System.Runtime.InteropServices;

namespace HetQ.Hardware;

/// <summary>The rows of a weight matrix whose inputs are wires (the key of a decomposition: every window position with
/// the same rows in the padding shares one), compared by value.</summary>
internal readonly struct RowSet(int[] rows) : IEquatable<RowSet>
{
    private readonly int[] _rows = rows;

    public bool Equals(RowSet other) => _rows.AsSpan().SequenceEqual(other._rows);

    public override bool Equals(object? obj) => obj is RowSet r && Equals(r);

    public override int GetHashCode()
    {
        var h = new HashCode();
        h.AddBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(_rows.AsSpan()));
        return h.ToHashCode();
    }
}

/// <summary>How the sums of a constant weight matrix are built.</summary>
public enum Sharing
{
    /// <summary>Every output on its own: the canonical signed digits of its weights summed by a balanced adder tree.</summary>
    None,

    /// <summary>Partial sums shared across the outputs of a weight matrix (greedy common-subexpression elimination on
    /// the canonical signed digits, as in da4ml), then per-output adder trees over what is left.</summary>
    Cse,
}

/// <summary>A shared adder: node value = value(<see cref="A"/>) + <see cref="Sign"/> · value(<see cref="B"/>) · 2^<see cref="Shift"/>.
/// Nodes 0 .. inputs-1 are the inputs; the adder at index i is node inputs + i.</summary>
internal readonly record struct SharedAdder(int A, int B, int Shift, int Sign);

/// <summary>One term of an output: <see cref="Sign"/> · value(<see cref="Node"/>) · 2^<see cref="Position"/>.</summary>
internal readonly record struct SignedDigit(int Node, int Position, int Sign);

/// <summary>A constant matrix y_j = Σ_i W[i, j] · x_i written as shared adders and, per output, the terms left to sum.
/// <see cref="Depths"/>[node] is the adder depth of each node (inputs 0); <see cref="Depth"/> bounds the depth of every
/// output once its terms are summed by a tree that adds the shallowest terms first.</summary>
internal sealed record MatrixDecomposition(int Inputs, IReadOnlyList<SharedAdder> Adders, IReadOnlyList<IReadOnlyList<SignedDigit>> Columns, IReadOnlyList<int> Depths, int Depth)
{
    /// <summary>Adders of the per-output trees: one fewer than the terms of each output.</summary>
    public int TreeAdders => Columns.Sum(c => Math.Max(0, c.Count - 1));

    /// <summary>The adder depth of a tree over terms of these depths that adds the shallowest two first: ⌈log2 Σ 2^d⌉.</summary>
    public static int TreeDepth(IEnumerable<int> depths)
    {
        long sum = depths.Sum(d => 1L << d);
        return sum <= 1 ? 0 : (int)(64 - BitOperations.LeadingZeroCount((ulong)(sum - 1)));
    }
}

/// <summary>Greedy common-subexpression elimination on the canonical signed digits of a constant matrix (the second
/// stage of da4ml's CMVM algorithm): repeatedly the most frequent pair of digits (node a, node b, relative shift,
/// relative sign) across the outputs becomes one shared adder, substituted wherever it occurs, until no pair occurs
/// twice. A pair is used in an output only while that output's tree stays within the depth bound, so sharing never
/// deepens the logic beyond the plain trees' depth plus <c>extraDepth</c>.</summary>
internal static class ConstantMatrix
{
    /// <summary>A pair of digits: node a's, and node b's <see cref="Shift"/> positions higher, with sign = sign_a · sign_b.</summary>
    private readonly record struct Pattern(int A, int B, int Shift, int Sign);

    /// <summary>The decomposition of the matrix with <paramref name="rows"/> inputs and <paramref name="cols"/> outputs;
    /// <paramref name="extraDepth"/> is how many adder levels sharing may add to the plain trees' depth.</summary>
    public static MatrixDecomposition Decompose(int rows, int cols, Func<int, int, long> weight, bool share = true, int extraDepth = 0)
    {
        var columns = new Dictionary<(int Node, int Position), int>[cols];
        for (int j = 0; j < cols; j++)
        {
            columns[j] = new Dictionary<(int, int), int>();
            for (int i = 0; i < rows; i++)
                foreach (var (d, k) in Arithmetic.Csd(weight(i, j)))
                    columns[j][(i, k)] = d;
        }
        var depths = Enumerable.Repeat(0, rows).ToList();
        int plain = columns.Length == 0 ? 0 : columns.Max(c => MatrixDecomposition.TreeDepth(c.Select(_ => 0)));
        int bound = Math.Min(plain + Math.Max(0, extraDepth), 40);
        var adders = new List<SharedAdder>();
        if (share)
        {
            var columnWeight = columns.Select(c => (long)c.Count).ToArray(); // Σ 2^depth of each column's terms: its tree depth is ⌈log2⌉ of it
            var blocks = Blocks(columns, rows);
            if (blocks.Count == 1) Share(columns, depths, adders, bound, columnWeight);
            else
            {
                // each block's columns: the digits of its rows (and, after sharing, the shared adders built over them)
                var split = blocks.Select(_ => Enumerable.Range(0, cols).Select(_ => new Dictionary<(int, int), int>()).ToArray()).ToArray();
                var blockOf = new int[rows];
                for (int b = 0; b < blocks.Count; b++)
                    for (int i = blocks[b].First; i < blocks[b].First + blocks[b].Count; i++) blockOf[i] = b;
                for (int j = 0; j < cols; j++)
                    foreach (var (key, sign) in columns[j]) split[blockOf[key.Node]][j][key] = sign;
                foreach (var block in split) Share(block, depths, adders, bound, columnWeight);
                for (int j = 0; j < cols; j++)
                {
                    columns[j].Clear();
                    foreach (var block in split)
                        foreach (var (key, sign) in block[j]) columns[j][key] = sign;
                }
            }
        }
        var result = columns.Select(c => (IReadOnlyList<SignedDigit>)c.Select(e => new SignedDigit(e.Key.Node, e.Key.Position, e.Value))
            .OrderBy(d => d.Position).ThenBy(d => d.Node).ToList()).ToList();
        int depth = result.Count == 0 ? 0 : result.Max(c => MatrixDecomposition.TreeDepth(c.Select(d => depths[d.Node])));
        return new MatrixDecomposition(rows, adders, result, depths, depth);
    }

    /// <summary>Pairs of digits that sharing examines at most (summed over the columns); a larger matrix is shared in
    /// blocks of consecutive rows, each under this budget, so that its time stays linear in the matrix's size (the
    /// 784x64 layer of a Fashion-MNIST MLP has 46 M pairs at 4 bits, about 400 M at 16).</summary>
    internal const long PairBudget = 500_000;

    /// <summary>Consecutive row ranges (first row, count) whose pairs of digits fit <see cref="PairBudget"/>: one range
    /// of every row when the whole matrix fits (the common case, unchanged from sharing over the whole matrix).</summary>
    private static List<(int First, int Count)> Blocks(Dictionary<(int Node, int Position), int>[] columns, int rows)
    {
        long pairs = columns.Sum(c => (long)c.Count * (c.Count - 1) / 2);
        if (pairs <= PairBudget || rows <= 1) return [(0, rows)];
        // pairs within a block scale as the square of its share of the rows, so B blocks hold about pairs / B in all
        int n = (int)Math.Min(rows, (pairs + PairBudget - 1) / PairBudget);
        var blocks = new List<(int, int)>(n);
        for (int b = 0; b < n; b++)
        {
            int first = (int)((long)b * rows / n), next = (int)((long)(b + 1) * rows / n);
            if (next > first) blocks.Add((first, next - first));
        }
        return blocks;
    }

    private static void Share(Dictionary<(int Node, int Position), int>[] columns, List<int> depths, List<SharedAdder> adders, int bound, long[] weight)
    {
        // sized for every pair up front (the budget bounds it), so counting never rehashes
        var counts = new Dictionary<long, int>((int)Math.Min(PairBudget, columns.Sum(c => (long)c.Count * (c.Count - 1) / 2)));
        var digits = new List<KeyValuePair<(int Node, int Position), int>>();
        for (int j = 0; j < columns.Length; j++)
        {
            digits.Clear();
            digits.AddRange(columns[j]);
            for (int p = 0; p < digits.Count; p++)
                for (int q = p + 1; q < digits.Count; q++)
                {
                    long key = Key(digits[p].Key, digits[p].Value, digits[q].Key, digits[q].Value);
                    ref int n = ref CollectionsMarshal.GetValueRefOrAddDefault(counts, key, out _);
                    n++;
                }
        }
        // each column's digit positions by node, so that a pattern's occurrences are found without a scan
        var byNode = new Dictionary<int, List<int>>[columns.Length];
        for (int j = 0; j < columns.Length; j++)
        {
            byNode[j] = new Dictionary<int, List<int>>();
            foreach (var (n, pos) in columns[j].Keys) Positions(byNode[j], n).Add(pos);
        }
        // Lazy priorities: counts of existing patterns only fall, so an entry whose count is stale is pushed again with
        // its current count when it comes up; the entry taken is therefore always the true maximum.
        var heap = new PriorityQueue<long, UInt128>();
        foreach (var (key, n) in counts) if (n >= 2) Push(heap, key, n, depths);
        var blocked = new HashSet<long>();
        var added = new HashSet<long>();
        var used = new HashSet<(int, int)>();
        var positions = new List<int>();
        var uses = new List<(int Column, int Position, int Sign)>();
        var planned = new long[columns.Length];
        long limit = 1L << bound;
        while (heap.TryDequeue(out long key, out var priority))
        {
            int count = counts.GetValueOrDefault(key);
            if (count < 2 || blocked.Contains(key)) continue;
            if (count != Count(priority))
            {
                Push(heap, key, count, depths);
                continue;
            }
            var pattern = Unpack(key);
            int node = depths.Count, depth = Math.Max(depths[pattern.A], depths[pattern.B]) + 1;
            long grow = (1L << depth) - (1L << depths[pattern.A]) - (1L << depths[pattern.B]);
            foreach (var u in uses) planned[u.Column] = 0; // only the columns the last pattern planned in are nonzero
            uses.Clear();
            for (int j = 0; j < columns.Length; j++)
            {
                var c = columns[j];
                if (!byNode[j].TryGetValue(pattern.A, out var at) || at.Count == 0) continue;
                used.Clear();
                positions.Clear();
                positions.AddRange(at);
                positions.Sort();
                foreach (int pos in positions)
                {
                    int sign = c[(pattern.A, pos)];
                    var other = (pattern.B, pos + pattern.Shift);
                    if (!c.TryGetValue(other, out int s2) || s2 * sign != pattern.Sign) continue;
                    if (used.Contains((pattern.A, pos)) || used.Contains(other)) continue;
                    if (weight[j] + planned[j] + grow > limit) continue;
                    used.Add((pattern.A, pos));
                    used.Add(other);
                    planned[j] += grow;
                    uses.Add((j, pos, sign));
                }
            }
            if (uses.Count < 2)
            {
                blocked.Add(key); // occurrences only disappear and columns only deepen: it can never become usable
                continue;
            }
            adders.Add(new SharedAdder(pattern.A, pattern.B, pattern.Shift, pattern.Sign));
            depths.Add(depth);
            added.Clear();
            foreach (var (j, pos, sign) in uses)
            {
                var c = columns[j];
                var first = (pattern.A, pos);
                var second = (pattern.B, pos + pattern.Shift);
                int s2 = c[second];
                c.Remove(first);
                c.Remove(second);
                byNode[j][first.A].Remove(first.pos);
                byNode[j][second.B].Remove(second.Item2);
                Adjust(counts, Key(first, sign, second, s2), -1);
                foreach (var (other, os) in c)
                {
                    Adjust(counts, Key(first, sign, other, os), -1);
                    Adjust(counts, Key(second, s2, other, os), -1);
                }
                var sum = (node, pos);
                foreach (var (other, os) in c)
                {
                    long k = Key(sum, sign, other, os);
                    Adjust(counts, k, +1);
                    added.Add(k);
                }
                c[sum] = sign;
                Positions(byNode[j], node).Add(pos);
                weight[j] += grow;
            }
            if (counts.GetValueOrDefault(key) >= 2) Push(heap, key, counts[key], depths); // occurrences the depth bound left
            foreach (long k in added)
                if (counts.GetValueOrDefault(k) >= 2) Push(heap, k, counts[k], depths);
        }
    }

    private static List<int> Positions(Dictionary<int, List<int>> byNode, int node)
    {
        if (!byNode.TryGetValue(node, out var list)) byNode[node] = list = new List<int>(2);
        return list;
    }

    /// <summary>Most frequent first; then the shallower new node; then a fixed order (a, b, shift, sign), so the result
    /// never varies: the priority is (max - count, depth, key) in one 128-bit number, smallest first.</summary>
    private static void Push(PriorityQueue<long, UInt128> heap, long key, int count, List<int> depths)
    {
        var p = Unpack(key);
        ulong high = ((ulong)(uint)(int.MaxValue - count) << 32) | (uint)Math.Max(depths[p.A], depths[p.B]);
        heap.Enqueue(key, new UInt128(high, (ulong)key));
    }

    private static int Count(UInt128 priority) => int.MaxValue - (int)(uint)((ulong)(priority >> 64) >> 32);

    /// <summary>Adds <paramref name="delta"/> to a pair's count; a count that falls to 0 stays as 0 (the counts are read
    /// by key only after the heap is filled, and 0 reads as absent), which spares removing and adding it again.</summary>
    private static void Adjust(Dictionary<long, int> counts, long key, int delta)
    {
        ref int n = ref CollectionsMarshal.GetValueRefOrAddDefault(counts, key, out _);
        n += delta;
    }

    /// <summary>Pair key of (a, b, shift, sign) with a's digit the lower one (then the lower node) and sign = sign_a ·
    /// sign_b, packed as a (25 bits), b (25 bits), shift (12 bits), sign (1 bit) so that keys order as the tuples do.</summary>
    private static long Key((int Node, int Position) x, int sx, (int Node, int Position) y, int sy)
    {
        if (y.Position < x.Position || (y.Position == x.Position && y.Node < x.Node)) (x, sx, y, sy) = (y, sy, x, sx);
        return ((long)x.Node << 38) | ((long)y.Node << 13) | ((long)(y.Position - x.Position) << 1) | (sx * sy > 0 ? 1L : 0L);
    }

    private static Pattern Unpack(long key) =>
        new((int)(key >> 38), (int)((key >> 13) & 0x1FF_FFFF), (int)((key >> 1) & 0xFFF), (key & 1) == 1 ? 1 : -1);

    /// <summary>The outputs Σ_i W[i, j] · x_i · 2^<paramref name="shift"/> + constants[j] of a decomposition over the wires
    /// <paramref name="x"/> (one per row, none constant): each shared adder on the level its depth gives, then per output
    /// a tree adding the shallowest terms first, each adder sized from exact bounds. Returns each output and the level
    /// where its constant is added (the caller requantizes there), as <see cref="Arithmetic.Sum"/> does.</summary>
    public static (Sig Sum, int OutputLevel)[] Sums(Netlist net, string prefix, MatrixDecomposition d, IReadOnlyList<Sig> x, int shift, IReadOnlyList<BigInteger> constants, int level)
    {
        var nodes = new List<Arithmetic.TreeNode>(x.Count + d.Adders.Count);
        foreach (var v in x)
            nodes.Add(new Arithmetic.TreeNode(v, false, Arithmetic.LeafSet.One(v.Origin, v.Lo, v.Hi, BigInteger.One << v.Shift)));
        for (int k = 0; k < d.Adders.Count; k++)
        {
            var a = d.Adders[k];
            var b = Term(nodes[a.B], a.Shift, a.Sign);
            nodes.Add(Arithmetic.Combine(net, prefix, nodes[a.A], b, level + d.Depths[x.Count + k] - 1, 'c'));
        }
        var sums = new (Sig, int)[d.Columns.Count];
        for (int j = 0; j < sums.Length; j++)
        {
            var queue = new PriorityQueue<(Arithmetic.TreeNode Node, int Depth), (int Depth, int Shift, int Order)>();
            int order = 0;
            foreach (var t in d.Columns[j])
            {
                var term = Term(nodes[t.Node], t.Position + shift, t.Sign);
                queue.Enqueue((term, d.Depths[t.Node]), (d.Depths[t.Node], term.Wire.Shift, order++));
            }
            if (queue.Count == 0)
            {
                sums[j] = (Sig.Constant(constants[j]), level);
                continue;
            }
            while (queue.Count > 1)
            {
                var p = queue.Dequeue();
                var q = queue.Dequeue();
                int depth = Math.Max(p.Depth, q.Depth);
                var c = Arithmetic.Combine(net, prefix, p.Node, q.Node, level + depth, 's');
                queue.Enqueue((c, depth + 1), (depth + 1, c.Wire.Shift, order++));
            }
            var (root, rootDepth) = queue.Dequeue();
            sums[j] = (Arithmetic.AddConstant(net, prefix, root, constants[j], level + rootDepth), level + rootDepth);
        }
        return sums;
    }

    /// <summary>sign · node · 2^shift as a tree term (the node's own value is never negated).</summary>
    private static Arithmetic.TreeNode Term(Arithmetic.TreeNode node, int shift, int sign)
    {
        return new Arithmetic.TreeNode(node.Wire with { Shift = node.Wire.Shift + shift }, sign < 0, node.Leaves.Scaled(sign * (BigInteger.One << shift)));
    }

    /// <summary>Each output's value as integer coefficients of the inputs (Σ over its terms), to check a decomposition.</summary>
    public static BigInteger[][] Reconstruct(MatrixDecomposition d)
    {
        var coefs = new List<BigInteger[]>();
        for (int i = 0; i < d.Inputs; i++)
        {
            var v = new BigInteger[d.Inputs];
            v[i] = 1;
            coefs.Add(v);
        }
        foreach (var a in d.Adders)
        {
            var v = new BigInteger[d.Inputs];
            for (int i = 0; i < d.Inputs; i++) v[i] = coefs[a.A][i] + a.Sign * (coefs[a.B][i] << a.Shift);
            coefs.Add(v);
        }
        return d.Columns.Select(c =>
        {
            var y = new BigInteger[d.Inputs];
            foreach (var t in c)
                for (int i = 0; i < d.Inputs; i++) y[i] += t.Sign * (coefs[t.Node][i] << t.Position);
            return y;
        }).ToArray();
    }
}
