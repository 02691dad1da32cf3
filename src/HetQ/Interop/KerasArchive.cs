using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;
using HetQ.Nn;
using PureHDF;
using PureHDF.VOL.Native;

namespace HetQ.Interop;

/// <summary>Reads Keras 3 <c>.keras</c> archives as <c>keras.src.saving.saving_lib</c> writes them: a zip holding
/// <c>metadata.json</c> (keras_version), <c>config.json</c> (the architecture) and <c>model.weights.h5</c>, whose variables
/// lie at <c>layers/&lt;snake_case(class)&gt;[_n]/vars/0..k</c> (the n-th layer of that class in the model's layer list,
/// counted from 0 with no suffix; Keras 2.13's <c>_layer_checkpoint_dependencies</c> in place of <c>layers</c> too).</summary>
internal static partial class KerasArchive
{
    private const string Config = "config.json", Metadata = "metadata.json", Weights = "model.weights.h5";

    /// <summary>The archive's config.json text, keras_version (null when metadata.json lacks it) and weights file, opened.</summary>
    public static (string Config, string? Version, NativeFile Weights) Open(string file)
    {
        if (!File.Exists(file)) throw new HetQException($"{file}: file not found");
        ZipArchive zip;
        try
        {
            zip = ZipFile.OpenRead(file);
        }
        catch (InvalidDataException e)
        {
            throw new HetQException($"{file}: not a Keras 3 archive (not a zip file: {e.Message})", e);
        }
        using (zip)
        {
            string config = Text(zip, file, Config) ?? throw new HetQException($"{file}: not a Keras 3 archive (no {Config})");
            string? version = null;
            if (Text(zip, file, Metadata) is { } meta)
            {
                var m = JsonSpec.Parse(meta, $"{file}: {Metadata}");
                version = m.String("keras_version");
            }
            var entry = zip.GetEntry(Weights);
            if (entry is null)
            {
                if (zip.GetEntry("model.weights.npz") is not null)
                    throw new HetQException($"{file}: the weights are in model.weights.npz; HetQ reads the default h5 weights (save with weights_format=\"h5\")");
                throw new HetQException($"{file}: the archive has no {Weights}");
            }
            if (entry.Length > int.MaxValue) throw new HetQException($"{file}: {Weights} is {entry.Length} bytes, larger than HetQ reads (2 GiB)");
            var buffer = new MemoryStream((int)entry.Length);
            try
            {
                using (var s = entry.Open()) s.CopyTo(buffer);
                buffer.Position = 0;
                return (config, version, H5File.Open(buffer, leaveOpen: false));
            }
            catch (Exception e) when (e is not HetQException && e is not OutOfMemoryException)
            {
                buffer.Dispose();
                throw new HetQException($"{file}: {Weights} is not a readable HDF5 file ({e.Message})", e);
            }
        }
    }

    private static string? Text(ZipArchive zip, string file, string name)
    {
        var entry = zip.GetEntry(name);
        if (entry is null) return null;
        if (entry.Length > JsonSpec.MaxBytes) throw new HetQException($"{file}: {name} is {entry.Length} bytes, more than {JsonSpec.MaxBytes}");
        try
        {
            using var r = new StreamReader(entry.Open(), Encoding.UTF8);
            return r.ReadToEnd();
        }
        catch (InvalidDataException e)
        {
            throw new HetQException($"{file}: {name} cannot be read from the archive ({e.Message})", e);
        }
    }

    /// <summary>Keras's <c>naming.to_snake_case</c>: the group name of a layer class in the weights file.</summary>
    public static string SnakeCase(string name)
    {
        name = NonWord().Replace(name, "");
        name = WordStart().Replace(name, "$1_$2");
        return LowerUpper().Replace(name, "$1_$2").ToLowerInvariant();
    }

    [GeneratedRegex(@"\W+")]
    private static partial Regex NonWord();
    [GeneratedRegex("(.)([A-Z][a-z]+)")]
    private static partial Regex WordStart();
    [GeneratedRegex("([a-z])([A-Z])")]
    private static partial Regex LowerUpper();

    /// <summary>The weights-file path of every layer: the layer list in saving order, numbered per class as
    /// <c>saving_lib._save_container_state</c> numbers them.</summary>
    public static Dictionary<string, string> Paths(IReadOnlyList<(string ClassName, string Name)> order)
    {
        var used = new Dictionary<string, int>(StringComparer.Ordinal);
        var paths = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (cls, name) in order)
        {
            string snake = SnakeCase(cls);
            if (used.TryGetValue(snake, out int n))
            {
                used[snake] = n + 1;
                snake = $"{snake}_{n + 1}";
            }
            else
            {
                used[snake] = 0;
            }
            paths[name] = "layers/" + snake;
        }
        return paths;
    }

    /// <summary>Copies every layer's variables into <paramref name="model"/>: the layer's group must hold exactly the
    /// planned weights, as datasets 0..k in Keras's order (kernel, bias; gamma, beta, moving_mean, moving_variance).</summary>
    public static void Load(NativeFile h5, string file, Model model, IReadOnlyList<LayerPlan> plans, IReadOnlyList<(string ClassName, string Name)> order)
    {
        try
        {
            var paths = Paths(order);
            var layers = model.Nodes.ToDictionary(n => n.Layer.Name, n => n.Layer, StringComparer.Ordinal);
            foreach (var plan in plans)
            {
                if (plan.External) continue;
                string where = $"{file}: layer '{plan.Keras.Name}' ({plan.Keras.ClassName})";
                string path = paths[plan.Keras.Name];
                var vars = Vars(h5, path);
                int count = vars is null ? 0 : Count(vars);
                // HGQ2 layers keep their EBOPs penalty state (beta, ebops) after the weights.
                bool hgq2 = Hgq2Layers.IsHgq2(plan.Keras);
                if (hgq2 && count >= plan.Weights.Length) count = plan.Weights.Length;
                if (count != plan.Weights.Length)
                {
                    string had = vars is null ? $"no group '{path}/vars'" : $"{count} variables in '{path}/vars'";
                    throw new HetQException($"{where}: the weights file has {had}; the layer takes {plan.Weights.Length} ({string.Join(", ", plan.Weights)})");
                }
                if (count == 0) continue;
                var parameters = layers[plan.Keras.Name].Parameters.ToDictionary(p => p.Name[(p.Name.LastIndexOf('/') + 1)..], StringComparer.Ordinal);
                for (int i = 0; i < count; i++)
                {
                    string role = plan.Weights[i];
                    var p = parameters[role];
                    if (!vars!.LinkExists(i.ToString(System.Globalization.CultureInfo.InvariantCulture)))
                        throw new HetQException($"{where}: '{path}/vars' has no dataset '{i}' (the {role})");
                    float[] values = KerasWeights.Read(vars, i.ToString(System.Globalization.CultureInfo.InvariantCulture), p.Shape, $"{where}: {role}");
                    values.CopyTo(p.Value, 0);
                }
            }
        }
        catch (Exception e) when (e is not HetQException && e is not OutOfMemoryException)
        {
            throw new HetQException($"{file}: the weights cannot be read ({e.Message})", e);
        }
    }

    /// <summary>The <c>vars</c> group of a layer path, or null when the file has none (Keras 2.13 wrote
    /// <c>_layer_checkpoint_dependencies</c> where later versions write <c>layers</c>).</summary>
    internal static IH5Group? Vars(NativeFile h5, string path)
    {
        foreach (string p in new[] { path, "_layer_checkpoint_dependencies" + path["layers".Length..] })
        {
            IH5Group g = h5;
            bool found = true;
            foreach (string part in (p + "/vars").Split('/'))
            {
                if (!g.LinkExists(part)) { found = false; break; }
                g = g.Group(part);
            }
            if (found) return g;
        }
        return null;
    }

    private static int Count(IH5Group g) => g.Children().Count();
}
