using System.Globalization;
using System.Text.Json;
using HetQ.Nn;
using HetQ.Training;

namespace HetQ.Search;

/// <summary>The strength of the learned widths' penalty as a search dimension (with <c>"learned": true</c> only):
/// <c>space.beta</c> lists constant betas, each search trial training with its choice in place of the bitwidths
/// section's beta; <c>space.target_ebops</c> (<c>target_luts</c> with the LUT penalty) lists targets for the section's
/// controller, which keeps its start, kp, ki and clamps. One of the two; the baselines have none.</summary>
public static class PenaltyDimensions
{
    public const string BetaRole = "beta";
    public const string TargetRole = "target";
    private const string Block = "penalty";

    private static readonly (string Key, string Role)[] Keys = [("beta", BetaRole), ("target_ebops", TargetRole), ("target_luts", TargetRole)];

    /// <summary>Whether a dimension is the penalty's (beta or a controller target).</summary>
    public static bool Is(Dimension d) => d.Role is BetaRole or TargetRole;

    /// <summary>The penalty dimension of a space specification (none when it lists neither).</summary>
    public static List<Dimension> Dimensions(JsonSpec? spec)
    {
        var dims = new List<Dimension>();
        if (spec is null) return dims;
        foreach (var (key, role) in Keys)
        {
            if (spec.Raw(key) is not { } raw) continue;
            if (raw.ValueKind != JsonValueKind.Array || raw.GetArrayLength() == 0)
                throw spec.Error(key, "must be a non-empty list of positive numbers, e.g. [1e-6, 3e-6, 1e-5]");
            var values = raw.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.Number && v.GetDouble() > 0 && double.IsFinite(v.GetDouble())
                ? v.GetDouble() : throw spec.Error(key, $"must list positive numbers, found {v.GetRawText()}")).ToList();
            if (values.Distinct().Count() != values.Count) throw spec.Error(key, "lists a value twice");
            dims.Add(new Dimension(key, Block, role, values.Select(v => v.ToString("R", CultureInfo.InvariantCulture)).ToList()));
        }
        if (dims.Count > 1) throw spec.Error(dims[1].Name, $"and space.{dims[0].Name} cannot both be searched: give one");
        return dims;
    }

    /// <summary>Checks the penalty dimension against the search: it needs learned widths, and a target needs the
    /// section's controller and the key of its cost (target_ebops for EBOPs, target_luts for LUTs).</summary>
    public static void Check(JsonSpec? space, bool learned, BitwidthsConfig? bitwidths)
    {
        if (space is null) return;
        Dimensions(space);
        foreach (var (key, role) in Keys)
        {
            if (!space.Has(key)) continue;
            if (!learned || bitwidths is null) throw space.Error(key, "needs \"learned\": true (the penalty belongs to learned bit widths)");
            if (role != TargetRole) continue;
            if (bitwidths.Controller is null)
                throw space.Error(key, "needs a controller in the training configuration's bitwidths.beta (its start, kp and ki steer each trial to its target); or search space.beta");
            string expected = bitwidths.Cost == PenaltyCost.Luts ? "target_luts" : "target_ebops";
            if (key != expected)
                throw space.Error(key, $"does not fit the training configuration's penalty ({(bitwidths.Cost == PenaltyCost.Luts ? "luts" : "ebops")}): use space.{expected}");
        }
    }

    /// <summary>The bitwidths section a search trial trains with: its chosen constant beta, or its chosen controller target.</summary>
    public static BitwidthsConfig Apply(BitwidthsConfig bitwidths, IReadOnlyList<Dimension> dims, IReadOnlyDictionary<string, string> choice)
    {
        foreach (var d in dims.Where(Is))
        {
            if (!choice.TryGetValue(d.Name, out var v)) continue;
            double x = double.Parse(v, CultureInfo.InvariantCulture);
            bitwidths = d.Role == BetaRole
                ? bitwidths with { Beta = new BetaSchedule("constant", x, x), Controller = null }
                : bitwidths with { Controller = bitwidths.Controller! with { TargetEbops = x } };
        }
        return bitwidths;
    }

    /// <summary>The weakest penalty of the dimension (the least lossy choice): the smallest beta, the largest target.</summary>
    public static string Weakest(Dimension d)
    {
        var ordered = d.Choices.OrderBy(c => double.Parse(c, CultureInfo.InvariantCulture));
        return d.Role == BetaRole ? ordered.First() : ordered.Last();
    }
}
