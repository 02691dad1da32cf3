global using Tensor = HetQ.Numerics.Tensor;
