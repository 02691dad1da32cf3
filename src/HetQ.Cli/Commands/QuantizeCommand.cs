using System.CommandLine;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using HetQ.Quantization;

namespace HetQ.Cli.Commands;

/// <summary>`hetq quantize SPEC --values v1,v2,... [--json]`: quantizes numbers with a QKeras quantizer
/// or an ap_fixed type and shows the hardware type.</summary>
internal static class QuantizeCommand
{
    public static Command Create()
    {
        var spec = new Argument<string>("spec")
        {
            Description = "A QKeras quantizer such as \"quantized_bits(6,0,alpha=1)\" or a type such as \"ap_fixed<8,3,RND,SAT>\"",
        };
        var values = new Option<string>("--values")
        {
            Description = "Comma-separated numbers to quantize (one channel: auto scales are computed over all of them)",
            Required = true,
        };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of text" };

        var command = new Command("quantize", "Quantize numbers with a QKeras quantizer or fixed-point type and show its hardware type.");
        command.Arguments.Add(spec);
        command.Options.Add(values);
        command.Options.Add(json);
        command.SetAction(parseResult =>
        {
            var quantizer = QuantizerParser.Parse(parseResult.GetValue(spec)!);
            float[] x = ParseValues(parseResult.GetValue(values)!);
            double[] y = Quantize(quantizer, x, out float[]? scale);
            if (parseResult.GetValue(json)) WriteJson(Console.Out, quantizer, x, y);
            else WriteText(Console.Out, quantizer, x, y, scale);
            return 0;
        });
        return command;
    }

    private static float[] ParseValues(string text)
    {
        var values = new List<float>();
        foreach (string part in text.Split(','))
        {
            string item = part.Trim();
            if (!float.TryParse(item, NumberStyles.Float, CultureInfo.InvariantCulture, out float value) || !float.IsFinite(value))
                throw new HetQException($"--values: '{item}' is not a finite number (expected numbers separated by commas, e.g. 0.3,-1,2.5)");
            values.Add(value);
        }
        return values.ToArray();
    }

    /// <summary>The quantized values: a fixed-point type rounds the input in double precision with
    /// <see cref="FixedPoint.ToRaw"/> (exact for every width), other quantizers run their float32 forward pass.</summary>
    internal static double[] Quantize(IQuantizer quantizer, float[] x, out float[]? scale)
    {
        scale = null;
        if (quantizer is FixedQuantizer f)
        {
            var t = f.Format.Type;
            return x.Select(v => FixedPoint.FromRaw(FixedPoint.ToRaw(v, t, f.Format.Rounding, f.Format.Overflow), t)).ToArray();
        }
        float[] y = new float[x.Length];
        if (quantizer is IScaledQuantizer { IsAutoScaled: true } scaled)
        {
            scale = new float[1];
            scaled.Forward(x, y, 1, scale);
        }
        else
        {
            quantizer.Forward(x, y);
        }
        return y.Select(v => (double)v).ToArray();
    }

    private static string Number(float value) => value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>A quantized value exactly (its decimal expansion is finite).</summary>
    private static string Exact(double value) => ExactDecimal.Format(value);

    /// <summary>A quantized value: exactly when the quantizer has a fixed-point type (the value is a code's); otherwise
    /// (a scale that is not a power of two, computed in float32) the float32's shortest round-trip string.</summary>
    private static string Value(IQuantizer quantizer, double value) =>
        quantizer.HardwareType is not null ? Exact(value) : Number((float)value);

    private static void WriteText(TextWriter output, IQuantizer quantizer, float[] x, double[] y, float[]? scale)
    {
        output.WriteLine(quantizer.Spec);
        for (int i = 0; i < x.Length; i++) output.WriteLine($"  {Number(x[i])} -> {Value(quantizer, y[i])}");
        if (scale is not null) output.WriteLine($"scale: {Number(scale[0])}");
        if (quantizer.IsStochastic) output.WriteLine("note: random in training; these are the inference values");
        output.WriteLine(quantizer.HardwareType is FixedType t
            ? $"type: {t} (signed={(t.Signed ? "yes" : "no")}, width {t.Width}, integer bits {t.IntegerBits}, step {Exact(t.Step)})"
            : $"type: none ({quantizer.NoHardwareTypeReason})");
    }

    private static void WriteJson(TextWriter output, IQuantizer quantizer, float[] x, double[] y)
    {
        using var stream = new MemoryStream();
        // Relaxed escaping keeps ' < > readable in specs such as ap_fixed<8,3,RND,SAT>.
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteString("spec", quantizer.Spec);
            json.WriteStartArray("values");
            foreach (float v in x) json.WriteRawValue(Number(v));
            json.WriteEndArray();
            json.WriteStartArray("quantized");
            // JSON numbers have no precision limit: each quantized value is written exactly.
            foreach (double v in y) json.WriteRawValue(Value(quantizer, v));
            json.WriteEndArray();
            if (quantizer.HardwareType is FixedType t)
            {
                json.WriteStartObject("type");
                json.WriteBoolean("signed", t.Signed);
                json.WriteNumber("width", t.Width);
                json.WriteNumber("integer", t.IntegerBits);
                json.WriteEndObject();
            }
            else
            {
                json.WriteNull("type");
            }
            json.WriteEndObject();
        }
        output.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
    }
}
