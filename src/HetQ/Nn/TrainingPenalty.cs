namespace HetQ.Nn;

/// <summary>A term the trainer adds to the loss at every step (learned bit widths: beta·EBOPs + L1 on the widths):
/// <see cref="BeginBatch"/> runs before each batch's forward pass, <see cref="AddGradient"/> after the gradients of
/// all workers are summed into the main model's parameters and before clipping and the optimizer step.</summary>
public interface ITrainingPenalty
{
    /// <summary>Before batch <paramref name="batch"/> of <paramref name="batches"/> in epoch <paramref name="epoch"/> (1-based) of <paramref name="epochs"/>.</summary>
    void BeginBatch(int epoch, int epochs, int batch, int batches);

    /// <summary>Adds the penalty's gradient to the main model's parameter gradients; returns the penalty (per sample, like the loss).</summary>
    double AddGradient();
}
