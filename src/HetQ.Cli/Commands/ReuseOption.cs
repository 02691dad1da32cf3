using System.CommandLine;
using HetQ.Hardware;

namespace HetQ.Cli.Commands;

/// <summary>The `--reuse R`, `--hw-config FILE` and `--dsp` options of `hw write` and `estimate --resources`: the dense
/// layers' reuse factors (<see cref="ReusePlan"/>) and whether a folded layer's multipliers may use DSP slices.</summary>
internal sealed class ReuseOption
{
    public Option<int?> Reuse { get; } = new("--reuse")
    {
        Description = "reuse factor of every dense layer (hls4ml's ReuseFactor): R > 1 folds the layer, R clock cycles per input vector, "
                      + "its weights in a ROM, ceil(In*Out/R) multipliers and an accumulator per output; with --hw-config, of the layers its rules do not name. Default 1 (fully parallel)",
    };

    public Option<string?> Config { get; } = new("--hw-config")
    {
        Description = "hardware configuration (JSON, schemas/hardware.schema.json): {\"reuse\": R, \"layers\": [{\"name\" or \"regex\": ..., \"reuse\": R}]}",
    };

    public Option<bool> Dsp { get; } = new("--dsp") { Description = "let synthesis put a folded layer's multipliers into DSP slices (default: LUTs only)" };

    public IEnumerable<Option> All => [Reuse, Config, Dsp];

    /// <summary>The plan the options give, or null for the fully parallel design.</summary>
    public ReusePlan? Plan(ParseResult parse)
    {
        int? reuse = parse.GetValue(Reuse);
        if (reuse is < 1) throw new HetQException($"--reuse must be 1 or more, given {reuse}");
        if (parse.GetValue(Config) is { } file)
        {
            var plan = ReusePlan.Load(file);
            return reuse is { } r ? plan with { Default = r } : plan;
        }
        return reuse is { } all ? ReusePlan.All(all) : null;
    }

    /// <summary>The source named in errors of the plan's factors.</summary>
    public string Source(ParseResult parse) => parse.GetValue(Config) ?? "--reuse";
}
