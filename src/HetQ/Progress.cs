using System.Diagnostics;
using System.Globalization;

namespace HetQ;

/// <summary>Progress of long work as plain lines (for stderr; a log file or a pipe reads them as well as a terminal): a line
/// when a step starts, "still running (N s)" every <see cref="Interval"/> (once a minute after the first minute), a line with the elapsed time when it ends; and
/// counted work (batches) at most every <see cref="Throttle"/>.</summary>
public sealed class Progress
{
    private readonly Action<string> _write;
    private readonly Lock _gate = new();

    /// <param name="write">where each line goes (called under a lock, from a timer thread too)</param>
    /// <param name="interval">how often a running step says it is still running (default 10 s)</param>
    /// <param name="throttle">the least time between two lines of counted work (default 2 s)</param>
    public Progress(Action<string> write, TimeSpan? interval = null, TimeSpan? throttle = null)
    {
        ArgumentNullException.ThrowIfNull(write);
        _write = write;
        Interval = interval ?? TimeSpan.FromSeconds(10);
        Throttle = throttle ?? TimeSpan.FromSeconds(2);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(Interval, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(Throttle, TimeSpan.Zero);
    }

    /// <summary>How often a running step prints "still running".</summary>
    public TimeSpan Interval { get; }

    /// <summary>The least time between two lines of <see cref="Counter"/>.</summary>
    public TimeSpan Throttle { get; }

    internal void Write(string line)
    {
        lock (_gate) _write(line);
    }

    /// <summary>Starts a step: prints "WHAT ..." now, "WHAT: still running (N s)" every interval, and on
    /// <see cref="ProgressStep.Dispose"/> "WHAT: done in N s" (or "stopped after N s" when <see cref="ProgressStep.Done"/>
    /// was not called: it failed or was cancelled).</summary>
    public ProgressStep Step(string what) => new(this, what, null);

    /// <summary>A step that may well be quick: it says nothing unless it runs past <paramref name="announceAfter"/>; then
    /// "WHAT ... (running N s)", "still running" every interval, and the closing line.</summary>
    public ProgressStep QuietStep(string what, TimeSpan announceAfter) => new(this, what, announceAfter);

    /// <summary>Counted work (done of total) printed at most every <see cref="Throttle"/>, with the elapsed time.</summary>
    public ProgressCounter Counter(string what) => new(this, what);

    /// <summary>Seconds as "0.4 s", "12 s", "3 min 05 s".</summary>
    public static string Seconds(double s) => s switch
    {
        < 10 => s.ToString("0.0", CultureInfo.InvariantCulture) + " s",
        < 120 => s.ToString("0", CultureInfo.InvariantCulture) + " s",
        _ => string.Create(CultureInfo.InvariantCulture, $"{(int)(s / 60)} min {(int)(s % 60):00} s"),
    };
}

/// <summary>One running step of a <see cref="Progress"/>; dispose it when the step ends.</summary>
public sealed class ProgressStep : IDisposable
{
    private readonly Progress _progress;
    private readonly string _what;
    private readonly Stopwatch _watch = Stopwatch.StartNew();
    private readonly Timer _timer;
    private readonly Lock _sync = new();
    private bool _done, _disposed, _announced;

    internal ProgressStep(Progress progress, string what, TimeSpan? announceAfter)
    {
        _progress = progress;
        _what = what;
        if (announceAfter is null)
        {
            progress.Write($"{what} ...");
            _announced = true;
        }
        _timer = new Timer(_ => Tick(), null, announceAfter ?? progress.Interval, progress.Interval);
    }

    /// <summary>The time since the step started.</summary>
    public TimeSpan Elapsed => _watch.Elapsed;

    private void Tick()
    {
        lock (_sync)
        {
            if (_disposed) return;
            string t = Progress.Seconds(_watch.Elapsed.TotalSeconds);
            _progress.Write(_announced ? $"{_what}: still running ({t})" : $"{_what} ... (running {t})");
            _announced = true;
            // every interval for the first minute, then once a minute: a long Yosys run is not a wall of lines
            if (_watch.Elapsed >= TimeSpan.FromMinutes(1) && _progress.Interval < TimeSpan.FromMinutes(1))
                _timer.Change(TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
        }
    }

    /// <summary>Marks the step as finished well; the closing line then says "done".</summary>
    public void Done() => _done = true;

    public void Dispose()
    {
        lock (_sync)
        {
            if (_disposed) return;
            _disposed = true;
        }
        _timer.Dispose();
        if (_announced) _progress.Write($"{_what}: {(_done ? "done in" : "stopped after")} {Progress.Seconds(_watch.Elapsed.TotalSeconds)}");
    }
}

/// <summary>Counted work of a <see cref="Progress"/>: <see cref="Report"/> prints at most every throttle interval.</summary>
public sealed class ProgressCounter
{
    private readonly Progress _progress;
    private readonly string _what;
    private readonly Stopwatch _watch = Stopwatch.StartNew();
    private TimeSpan _last = TimeSpan.Zero;

    internal ProgressCounter(Progress progress, string what)
    {
        _progress = progress;
        _what = what;
    }

    /// <summary>Starts the count again (a new epoch): the elapsed time and the throttle restart.</summary>
    public void Restart()
    {
        _watch.Restart();
        _last = TimeSpan.Zero;
    }

    /// <summary>Prints "WHAT DONE/TOTAL (P %), N s" unless a line was printed less than the throttle interval ago (the first
    /// line waits one interval too, so quick work prints nothing). Returns whether it printed.</summary>
    public bool Report(long done, long total, string? prefix = null)
    {
        var now = _watch.Elapsed;
        if (now - _last < _progress.Throttle) return false;
        _last = now;
        double pct = total > 0 ? 100.0 * done / total : 0;
        _progress.Write(string.Create(CultureInfo.InvariantCulture, $"{prefix}{_what} {done}/{total} ({pct:0} %), {Progress.Seconds(now.TotalSeconds)}"));
        return true;
    }
}
