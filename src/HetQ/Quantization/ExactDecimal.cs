using System.Globalization;
using System.Numerics;
using System.Text;

namespace HetQ.Quantization;

/// <summary>The exact decimal expansion of a binary floating-point number (every finite double is m·2^e, whose
/// decimal expansion is finite): -6.505859375 for -3331/512, where the shortest round-trip string of the float32
/// is -6.5058594. Quantized values are printed this way so that what is shown is the code's value.</summary>
public static class ExactDecimal
{
    /// <summary>The exact value of <paramref name="x"/> in plain decimal notation ("NaN", "Infinity" for non-finite values).</summary>
    public static string Format(double x)
    {
        if (!double.IsFinite(x)) return x.ToString(CultureInfo.InvariantCulture);
        if (x == 0) return double.IsNegative(x) ? "-0" : "0";
        long bits = BitConverter.DoubleToInt64Bits(x);
        bool negative = bits < 0;
        int exponent = (int)((bits >> 52) & 0x7FF);
        long mantissa = bits & 0xFFFFFFFFFFFFFL;
        if (exponent == 0) exponent = 1;
        else mantissa |= 1L << 52;
        exponent -= 1075; // x = mantissa · 2^exponent
        var sb = new StringBuilder();
        if (negative) sb.Append('-');
        if (exponent >= 0)
        {
            sb.Append((new BigInteger(mantissa) << exponent).ToString(CultureInfo.InvariantCulture));
            return sb.ToString();
        }
        // mantissa · 2^-k = mantissa · 5^k / 10^k.
        int k = -exponent;
        string digits = (new BigInteger(mantissa) * BigInteger.Pow(5, k)).ToString(CultureInfo.InvariantCulture);
        if (digits.Length <= k) digits = new string('0', k - digits.Length + 1) + digits;
        string whole = digits[..^k], fraction = digits[^k..].TrimEnd('0');
        sb.Append(whole);
        if (fraction.Length > 0) sb.Append('.').Append(fraction);
        return sb.ToString();
    }
}
