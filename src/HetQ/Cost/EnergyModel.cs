namespace HetQ.Cost;

/// <summary>Energy per operation and per memory access, in picojoules: QTools's "horowitz" process (45 nm,
/// M. Horowitz, ISSCC 2014) as qkeras/qtools/config_public.py sets it. The defaults are QTools's values.</summary>
/// <remarks>Fixed-point arithmetic follows qenergy.py: an adder of b bits costs <see cref="AddPerBit"/>·b
/// (fpm_add = [0.003125, 0]); a multiplier of a b_a-bit and a b_w-bit operand costs
/// <see cref="MulQuadratic"/>·g² + <see cref="MulLinear"/>·g with g = √(b_a·b_w) (fpm_mul = [0.002994791667,
/// 0.001041666667, 0] at FixedPointMultiplier.gate_bits). Multiplications by binary, ternary and power-of-two
/// weights are gates priced relative to an adder (multiplier_impl.py's gate_factor).</remarks>
public sealed record EnergyModel
{
    /// <summary>Fixed-point adder, pJ per bit of its width.</summary>
    public double AddPerBit { get; init; } = 0.003125;

    /// <summary>Fixed-point multiplier, pJ per g² (g = √(b_a·b_w)).</summary>
    public double MulQuadratic { get; init; } = 0.002994791667;

    /// <summary>Fixed-point multiplier, pJ per g.</summary>
    public double MulLinear { get; init; } = 0.001041666667;

    /// <summary>Floating-point operations (pJ each, whatever the width): fp16 add and multiply, fp32 add and multiply.</summary>
    public double Fp16Add { get; init; } = 0.4;
    public double Fp16Mul { get; init; } = 1.1;
    public double Fp32Add { get; init; } = 0.9;
    public double Fp32Mul { get; init; } = 3.7;

    /// <summary>SRAM access of a tensor of B bits: ⌈B/<see cref="SramWordBits"/>⌉ words, each
    /// max(0, s3·x³ + s2·x² + s1·x + s0) pJ with x = log2(max(B, min SRAM size)) (qenergy.py memory_read_energy;
    /// sram_rd = [9.02427321e-04, -2.68847858e-02, 2.08900804e-01, 0.0], sram_mul_factor = 1/64). Writes cost as reads.</summary>
    public double SramCubic { get; init; } = 9.02427321e-04;
    public double SramQuadratic { get; init; } = -2.68847858e-02;
    public double SramLinear { get; init; } = 2.08900804e-01;
    public double SramConstant { get; init; }
    public int SramWordBits { get; init; } = 64;

    /// <summary>DRAM access, pJ per bit (dram_rd = [20.3125, 0]).</summary>
    public double DramPerBit { get; init; } = 20.3125;

    /// <summary>Multiplying by a binary weight (±c) is a mux (an XOR when the other operand is 1 bit too):
    /// this many adders of the other operand's width.</summary>
    public double BinaryGate { get; init; } = 0.3;

    /// <summary>Multiplying by a ternary weight (−c, 0, +c) is two muxes: this many adders of the input width.</summary>
    public double TernaryGate { get; init; } = 0.6;

    /// <summary>Multiplying by a {0, c} weight is an AND gate: this many adders of the input width.</summary>
    public double AndGate { get; init; } = 0.1;

    /// <summary>Multiplying by a power-of-two weight is a shifter choosing among the layer's distinct weight values:
    /// this many adders of the input width per distinct value (Shifter with inference_value_counts).</summary>
    public double ShiftPerValue { get; init; } = 0.3;

    /// <summary>QTools's defaults (process "horowitz").</summary>
    public static EnergyModel Horowitz45nm { get; } = new();

    /// <summary>A fixed-point addition of <paramref name="bits"/> bits.</summary>
    public double Add(double bits) => Math.Max(AddPerBit * bits, 0);

    /// <summary>A fixed-point multiplication of a <paramref name="inputBits"/>-bit by a <paramref name="weightBits"/>-bit operand.</summary>
    public double Multiply(int inputBits, int weightBits)
    {
        double g = Math.Sqrt((double)inputBits * weightBits);
        return Math.Max(MulQuadratic * g * g + MulLinear * g, 0);
    }

    /// <summary>Reading or writing a tensor of <paramref name="bits"/> bits in SRAM.</summary>
    public double Sram(long bits, long minSramSize = 0)
    {
        if (bits <= 0) return 0;
        double x = Math.Log2(Math.Max(bits, minSramSize));
        double perWord = Math.Max(((SramCubic * x + SramQuadratic) * x + SramLinear) * x + SramConstant, 0);
        return Math.Ceiling((double)bits / SramWordBits) * perWord;
    }

    /// <summary>Reading or writing a tensor of <paramref name="bits"/> bits in DRAM.</summary>
    public double Dram(long bits) => Math.Max(DramPerBit * bits, 0);
}

/// <summary>Where a tensor lives: in the logic itself (no access cost), in on-chip SRAM, or in DRAM.</summary>
public enum Memory { Fixed, Sram, Dram }

/// <summary>Where weights and activations are stored (QTools's weights_on_memory, activations_on_memory); with
/// <see cref="ReadWriteOnIo"/> the model input is read from and the output written to DRAM through SRAM, otherwise
/// from and to SRAM (rd_wr_on_io); SRAM accesses count at least <see cref="MinSramSize"/> bits (min_sram_size).</summary>
public sealed record Placement(Memory Weights = Memory.Fixed, Memory Activations = Memory.Fixed, bool ReadWriteOnIo = false, long MinSramSize = 0)
{
    /// <summary>Weights and activations in the logic (an unrolled FPGA design); input and output through SRAM.</summary>
    public static Placement OnChip { get; } = new();

    /// <summary>Energy of moving a tensor of <paramref name="bits"/> bits in or out of <paramref name="memory"/>;
    /// <paramref name="io"/> marks the model input and output, which follow <see cref="ReadWriteOnIo"/>
    /// (qenergy.py memory_read_energy / memory_write_energy).</summary>
    internal double Access(EnergyModel e, long bits, Memory memory, bool io)
    {
        if (io) memory = ReadWriteOnIo ? Memory.Dram : Memory.Sram;
        return memory switch
        {
            Memory.Fixed => 0,
            Memory.Sram => e.Sram(bits, MinSramSize),
            Memory.Dram => e.Dram(bits) + (ReadWriteOnIo ? e.Sram(bits, MinSramSize) : 0),
            _ => throw new System.Diagnostics.UnreachableException(),
        };
    }
}
