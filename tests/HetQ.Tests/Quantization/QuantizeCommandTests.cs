using System.Text.Json;

namespace HetQ.Tests.Quantization;

/// <summary>Smoke tests of `hetq quantize`, run in-process with the console captured.</summary>
[Collection("Console")]
public class QuantizeCommandTests
{
    private static (int Code, string Out, string Error) Run(params string[] args)
    {
        var (oldOut, oldError) = (Console.Out, Console.Error);
        using var output = new StringWriter { NewLine = "\n" };
        using var error = new StringWriter { NewLine = "\n" };
        Console.SetOut(output);
        Console.SetError(error);
        try
        {
            int code = HetQ.Cli.Cli.Run(args);
            return (code, output.ToString(), error.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldError);
        }
    }

    [Fact]
    public void Text_output_lists_each_value_and_the_type()
    {
        var (code, output, error) = Run("quantize", "quantized_bits(4,0)", "--values", "0.3,-1,0.0625,5");
        Assert.Equal(0, code);
        Assert.Equal("", error);
        Assert.Equal(
            "quantized_bits(4,0,0)\n" +
            "  0.3 -> 0.25\n" +
            "  -1 -> -1\n" +
            "  0.0625 -> 0\n" +
            "  5 -> 0.875\n" +
            "type: ap_fixed<4,1> (signed=yes, width 4, integer bits 1, step 0.125)\n",
            output.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void Text_output_prints_full_precision_and_says_why_there_is_no_type()
    {
        var (code, output, _) = Run("quantize", "quantized_bits(4,0,alpha=0.7)", "--values", "0.3");
        Assert.Equal(0, code);
        Assert.Contains($"  0.3 -> {(0.7f * 0.25f).ToString("R", System.Globalization.CultureInfo.InvariantCulture)}\n", output.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Contains("type: none (alpha=0.7 is not a power of two)", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Json_output_is_one_object_with_spec_values_quantized_and_type()
    {
        var (code, output, _) = Run("quantize", "quantized_relu(4,2)", "--values", "0.375,-1,3.9", "--json");
        Assert.Equal(0, code);
        using var document = JsonDocument.Parse(output);
        var root = document.RootElement;
        Assert.Equal("quantized_relu(4,2)", root.GetProperty("spec").GetString());
        Assert.Equal([0.375f, -1f, 3.9f], root.GetProperty("values").EnumerateArray().Select(e => e.GetSingle()));
        Assert.Equal([0.5f, 0f, 3.75f], root.GetProperty("quantized").EnumerateArray().Select(e => e.GetSingle()));
        var type = root.GetProperty("type");
        Assert.False(type.GetProperty("signed").GetBoolean());
        Assert.Equal(4, type.GetProperty("width").GetInt32());
        Assert.Equal(2, type.GetProperty("integer").GetInt32());
    }

    [Fact]
    public void Json_prints_quantized_values_exactly_not_as_float32_shortest_strings()
    {
        // -3331/512: float32's shortest string would be -6.5058594.
        var (code, output, _) = Run("quantize", "ap_fixed<16,6>", "--values=-6.5058594,0.1", "--json");
        Assert.Equal(0, code);
        Assert.Equal(
            "{\"spec\":\"ap_fixed<16,6,TRN,WRAP>\",\"values\":[-6.5058594,0.1],\"quantized\":[-6.505859375,0.099609375],\"type\":{\"signed\":true,\"width\":16,\"integer\":6}}",
            output.Trim());
    }

    [Fact]
    public void Json_type_is_null_for_data_dependent_scales()
    {
        // quantized_bits(4,0,alpha='auto_po2') on [-0.6, 0.3]: scale 2^-4, z = [-7, 5] (see QuantizedBitsTests).
        var (code, output, _) = Run("quantize", "quantized_bits(4,0,alpha='auto_po2')", "--values=-0.6,0.3", "--json");
        Assert.Equal(0, code);
        Assert.Equal(
            "{\"spec\":\"quantized_bits(4,0,1,alpha='auto_po2')\",\"values\":[-0.6,0.3],\"quantized\":[-0.4375,0.3125],\"type\":null}",
            output.Trim());
    }

    [Fact]
    public void A_bad_spec_exits_with_2_and_a_pointed_message_without_a_stack_trace()
    {
        var (code, output, error) = Run("quantize", "quantized_bits(4,0,alfa=1)", "--values", "1");
        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.StartsWith("hetq: error: bad quantizer spec \"quantized_bits(4,0,alfa=1)\" at column 20: unknown argument 'alfa'", error, StringComparison.Ordinal);
        Assert.Contains("\n                     ^", error.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bad_value_exits_with_2()
    {
        var (code, _, error) = Run("quantize", "binary", "--values", "1,abc");
        Assert.Equal(2, code);
        Assert.Contains("--values: 'abc' is not a finite number", error, StringComparison.Ordinal);
    }
}
