namespace HetQ.Hardware;

/// <summary>Non-negative least squares (Lawson and Hanson's active-set method) for the few features of the
/// resource model: the x ≥ 0 minimising |A x - b|.</summary>
internal static class Nnls
{
    public static double[] Solve(double[][] a, double[] b, int maxIterations = 500)
    {
        int m = a.Length, n = m == 0 ? 0 : a[0].Length;
        var x = new double[n];
        var passive = new bool[n];
        for (int iter = 0; iter < maxIterations; iter++)
        {
            var w = Gradient(a, b, x);
            int best = -1;
            for (int j = 0; j < n; j++)
                if (!passive[j] && w[j] > 1e-10 * (1 + Math.Abs(w[j])) && (best < 0 || w[j] > w[best])) best = j;
            if (best < 0) break;
            passive[best] = true;
            while (true)
            {
                var z = LeastSquares(a, b, passive);
                bool feasible = true;
                for (int j = 0; j < n; j++) if (passive[j] && z[j] <= 0) feasible = false;
                if (feasible)
                {
                    x = z;
                    break;
                }
                double alpha = 1;
                for (int j = 0; j < n; j++)
                    if (passive[j] && z[j] <= 0) alpha = Math.Min(alpha, x[j] / (x[j] - z[j]));
                for (int j = 0; j < n; j++)
                {
                    x[j] += alpha * (z[j] - x[j]);
                    if (passive[j] && x[j] <= 1e-12) { passive[j] = false; x[j] = 0; }
                }
            }
        }
        return x;
    }

    /// <summary>Aᵀ(b - A x).</summary>
    private static double[] Gradient(double[][] a, double[] b, double[] x)
    {
        int n = x.Length;
        var g = new double[n];
        for (int i = 0; i < a.Length; i++)
        {
            double r = b[i];
            for (int j = 0; j < n; j++) r -= a[i][j] * x[j];
            for (int j = 0; j < n; j++) g[j] += a[i][j] * r;
        }
        return g;
    }

    /// <summary>Unconstrained least squares on the passive columns (normal equations, Gaussian elimination with
    /// partial pivoting and a tiny ridge for collinear columns); zero elsewhere.</summary>
    internal static double[] LeastSquares(double[][] a, double[] b, bool[] passive)
    {
        var cols = Enumerable.Range(0, passive.Length).Where(j => passive[j]).ToArray();
        int k = cols.Length;
        var m = new double[k, k + 1];
        for (int i = 0; i < a.Length; i++)
            for (int p = 0; p < k; p++)
            {
                for (int q = 0; q < k; q++) m[p, q] += a[i][cols[p]] * a[i][cols[q]];
                m[p, k] += a[i][cols[p]] * b[i];
            }
        for (int p = 0; p < k; p++) m[p, p] += 1e-12 * (1 + m[p, p]);
        for (int c = 0; c < k; c++)
        {
            int piv = c;
            for (int r = c + 1; r < k; r++) if (Math.Abs(m[r, c]) > Math.Abs(m[piv, c])) piv = r;
            for (int q = 0; q <= k; q++) (m[c, q], m[piv, q]) = (m[piv, q], m[c, q]);
            for (int r = 0; r < k; r++)
            {
                if (r == c || m[c, c] == 0) continue;
                double f = m[r, c] / m[c, c];
                for (int q = c; q <= k; q++) m[r, q] -= f * m[c, q];
            }
        }
        var z = new double[passive.Length];
        for (int p = 0; p < k; p++) z[cols[p]] = m[p, p] == 0 ? 0 : m[p, k] / m[p, p];
        return z;
    }
}
