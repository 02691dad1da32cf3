using System.Text.Json;
using HetQ.Numerics;

namespace HetQ.Nn.Layers;

/// <summary>Batch normalization over the last (channel) axis, Keras semantics: training mode uses the
/// batch mean and biased variance and moves the moving statistics by (1 − momentum); inference mode
/// uses the moving statistics.</summary>
public sealed class BatchNorm : UnaryLayer
{
    public double Momentum { get; }
    public double Epsilon { get; }
    public Parameter Gamma { get; private set; } = null!;
    public Parameter Beta { get; private set; } = null!;
    public Parameter MovingMean { get; private set; } = null!;
    public Parameter MovingVariance { get; private set; } = null!;

    private Tensor? _y, _gradIn;
    private float[] _xhat = Array.Empty<float>();
    private double[] _batchMean = Array.Empty<double>(), _batchVar = Array.Empty<double>();
    private float[] _invStd = Array.Empty<float>();
    private bool _trainedThisStep, _lastTraining;

    public BatchNorm(double momentum = 0.99, double epsilon = 1e-3)
    {
        Momentum = momentum;
        Epsilon = epsilon;
    }

    public override string Type => "batch_norm";
    public override IReadOnlyList<Parameter> Parameters => new[] { Gamma, Beta, MovingMean, MovingVariance };
    private int C => InputShapes[0][^1];

    protected override int[] Build(int[] s, Random rng)
    {
        if (s.Length == 0) throw ShapeError("needs a channel axis");
        int c = s[^1];
        Gamma = new Parameter($"{Name}/gamma", new[] { c });
        Gamma.Value.AsSpan().Fill(1f);
        Beta = new Parameter($"{Name}/beta", new[] { c });
        MovingMean = new Parameter($"{Name}/moving_mean", new[] { c }, trainable: false);
        MovingVariance = new Parameter($"{Name}/moving_variance", new[] { c }, trainable: false);
        MovingVariance.Value.AsSpan().Fill(1f);
        return s;
    }

    protected override Tensor Forward(Tensor x, ForwardContext ctx)
    {
        int c = C, rows = x.Length / c;
        var y = Ensure(ref _y, x.Shape[0], OutputShape);
        if (_invStd.Length != c)
        {
            _invStd = new float[c];
            _batchMean = new double[c];
            _batchVar = new double[c];
        }
        _lastTraining = ctx.Training;
        float[] xd = x.Data, yd = y.Data, gamma = Gamma.Value, beta = Beta.Value;
        if (!ctx.Training)
        {
            for (int j = 0; j < c; j++) _invStd[j] = (float)(1.0 / Math.Sqrt(MovingVariance.Value[j] + Epsilon));
            for (int r = 0; r < rows; r++)
                for (int j = 0; j < c; j++)
                {
                    int i = r * c + j;
                    yd[i] = gamma[j] * (xd[i] - MovingMean.Value[j]) * _invStd[j] + beta[j];
                }
            return y;
        }
        Array.Clear(_batchMean);
        Array.Clear(_batchVar);
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < c; j++) _batchMean[j] += xd[r * c + j];
        for (int j = 0; j < c; j++) _batchMean[j] /= rows;
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < c; j++)
            {
                double d = xd[r * c + j] - _batchMean[j];
                _batchVar[j] += d * d;
            }
        for (int j = 0; j < c; j++)
        {
            _batchVar[j] /= rows;
            _invStd[j] = (float)(1.0 / Math.Sqrt(_batchVar[j] + Epsilon));
        }
        if (_xhat.Length != x.Length) _xhat = new float[x.Length];
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < c; j++)
            {
                int i = r * c + j;
                float xh = (float)(xd[i] - _batchMean[j]) * _invStd[j];
                _xhat[i] = xh;
                yd[i] = gamma[j] * xh + beta[j];
            }
        _trainedThisStep = true;
        return y;
    }

    protected override Tensor BackwardUnary(Tensor gradOutput)
    {
        int c = C, rows = gradOutput.Length / c;
        var gx = Ensure(ref _gradIn, gradOutput.Shape[0], InputShapes[0]);
        float[] g = gradOutput.Data, gxd = gx.Data, gamma = Gamma.Value;
        if (!_lastTraining)
        {
            var xd = Input!.Data;
            for (int r = 0; r < rows; r++)
                for (int j = 0; j < c; j++)
                {
                    int i = r * c + j;
                    Gamma.Grad[j] += g[i] * (xd[i] - MovingMean.Value[j]) * _invStd[j];
                    Beta.Grad[j] += g[i];
                    gxd[i] = g[i] * gamma[j] * _invStd[j];
                }
            return gx;
        }
        var sumG = new double[c];
        var sumGX = new double[c];
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < c; j++)
            {
                int i = r * c + j;
                sumG[j] += g[i];
                sumGX[j] += g[i] * _xhat[i];
            }
        for (int j = 0; j < c; j++)
        {
            Gamma.Grad[j] += (float)sumGX[j];
            Beta.Grad[j] += (float)sumG[j];
        }
        // dx = γ·invstd/N · (N·g − Σg − x̂·Σ(g·x̂))
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < c; j++)
            {
                int i = r * c + j;
                gxd[i] = (float)(gamma[j] * _invStd[j] * (g[i] - sumG[j] / rows - _xhat[i] * sumGX[j] / rows));
            }
        return gx;
    }

    public override void CommitState(IReadOnlyList<Layer> replicas)
    {
        int c = C;
        var mean = new double[c];
        var variance = new double[c];
        int count = 0;
        foreach (var layer in replicas)
        {
            var bn = (BatchNorm)layer;
            if (!bn._trainedThisStep) continue;
            bn._trainedThisStep = false;
            for (int j = 0; j < c; j++)
            {
                mean[j] += bn._batchMean[j];
                variance[j] += bn._batchVar[j];
            }
            count++;
        }
        if (count == 0) return;
        for (int j = 0; j < c; j++)
        {
            MovingMean.Value[j] = (float)(MovingMean.Value[j] * Momentum + mean[j] / count * (1 - Momentum));
            MovingVariance.Value[j] = (float)(MovingVariance.Value[j] * Momentum + variance[j] / count * (1 - Momentum));
        }
    }

    public override Layer CloneForWorker()
    {
        var c = CopyBuildTo(new BatchNorm(Momentum, Epsilon));
        c.Gamma = Gamma.ShareForWorker();
        c.Beta = Beta.ShareForWorker();
        c.MovingMean = MovingMean;
        c.MovingVariance = MovingVariance;
        return c;
    }

    public override void WriteConfig(Utf8JsonWriter w)
    {
        w.WriteNumber("momentum", Momentum);
        w.WriteNumber("epsilon", Epsilon);
    }
}
