using HetQ.Nn;
using HetQ.Quantization;

namespace HetQ.Graph;

/// <summary>The result of freezing: the integer graph, or the reasons the model is not exactly representable
/// (each naming a layer); <see cref="LogitsNode"/> is the model node whose output the graph's output equals.</summary>
public sealed record FreezeResult(IntegerGraph? Graph, IReadOnlyList<string> Problems, int LogitsNode, FixedFormat InputFormat, bool InputFormatDefaulted, Model Model);

/// <summary>Turns a trained quantized model into the integer graph: batch norms folded, the input type from the input
/// quantizer, then the one <see cref="Lowering"/> under the exact coding (<see cref="ExactCoding"/>: integer weights
/// from the kernel and bias quantizers, accumulators that never overflow, the activation quantizers' formats).</summary>
public static class Freezer
{
    /// <summary>The input type used when the model has no input quantizer (hls4ml's default precision).</summary>
    public static readonly FixedFormat DefaultInput = new(new FixedType(true, 16, 6), Rounding.RND_CONV, Overflow.SAT);

    /// <summary>Loads the model saved in <paramref name="directory"/> and freezes it (an autoencoder with its anomaly
    /// score appended); a model that is not exactly representable is an error listing each layer's problem.</summary>
    public static IntegerGraph FreezeDirectory(string directory, FixedFormat? inputOverride = null)
    {
        var (model, meta) = ModelIO.Load(directory);
        var r = Freeze(model, meta.Name, inputOverride);
        var graph = r.Graph ?? throw new HetQException($"{directory}: the model is not exactly representable in fixed point:\n  - " + string.Join("\n  - ", r.Problems));
        // An autoencoder's chip outputs its anomaly score, one per event.
        return ReconstructionError.ForTask(graph, meta.Task);
    }

    /// <summary>Freezes <paramref name="model"/> after folding its batch norms (<see cref="FreezeResult.Model"/> is the
    /// folded model: the fake-quantized reference that the graph equals).</summary>
    public static FreezeResult Freeze(Model model, string name, FixedFormat? inputOverride = null)
    {
        var problems = new List<string>();
        var (folded, foldNotes) = BatchNormFolding.Fold(model);
        model = folded;
        var notes = new List<string>(foldNotes);
        FixedFormat input;
        bool defaulted = false;
        if (inputOverride is { } io) input = io;
        else if (model.InputQuantizer is null)
        {
            input = DefaultInput;
            defaulted = true;
            notes.Add($"the model has no input quantizer: the input is quantized to {input}");
        }
        else if (ActivationFormat(model.InputQuantizer.Quantizer, out string? why) is { } f) input = f;
        else
        {
            input = DefaultInput;
            problems.Add($"input quantizer {model.InputQuantizer.Spec}: {why}");
        }
        // A learned input quantizer has a format per element (an override replaces it with one for all).
        // One format for every element (a per-layer width) is a plain input format.
        var inputElements = model.InputQuantizer?.Learned is { } li && inputOverride is null && li.UniformFormat() is null ? li.ElementFormats() : null;
        foreach (var p in model.Parameters) p.Refresh(false, null);
        var lowered = Lowering.Lower(model, new ExactCoding(input, inputElements), name, notes);
        problems.AddRange(lowered.Problems);
        if (problems.Count > 0) return new FreezeResult(null, problems, lowered.LogitsNode, input, defaulted, model);
        var graph = lowered.Graph!;
        graph.Validate("model " + Files.SafeOutput.Printable(name));
        return new FreezeResult(graph, problems, lowered.LogitsNode, input, defaulted, model);
    }

    /// <summary>The fixed-point format (type, rounding, overflow) a quantizer rounds activations to, when it is one.</summary>
    public static FixedFormat? ActivationFormat(IQuantizer q, out string? why)
    {
        why = null;
        switch (q)
        {
            case QuantizedBits b when !b.IsAutoScaled && b.Grid is FixedFormat g && b.Alpha.Po2Exponent == 0:
                return g;
            case QuantizedRelu r when r.IsPlain && r.IsQuantizedClip && r.HardwareType is FixedType t:
                return new FixedFormat(t, Rounding.RND_CONV, Overflow.SAT);
            case FixedQuantizer f:
                return f.Format;
            case LearnedQuantizer l when l.IsBound && l.Role == LearnedRole.Activation:
                return l.UniformFormat() ?? l.CommonActivationFormat() ?? new FixedFormat(new FixedType(false, 1, 1), Rounding.RND, Overflow.SAT);
            default:
                why = "not a plain fixed-point rounding (freeze supports quantized_bits with alpha None or 1, plain quantized_relu, and ap_fixed types)"
                      + (q.NoHardwareTypeReason is { } r2 ? $"; {r2}" : "");
                return null;
        }
    }
}
