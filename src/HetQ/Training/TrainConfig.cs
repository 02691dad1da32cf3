using System.Text.Json;
using HetQ.Data;
using HetQ.Nn;

namespace HetQ.Training;

/// <summary>A training configuration file (see the README's "Training configuration"): data set,
/// architecture, loss, optimizer, schedule, epochs and where the model goes. Every section is checked
/// when the file is read, so a bad key fails before any data is loaded.</summary>
public sealed record TrainConfig
{
    public required string Source { get; init; }
    public required string Name { get; init; }
    public required int Seed { get; init; }
    public required DataConfig Data { get; init; }
    public required JsonElement DataJson { get; init; }
    public int[]? InputShape { get; init; }
    public required IReadOnlyList<JsonSpec> Layers { get; init; }
    public required JsonSpec? LossSpec { get; init; }
    /// <summary>What the model is for and the metric it is judged by (the "task" section; default classification).</summary>
    public ModelTask Task { get; init; } = ModelTask.Classification;
    public required JsonSpec? OptimizerSpec { get; init; }
    public required Schedule Schedule { get; init; }
    public required int Epochs { get; init; }
    public required int BatchSize { get; init; }
    public double? ClipNorm { get; init; }
    public double? ClipValue { get; init; }
    public EarlyStopping? EarlyStopping { get; init; }
    public int Threads { get; init; } = Environment.ProcessorCount;
    public required string Output { get; init; }
    public string? CheckpointDirectory { get; init; }
    /// <summary>The "quantization" section as written (saved with the model).</summary>
    public JsonElement? Quantization { get; init; }

    /// <summary>The parsed "quantization" section: quantization-aware training when present.</summary>
    public QuantizationConfig? QuantizationConfig { get; init; }

    /// <summary>The parsed "bitwidths" section: learned bit widths (HGQ-style) with an EBOPs penalty, when present.</summary>
    public BitwidthsConfig? Bitwidths { get; init; }

    /// <summary>Fold batch norms into the preceding dense/conv layers before quantization-aware training.</summary>
    public bool FoldBatchNorm { get; init; }

    /// <summary>A model directory whose weights start the training (fine-tuning, e.g. QAT after float training).</summary>
    public string? InitialWeights { get; init; }

    /// <summary>Distillation from a trained model (a classifier with softmax cross-entropy): the training targets mix
    /// the labels with the teacher's softmax probabilities; null for plain labels.</summary>
    public Distillation? Distillation { get; init; }

    /// <summary>The directory of the config file: relative data paths resolve against it.</summary>
    public string BaseDirectory => Path.GetDirectoryName(Path.GetFullPath(Source))!;

    /// <summary>The folder relative paths in the config at <paramref name="source"/> are resolved against.</summary>
    internal static string BaseOf(string source) => Path.GetDirectoryName(Path.GetFullPath(source))!;

    public static TrainConfig Load(string file) => Parse(JsonSpec.Load(file));

    public static TrainConfig Parse(JsonSpec s)
    {
        string name = s.String("name") ?? Path.GetFileNameWithoutExtension(s.Source);
        var dataJson = s.Raw("data") ?? JsonDocument.Parse("{\"name\":\"digits\"}").RootElement.Clone();
        DataConfig data;
        try
        {
            data = DataConfig.Parse(dataJson, "data");
        }
        catch (HetQException e)
        {
            throw new HetQException($"{s.Source}: {e.Message}");
        }
        var model = s.Object("model") ?? throw s.Error("model", "is required: {\"layers\": [...]}");
        var layers = model.Objects("layers");
        if (layers.Count == 0) throw model.Error("layers", "is required and must list at least one layer");
        var inputShape = model.Ints("input_shape");
        model.RejectUnknown();
        foreach (var l in layers) LayerConfig.Create(l);

        var task = ModelTask.Parse(s.ObjectOrType("task"));
        var loss = s.ObjectOrType("loss");
        var optimizer = s.ObjectOrType("optimizer");
        Loss.Create(loss);
        Optimizer.Create(optimizer);
        var schedule = Schedule.Create(s.ObjectOrType("schedule"));
        EarlyStopping? es = null;
        if (s.Object("early_stopping") is { } es0)
        {
            var e = es0;
            // Accuracy means nothing to a regression or an autoencoder: they stop on the validation loss.
            string monitor = e.String("monitor", task.Kind == TaskKind.Classification ? "val_accuracy" : "val_loss");
            if (monitor is not ("val_accuracy" or "val_loss")) throw e.Error("monitor", $"must be 'val_accuracy' or 'val_loss', given '{monitor}'");
            es = new EarlyStopping(monitor, e.IntIn("patience", 5, 0, 1_000_000), e.DoubleIn("min_delta", 0, 0, 1e6), e.Bool("restore_best", true));
            e.RejectUnknown();
        }
        int epochs = s.Int("epochs", 10), batch = s.Int("batch_size", 128), threads = s.Int("threads", Environment.ProcessorCount);
        if (epochs is <= 0 or > 1_000_000) throw s.Error("epochs", $"must be 1 to 1000000, given {epochs}");
        if (batch is <= 0 or > 1 << 20) throw s.Error("batch_size", $"must be 1 to 1048576, given {batch}");
        if (inputShape is not null) LayerConfig.CheckShape(model, "input_shape", inputShape);
        // every relative path in a config is relative to the config file (as the data paths are); a default output is under the current directory
        string? output = s.String("output") is { } o ? HetQ.Data.DataFile.Resolve(o, BaseOf(s.Source)) : null;
        string? checkpoint = s.String("checkpoint_dir") is { } c ? HetQ.Data.DataFile.Resolve(c, BaseOf(s.Source)) : null;
        if (output is not null)
            Files.SafeOutput.CheckDirectory(output, Files.ArtefactKind.Model, $"{s.Source}: output", [], s.Object("bitwidths") is null ? [] : [ParetoTracker.Folder]);
        if (checkpoint is not null) Files.SafeOutput.CheckDirectory(checkpoint, Files.ArtefactKind.Model, $"{s.Source}: checkpoint_dir");
        Names.CheckText(name, () => s.Error("name", "must be printable text without control characters, at most 128 characters"));
        if (threads < 1 || threads > Environment.ProcessorCount)
            throw s.Error("threads", $"must be 1 to {Environment.ProcessorCount} (this machine's cores), given {threads}");
        var cfg = new TrainConfig
        {
            Source = s.Source,
            Name = name,
            Seed = s.Int("seed", 42),
            Data = data,
            DataJson = dataJson,
            InputShape = inputShape,
            Layers = layers,
            LossSpec = loss,
            Task = task,
            OptimizerSpec = optimizer,
            Schedule = schedule,
            Epochs = epochs,
            BatchSize = batch,
            ClipNorm = s.DoubleIn("clip_norm", 0, 1e6, loOpen: true),
            ClipValue = s.DoubleIn("clip_value", 0, 1e6, loOpen: true),
            EarlyStopping = es,
            Threads = threads,
            Output = output ?? Path.Combine("runs", name),
            CheckpointDirectory = checkpoint,
            Quantization = s.Raw("quantization")?.Clone(),
            QuantizationConfig = s.Object("quantization") is { } q ? QuantizationConfig.Parse(q) : null,
            InitialWeights = s.String("initial_weights") is { } iw ? HetQ.Data.DataFile.Resolve(iw, BaseOf(s.Source)) : null,
            FoldBatchNorm = s.Bool("fold_batchnorm", false),
            Bitwidths = s.Object("bitwidths") is { } bw ? BitwidthsConfig.Parse(bw) : null,
            Distillation = s.Object("distillation") is { } d ? Distillation.Parse(d, BaseOf(s.Source), task, Loss.Create(loss)) : null,
        };
        if (cfg.Bitwidths is not null && cfg.QuantizationConfig is not null)
            throw s.Error("bitwidths", "and \"quantization\" are alternatives: learned bit widths replace the quantizers; remove one");
        s.RejectUnknown();
        return cfg;
    }

    /// <summary>Copies every parameter of <paramref name="to"/> from the same-named one of <paramref name="from"/>;
    /// a missing parameter or another shape is an error starting with <paramref name="source"/>.</summary>
    public static void CopyWeights(Model from, Model to, string source)
    {
        var byName = from.Parameters.ToDictionary(p => p.Name);
        foreach (var p in to.Parameters)
        {
            if (!byName.TryGetValue(p.Name, out var src))
                throw new HetQException($"{source} has no parameter '{p.Name}'");
            if (!src.Shape.AsSpan().SequenceEqual(p.Shape))
                throw new HetQException($"{source}: parameter '{p.Name}' has shape [{string.Join(",", src.Shape)}], the model needs [{string.Join(",", p.Shape)}]");
            src.Value.CopyTo(p.Value, 0);
        }
    }

    /// <summary>A fresh model of this architecture, weights drawn from the seed.</summary>
    public Model BuildModel(int[] sampleShape)
    {
        var shape = InputShape ?? sampleShape;
        if (Tensor.Size(shape) != Tensor.Size(sampleShape))
            throw new HetQException($"{Source}: model.input_shape [{string.Join(",", shape)}] does not fit the data's samples [{string.Join(",", sampleShape)}]");
        var model = Model.Build(shape, Layers.Select(l => (LayerConfig.Create(l), l.Strings("inputs"))).ToList(), Seed);
        if (InitialWeights is { } dir)
        {
            string full = Path.IsPathRooted(dir) ? dir : Path.Combine(BaseDirectory, dir);
            CopyWeights(ModelIO.Load(full).Model, model, $"{Source}: initial_weights {full}");
        }
        if (FoldBatchNorm) model = BatchNormFolding.Fold(model).Model;
        QuantizationConfig?.Apply(model);
        Bitwidths?.Apply(model);
        return model;
    }
}

/// <summary>Knowledge distillation (Hinton et al., at temperature 1): each training sample's target is
/// (1 − <see cref="Weight"/>) × its label (with the loss's label smoothing) + <see cref="Weight"/> × the teacher model's
/// softmax probabilities, computed once before training with the teacher's float weights.</summary>
public sealed record Distillation(string Teacher, double Weight)
{
    internal static Distillation Parse(JsonSpec s, string baseDirectory, ModelTask task, Loss loss)
    {
        if (task.Kind != TaskKind.Classification || loss is not SoftmaxCrossEntropy)
            throw s.Error("teacher", "distillation needs a classifier trained with softmax_cross_entropy");
        string teacher = s.String("teacher") ?? throw s.Error("teacher", "is required: a trained model directory");
        var d = new Distillation(HetQ.Data.DataFile.Resolve(teacher, baseDirectory), s.DoubleIn("weight", 0.5, 0, 1, loOpen: true));
        s.RejectUnknown();
        return d;
    }

    /// <summary>The teacher's softmax probabilities [samples × classes] on <paramref name="data"/>.</summary>
    internal float[] SoftTargets(Dataset data, int classes, string source)
    {
        if (!File.Exists(Path.Combine(Teacher, "model.json")))
            throw new HetQException($"{source}: distillation.teacher: '{Teacher}' is not a model directory (no model.json); train it first");
        var (teacher, _) = ModelIO.Load(Teacher);
        int k = Tensor.Size(teacher.OutputShape);
        if (k != classes) throw new HetQException($"{source}: distillation.teacher has {k} outputs, the model {classes}");
        var p = Inference.Predict(teacher.WithoutQuantization(), data);
        if (!Training.EvalJob.OutputIsProbability(teacher))
            for (int i = 0; i < data.Count; i++)
            {
                var row = p.AsSpan(i * k, k);
                float max = System.Numerics.Tensors.TensorPrimitives.Max<float>(row);
                System.Numerics.Tensors.TensorPrimitives.Subtract(row, max, row);
                System.Numerics.Tensors.TensorPrimitives.Exp(row, row);
                System.Numerics.Tensors.TensorPrimitives.Divide(row, System.Numerics.Tensors.TensorPrimitives.Sum<float>(row), row);
            }
        return p;
    }
}
