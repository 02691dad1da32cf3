using System.Numerics;
using HetQ.Quantization;

namespace HetQ.Hardware;

/// <summary>An operand of a cell: the wire of cell <see cref="Cell"/> times 2^<see cref="Shift"/> (a negative shift is an
/// arithmetic right shift), or, when <see cref="Cell"/> is negative, the constant <see cref="Value"/>. A cell reads its
/// operands modulo 2^(its own width), as Verilog does.</summary>
internal readonly record struct Operand(int Cell, int Shift, BigInteger Value)
{
    public bool IsConstant => Cell < 0;

    public static Operand Wire(int cell, int shift) => new(cell, shift, BigInteger.Zero);

    public static Operand Constant(BigInteger value) => new(-1, 0, value);

    /// <summary>value(s) · 2^shift (s's wire shifted; a constant's value shifted).</summary>
    public static Operand Of(Sig s, int shift) => s.IsConstant ? Constant(s.Lo << shift) : Wire(s.Id, shift);
}

/// <summary>What a cell computes, by value: operand cells by id, shifts, constants. Two cells with equal ops and bounds
/// compute the same wire, which is how the netlist shares logic (<see cref="Netlist.Wire"/>).</summary>
internal abstract record CellOp;

/// <summary>Bits [Offset + Width - 1 : Offset] of input port <see cref="Port"/>, signed or not.</summary>
internal sealed record InputCell(string Port, int Offset, int Width, bool Signed) : CellOp;

/// <summary>A two-input adder or subtractor: A + B, or A - B.</summary>
internal sealed record AddCell(Operand A, Operand B, bool Subtract) : CellOp;

/// <summary>An adder of a constant: X + Constant, or Constant - X when <see cref="Negate"/>.</summary>
internal sealed record ConstantAddCell(Operand X, BigInteger Constant, bool Negate) : CellOp;

/// <summary>|X| (a conditional negation, priced as an adder).</summary>
internal sealed record AbsCell(int X) : CellOp;

/// <summary>X shifted right by <see cref="Shift"/> &gt; 0 with <see cref="Rounding"/>: the floor plus one rounding bit.</summary>
internal sealed record RoundCell(int X, int Shift, Rounding Rounding) : CellOp;

/// <summary>Wiring only: X · 2^Shift (right for a negative shift), truncated or sign/zero extended to the cell's width.</summary>
internal sealed record ResizeCell(int X, int Shift) : CellOp;

/// <summary>max(X, 0): a multiplexer on X's sign.</summary>
internal sealed record ReluCell(int X) : CellOp;

/// <summary>Select ? WhenTrue : WhenFalse, with a one-bit select.</summary>
internal sealed record MuxCell(int Select, Operand WhenTrue, Operand WhenFalse) : CellOp;

/// <summary>bit <see cref="Bit"/> of X ? X : 0 (a partial product of X · X).</summary>
internal sealed record GatedCell(int X, int Bit) : CellOp;

/// <summary>v = X · 2^Shift limited to [Low, High]: above High gives High and below Low gives Low, or both give 0
/// (<see cref="ToZero"/>); a null bound is not checked (v cannot pass it).</summary>
internal sealed record SaturateCell(int X, int Shift, BigInteger? High, BigInteger? Low, bool ToZero) : CellOp;

/// <summary>A &gt; B on <see cref="Width"/> bits, signed or not: one bit.</summary>
internal sealed record CompareCell(Operand A, Operand B, int Width, bool Signed) : CellOp;

/// <summary>A register clocked by the module's clock: it takes Source on every clock edge where Enable (a one-bit cell;
/// negative: always) is 1, and 0 on an edge where the synchronous Reset (negative: none) is 1.</summary>
internal sealed record RegisterCell(int Source, int Enable = -1, int Reset = -1) : CellOp;

/// <summary>Bits [Offset + Width - 1 : Offset] of output port <see cref="Port"/> driven by Source (modulo 2^Width).</summary>
internal sealed record OutputCell(string Port, int Offset, int Width, Operand Source) : CellOp;

/// <summary>A counter register 0, 1, ..., Modulus - 1, 0, ...: it advances on an edge where Enable (negative: always)
/// is 1 and returns to 0 on an edge where the synchronous Reset (negative: none) is 1.</summary>
internal sealed record CounterCell(BigInteger Modulus, int Enable = -1, int Reset = -1) : CellOp;

/// <summary>A shift register (a line buffer) of <see cref="Length"/> words: on an edge where Enable (negative: always)
/// is 1 it takes Source in and moves every word one place on; its value is the last word, the Source of
/// <see cref="Length"/> enabled edges before.</summary>
internal sealed record ShiftRegisterCell(int Source, int Length, int Enable = -1) : CellOp;

/// <summary>A read-only memory: Contents[Address] (as many words as the address has codes; read without a clock).</summary>
internal sealed record RomCell(int Address, IReadOnlyList<BigInteger> Contents) : CellOp;

/// <summary>A · B, a multiplier of two wires (the folded dense layers' products; LUTs, or a DSP slice where synthesis
/// may use one).</summary>
internal sealed record MultiplyCell(int A, int B) : CellOp;

/// <summary>X == Value: one bit.</summary>
internal sealed record EqualsCell(Operand X, BigInteger Value) : CellOp;

/// <summary>One-bit logic of handshakes and enables: A and B, A or B, or not A (B unused).</summary>
internal sealed record LogicCell(LogicKind Kind, int A, int B = -1) : CellOp;

internal enum LogicKind { And, Or, Not }

/// <summary>One cell of the netlist: its op, the integer range [<see cref="Lo"/>, <see cref="Hi"/>] its wire holds (the
/// declared width follows), the logic level it sits on (-1 for wiring and state) and the pipeline stage at which it
/// holds the value of a given input vector. Its name is <see cref="Prefix"/>_<see cref="Kind"/><see cref="Number"/>,
/// or <see cref="FixedName"/> when that is given; outputs have no name.</summary>
internal sealed record Cell(int Id, CellOp Op, BigInteger Lo, BigInteger Hi, int Level, int Stage, string Prefix, char Kind, int Number, string? FixedName = null)
{
    public int Width => Netlist.WidthOf(Lo, Hi);

    public bool Signed => Lo < 0;

    public string Name => FixedName ?? Prefix + "_" + Kind + Number.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Whether the cell holds state that a clock edge changes.</summary>
    public bool IsSequential => Op is RegisterCell or CounterCell or ShiftRegisterCell;
}
