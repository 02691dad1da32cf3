using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace HetQ.Nn;

/// <summary>Element-wise activations (softmax over the last axis). Every derivative is computed
/// from the activation's output, so a layer needs to keep only its output for the backward pass.</summary>
public enum ActivationKind { Linear, Relu, LeakyRelu, HardTanh, Sigmoid, Tanh, Softmax }

/// <summary>An activation with its hyperparameters.</summary>
public readonly record struct Activation(ActivationKind Kind, float Alpha = 0.3f, float Min = -1f, float Max = 1f)
{
    public static readonly string[] Names = { "linear", "relu", "leaky_relu", "hard_tanh", "sigmoid", "tanh", "softmax" };

    public static Activation Parse(string name, JsonSpec? spec = null) => name switch
    {
        "linear" or "none" => new(ActivationKind.Linear),
        "relu" => new(ActivationKind.Relu),
        "leaky_relu" or "leakyrelu" => new(ActivationKind.LeakyRelu, Alpha: (float)(spec?.Double("alpha") ?? 0.3)),
        "hard_tanh" or "hardtanh" => new(ActivationKind.HardTanh, Min: (float)(spec?.Double("min") ?? -1), Max: (float)(spec?.Double("max") ?? 1)),
        "sigmoid" => new(ActivationKind.Sigmoid),
        "tanh" => new(ActivationKind.Tanh),
        "softmax" => new(ActivationKind.Softmax),
        _ => throw new HetQException($"unknown activation '{name}' (known: {string.Join(", ", Names)})"),
    };

    public string Name => Kind switch
    {
        ActivationKind.Linear => "linear",
        ActivationKind.Relu => "relu",
        ActivationKind.LeakyRelu => "leaky_relu",
        ActivationKind.HardTanh => "hard_tanh",
        ActivationKind.Sigmoid => "sigmoid",
        ActivationKind.Tanh => "tanh",
        _ => "softmax",
    };

    /// <summary>In place; <paramref name="lastDim"/> is the softmax axis length.</summary>
    public void Apply(Span<float> x, int lastDim)
    {
        switch (Kind)
        {
            case ActivationKind.Linear: break;
            case ActivationKind.Relu: TensorPrimitives.Max(x, 0f, x); break;
            case ActivationKind.LeakyRelu:
                for (int i = 0; i < x.Length; i++) if (x[i] < 0) x[i] *= Alpha;
                break;
            case ActivationKind.HardTanh: TensorPrimitives.Clamp(x, Min, Max, x); break;
            case ActivationKind.Sigmoid: TensorPrimitives.Sigmoid(x, x); break;
            case ActivationKind.Tanh: TensorPrimitives.Tanh(x, x); break;
            case ActivationKind.Softmax:
                for (int r = 0; r + lastDim <= x.Length; r += lastDim) SoftmaxRow(x.Slice(r, lastDim));
                break;
        }
    }

    /// <summary>gradIn = gradOut · f'(·), from the output y. gradIn may alias gradOut.</summary>
    public void Backward(ReadOnlySpan<float> y, ReadOnlySpan<float> gradOut, Span<float> gradIn, int lastDim)
    {
        switch (Kind)
        {
            case ActivationKind.Linear:
                if (!gradOut.Overlaps(gradIn)) gradOut.CopyTo(gradIn);
                break;
            case ActivationKind.Relu:
                ReluMask(y, gradOut, gradIn);
                break;
            case ActivationKind.LeakyRelu:
                for (int i = 0; i < y.Length; i++) gradIn[i] = y[i] > 0 ? gradOut[i] : gradOut[i] * Alpha;
                break;
            case ActivationKind.HardTanh:
                for (int i = 0; i < y.Length; i++) gradIn[i] = y[i] > Min && y[i] < Max ? gradOut[i] : 0f;
                break;
            case ActivationKind.Sigmoid:
                for (int i = 0; i < y.Length; i++) gradIn[i] = gradOut[i] * y[i] * (1 - y[i]);
                break;
            case ActivationKind.Tanh:
                for (int i = 0; i < y.Length; i++) gradIn[i] = gradOut[i] * (1 - y[i] * y[i]);
                break;
            case ActivationKind.Softmax:
                for (int r = 0; r + lastDim <= y.Length; r += lastDim)
                {
                    var yr = y.Slice(r, lastDim);
                    float dot = TensorPrimitives.Dot(yr, gradOut.Slice(r, lastDim));
                    for (int j = 0; j < lastDim; j++) gradIn[r + j] = yr[j] * (gradOut[r + j] - dot);
                }
                break;
        }
    }

    /// <summary>gradIn = y &gt; 0 ? gradOut : 0, branch-free.</summary>
    public static void ReluMask(ReadOnlySpan<float> y, ReadOnlySpan<float> gradOut, Span<float> gradIn)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref float yr = ref MemoryMarshal.GetReference(y);
            ref float gr = ref MemoryMarshal.GetReference(gradOut);
            ref float dr = ref MemoryMarshal.GetReference(gradIn);
            for (; i + 8 <= y.Length; i += 8)
            {
                var mask = Vector256.GreaterThan(Vector256.LoadUnsafe(ref yr, (nuint)i), Vector256<float>.Zero);
                (Vector256.LoadUnsafe(ref gr, (nuint)i) & mask).StoreUnsafe(ref dr, (nuint)i);
            }
        }
        for (; i < y.Length; i++) gradIn[i] = y[i] > 0 ? gradOut[i] : 0f;
    }

    public static void SoftmaxRow(Span<float> x)
    {
        float max = TensorPrimitives.Max(x);
        float sum = 0;
        for (int j = 0; j < x.Length; j++)
        {
            x[j] = MathF.Exp(x[j] - max);
            sum += x[j];
        }
        TensorPrimitives.Divide(x, sum, x);
    }
}
