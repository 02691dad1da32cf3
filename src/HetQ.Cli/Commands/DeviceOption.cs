using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using HetQ.Hardware;

namespace HetQ.Cli.Commands;

/// <summary>The `--device NAME` option of `hw`, `hw synth` and `estimate --resources`, and how a device fit is printed.</summary>
internal static class DeviceOption
{
    public static Option<string?> Create(string defaults) => new("--device")
    {
        Description = "FPGA part to check the design against (LUT, FF, DSP, BRAM and I/O-pin budgets from its data sheet; says by how much "
                      + "each overflows): " + string.Join(", ", FpgaDevice.All.Select(d => $"{d.Name} ({d.Part}, LUT{d.LutInputs})")) + "; " + defaults,
    };

    /// <summary>The fit as text lines on stdout (nothing when there is no device).</summary>
    public static void Print(DeviceFit? fit)
    {
        if (fit is null) return;
        foreach (var line in fit.Describe()) Console.WriteLine(line);
    }

    /// <summary><paramref name="report"/> as one JSON object with the fit's keys added: device, part, basis, fits, fit
    /// (null when there is no device).</summary>
    public static string Json(object report, DeviceFit? fit)
    {
        var node = JsonSerializer.SerializeToNode(report, CliJson.Options)!.AsObject();
        var added = JsonSerializer.SerializeToNode(fit?.ToJson() ?? new { device = (string?)null, part = (string?)null, basis = (string?)null, fits = (bool?)null, fit = (object?)null }, CliJson.Options)!.AsObject();
        foreach (var (key, value) in added.ToList())
        {
            added.Remove(key);
            node[key] = value;
        }
        return node.ToJsonString(CliJson.Options); // the one JSON writer: < > ' & as themselves
    }
}
