using System.Runtime.InteropServices;
using System.Text;

namespace HetQ.Files;

/// <summary>The kinds of directory HetQ writes; an existing directory is replaced only when it is of the same kind.</summary>
public enum ArtefactKind
{
    /// <summary>A model directory: model.json of format hetq-model beside weights.bin.</summary>
    Model,
    /// <summary>A hardware design directory: manifest.json of format hetq-hardware beside the Verilog.</summary>
    Design,
    /// <summary>A directory of the main job or of a search (marked by a .hetq file naming the kind).</summary>
    Run,
}

/// <summary>Where HetQ writes: checks an output path before any work starts (never `.`, `..`, the working directory or
/// its parents, a symbolic link, a file where a directory goes, or a directory HetQ did not write), replaces a directory
/// by an atomic swap (the new one is written beside the old, exchanged with it in one rename, then the old is removed),
/// and writes files through a temporary file renamed over the target. A crash at any instant leaves either the old or
/// the new complete artefact; stale temporaries of a crashed run are removed (or, for the two-rename fallback, the old
/// artefact restored) the next time the same target is written.</summary>
public static class SafeOutput
{
    /// <summary>The marker file of <see cref="ArtefactKind.Run"/> directories.</summary>
    public const string MarkerFile = ".hetq";

    private const string TmpTag = ".tmp-", OldTag = ".old-";

    /// <summary>Checks that <paramref name="path"/> may receive an artefact of <paramref name="kind"/>; returns its full
    /// path. <paramref name="what"/> names the option or key (e.g. "--out") in the message; <paramref name="protect"/>
    /// are inputs the output must neither be nor contain.</summary>
    public static string CheckDirectory(string path, ArtefactKind kind, string what, params string?[] protect) =>
        CheckDirectory(path, kind, what, protect, []);

    /// <summary>CheckDirectory for a target whose subdirectories
    /// <paramref name="carry"/> (such as a learned-width run's pareto/) survive its replacement: a directory that holds
    /// only those (each a directory of HetQ artefacts of <paramref name="kind"/>, as a first run leaves it before its
    /// final save) is accepted.</summary>
    public static string CheckDirectory(string path, ArtefactKind kind, string what, string?[] protect, IReadOnlyList<string> carry)
    {
        string full = CheckPath(path, what);
        if (Path.GetPathRoot(full) == full) throw new HetQException($"{what} {path}: is the root directory");
        string cwd = Trim(Path.GetFullPath(Directory.GetCurrentDirectory()));
        if (full == cwd) throw new HetQException($"{what} {path}: is the working directory; give a new or HetQ-written directory");
        if (cwd.StartsWith(full + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new HetQException($"{what} {path}: is a parent of the working directory");
        foreach (var p in protect)
        {
            if (string.IsNullOrEmpty(p)) continue;
            string input = Trim(Path.GetFullPath(p));
            if (input == full || input.StartsWith(full + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                throw new HetQException($"{what} {path}: would replace the input {p}; choose another output directory");
        }
        var info = new DirectoryInfo(full);
        if (info.LinkTarget is not null) throw new HetQException($"{what} {path}: is a symbolic link; give the directory it points to, or a new one");
        if (File.Exists(full)) throw new HetQException($"{what} {path}: exists and is not a directory");
        if (info.Exists && !IsArtefact(full, kind, carry))
            throw new HetQException($"{what} {path}: exists and is not a HetQ {Describe(kind)} (it holds {Entries(full)} entries); "
                                    + "HetQ replaces only what it wrote: remove it or choose another directory");
        string? parent = Path.GetDirectoryName(full);
        if (parent is not null && File.Exists(parent)) throw new HetQException($"{what} {path}: its parent {parent} is a file");
        return full;
    }

    /// <summary>Checks that <paramref name="path"/> may be written as a file: not a directory, a symbolic link or a
    /// device, and, when <paramref name="format"/> is given, an existing file must be a JSON file of that format (HetQ
    /// replaces only what it wrote); returns its full path.</summary>
    public static string CheckFile(string path, string what, string? format = null)
    {
        string full = CheckPath(path, what);
        var info = new FileInfo(full);
        if (Directory.Exists(full)) throw new HetQException($"{what} {path}: is a directory, a file is expected");
        if (info.LinkTarget is not null) throw new HetQException($"{what} {path}: is a symbolic link; give the file it points to");
        if (info.Exists && !IsRegular(full))
            throw new HetQException($"{what} {path}: is not a regular file");
        if (format is not null && info.Exists && info.Length > 0 && !HasFormat(full, format))
            throw new HetQException($"{what} {path}: exists and is not a {format} file; HetQ replaces only what it wrote: remove it or choose another name");
        string? parent = Path.GetDirectoryName(full);
        if (parent is not null && File.Exists(parent)) throw new HetQException($"{what} {path}: its parent {parent} is a file");
        return full;
    }

    /// <summary>Whether <paramref name="directory"/> is empty or an artefact of <paramref name="kind"/> that HetQ wrote.</summary>
    public static bool IsArtefact(string directory, ArtefactKind kind) => IsArtefact(directory, kind, []);

    /// <summary>IsArtefact, also true for a directory that holds only the carried
    /// subdirectories <paramref name="carry"/>, each holding only HetQ artefacts of <paramref name="kind"/>.</summary>
    public static bool IsArtefact(string directory, ArtefactKind kind, IReadOnlyList<string> carry)
    {
        if (!Directory.Exists(directory)) return false;
        // Empty, or holding only another HetQ process's temporaries (a worker marking the same new directory), or (a
        // first run before its final save) only the carried subdirectories.
        var entries = Directory.EnumerateFileSystemEntries(directory).Select(e => Path.GetFileName(e)!).ToList();
        if (entries.All(e => IsTemporary(e) || carry.Contains(e) && IsCarried(Path.Combine(directory, e), kind)))
            return true;
        return kind switch
        {
            ArtefactKind.Model => HasFormat(Path.Combine(directory, "model.json"), "hetq-model"),
            ArtefactKind.Design => HasFormat(Path.Combine(directory, "manifest.json"), "hetq-hardware"),
            // a search directory written before the marker existed holds its study or its trials
            _ => File.Exists(Path.Combine(directory, MarkerFile)) && ReadSmall(Path.Combine(directory, MarkerFile)).Trim() == kind.ToString().ToLowerInvariant()
                 || File.Exists(Path.Combine(directory, "study.sqlite")) || Directory.Exists(Path.Combine(directory, "trials")),
        };
    }

    private static bool IsTemporary(string name) => name.StartsWith('.') && name.Contains(TmpTag, StringComparison.Ordinal);

    /// <summary>Whether <paramref name="dir"/> is a real directory (not a link) that holds only artefacts of
    /// <paramref name="kind"/> and their temporaries (or old copies of a crashed two-rename swap).</summary>
    private static bool IsCarried(string dir, ArtefactKind kind) =>
        Directory.Exists(dir) && new DirectoryInfo(dir).LinkTarget is null
        && Directory.EnumerateFileSystemEntries(dir).All(e => IsTemporary(Path.GetFileName(e)) || Path.GetFileName(e).StartsWith('.') && Path.GetFileName(e).Contains(OldTag, StringComparison.Ordinal)
                                                          || new DirectoryInfo(e).LinkTarget is null && IsArtefact(e, kind));

    /// <summary>Writes the marker of <paramref name="kind"/> into <paramref name="directory"/> (for Run directories).</summary>
    public static void Mark(string directory, ArtefactKind kind) =>
        WriteText(Path.Combine(directory, MarkerFile), kind.ToString().ToLowerInvariant() + "\n");

    /// <summary>Replaces (or creates) the directory <paramref name="target"/> with what <paramref name="write"/> puts
    /// into a new directory beside it: the target is checked first (CheckDirectory), then the new
    /// directory is swapped in atomically and the old one removed. Nothing is left half-written when
    /// <paramref name="write"/> fails.</summary>
    public static string ReplaceDirectory(string target, ArtefactKind kind, Action<string> write, string what = "output", params string?[] protect) =>
        Replace(target, kind, write, what, protect, [], twoRenames: false, step: null);

    /// <summary><see cref="ReplaceDirectory"/> that carries the
    /// subdirectories <paramref name="carry"/> of the old directory (such as pareto/) into the new one before the swap,
    /// as hard links (copies where links cannot be made), so they exist in the old directory and in the new one at
    /// every instant: a crash between any two steps loses neither the model nor them.</summary>
    public static string ReplaceDirectoryCarrying(string target, ArtefactKind kind, Action<string> write, string what, IReadOnlyList<string> carry, params string?[] protect) =>
        Replace(target, kind, write, what, protect, carry, twoRenames: false, step: null);

    /// <summary>ReplaceDirectory with the test seams: <paramref name="twoRenames"/> uses the fallback even
    /// where the atomic exchange exists; <paramref name="step"/> is called after each step ("written", "swapped",
    /// "old-moved", "new-placed", "done"; "carried" after the carried subdirectories were linked, when there were any),
    /// so a test can look at the disk, or stop (throw, as a crash would), at every point between two steps.</summary>
    internal static string Replace(string target, ArtefactKind kind, Action<string> write, string what, string?[] protect, IReadOnlyList<string> carry,
        bool twoRenames, Action<string>? step)
    {
        string full = CheckDirectory(target, kind, what, protect, carry);
        string parent = Path.GetDirectoryName(full)!;
        string name = Path.GetFileName(full);
        Directory.CreateDirectory(parent);
        Recover(full);
        string tmp = Path.Combine(parent, $".{name}{TmpTag}{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(tmp);
        try
        {
            write(tmp);
            step?.Invoke("written");
            if (Carry(full, tmp, carry)) step?.Invoke("carried");
        }
        catch
        {
            TryDelete(tmp);
            throw;
        }
        if (!Directory.Exists(full))
        {
            Directory.Move(tmp, full);
            step?.Invoke("done");
            return full;
        }
        if (!twoRenames && Exchange(tmp, full))
        {
            step?.Invoke("swapped"); // tmp now holds the old directory
            TryDelete(tmp);
            step?.Invoke("done");
            return full;
        }
        string old = Path.Combine(parent, $".{name}{OldTag}{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.Move(full, old);
        step?.Invoke("old-moved");
        try
        {
            Directory.Move(tmp, full);
        }
        catch
        {
            Directory.Move(old, full);
            TryDelete(tmp);
            throw;
        }
        step?.Invoke("new-placed");
        TryDelete(old);
        step?.Invoke("done");
        return full;
    }

    /// <summary>Links the subdirectories <paramref name="carry"/> of <paramref name="from"/> into <paramref name="to"/>;
    /// whether there were any.</summary>
    private static bool Carry(string from, string to, IReadOnlyList<string> carry)
    {
        bool any = false;
        foreach (var name in carry)
        {
            string src = Path.Combine(from, name), dst = Path.Combine(to, name);
            if (!Directory.Exists(src) || new DirectoryInfo(src).LinkTarget is not null) continue;
            if (Path.Exists(dst)) throw new InvalidOperationException($"the new directory already holds {name}, which is carried from the old one");
            LinkTree(src, dst);
            any = true;
        }
        return any;
    }

    /// <summary>Recreates the tree <paramref name="from"/> at <paramref name="to"/>: directories made, files hard-linked
    /// (copied where the file system cannot link), symbolic links recreated as links.</summary>
    private static void LinkTree(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var e in Directory.EnumerateFileSystemEntries(from))
        {
            string dst = Path.Combine(to, Path.GetFileName(e));
            var info = new FileInfo(e);
            if (info.LinkTarget is { } link) File.CreateSymbolicLink(dst, link);
            else if (Directory.Exists(e)) LinkTree(e, dst);
            else if (!HardLink(e, dst)) File.Copy(e, dst);
        }
    }

    private static bool HardLink(string existing, string created)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return false;
        try
        {
            return Native.link(existing, created) == 0;
        }
        catch (EntryPointNotFoundException) { return false; }
        catch (DllNotFoundException) { return false; }
    }

    /// <summary>After a crash: restores the old directory when the target is missing and a moved-away old one exists
    /// (the two-rename fallback), and removes the temporaries of processes that no longer run.</summary>
    public static void Recover(string target)
    {
        string full = Trim(Path.GetFullPath(target));
        string parent = Path.GetDirectoryName(full)!, name = Path.GetFileName(full);
        if (!Directory.Exists(parent)) return;
        foreach (var d in Directory.EnumerateDirectories(parent, $".{name}{OldTag}*").Where(d => !Alive(d, OldTag)).ToList())
        {
            if (!Directory.Exists(full)) Directory.Move(d, full);
            else TryDelete(d);
        }
        foreach (var d in Directory.EnumerateDirectories(parent, $".{name}{TmpTag}*").Where(d => !Alive(d, TmpTag)).ToList()) TryDelete(d);
        foreach (var f in Directory.EnumerateFiles(parent, $".{name}{TmpTag}*").Where(f => !Alive(f, TmpTag)).ToList()) File.Delete(f);
    }

    /// <summary>Writes <paramref name="text"/> to <paramref name="file"/> through a temporary file in the same directory,
    /// flushed to disk and renamed over the target (atomic on POSIX file systems).</summary>
    public static void WriteText(string file, string text, string what = "output", string? format = null) =>
        WriteFile(file, s => s.Write(new UTF8Encoding(false).GetBytes(text)), what, format);

    /// <summary>Writes a file through a temporary file renamed over the target.</summary>
    public static void WriteFile(string file, Action<Stream> write, string what = "output", string? format = null)
    {
        string full = CheckFile(file, what, format);
        string dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        Recover(full);
        string tmp = Path.Combine(dir, $".{Path.GetFileName(full)}{TmpTag}{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write))
            {
                write(fs);
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        catch
        {
            if (File.Exists(tmp)) File.Delete(tmp);
            throw;
        }
    }

    private static string CheckPath(string path, string what)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new HetQException($"{what}: the path is empty");
        if (path.Any(char.IsControl)) throw new HetQException($"{what} {Printable(path)}: the path holds control characters");
        string last = Path.GetFileName(Trim(path));
        if (last is "." or ".." || path.TrimEnd('/') is "." or ".." or "")
            throw new HetQException($"{what} {path}: '.' and '..' are not output directories; name a new directory");
        return Trim(Path.GetFullPath(path));
    }

    /// <summary><paramref name="text"/> with control characters written as \n, \t or \uXXXX (for one-line messages).</summary>
    public static string Printable(string text)
    {
        if (!text.Any(c => char.IsControl(c) || c is '\u2028' or '\u2029')) return text;
        var sb = new StringBuilder(text.Length + 8);
        foreach (char c in text)
            sb.Append(c switch
            {
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ when char.IsControl(c) || c is '\u2028' or '\u2029' => $"\\u{(int)c:x4}",
                _ => c.ToString(),
            });
        return sb.ToString();
    }

    private static string Trim(string full) => full.Length > 1 ? full.TrimEnd(Path.DirectorySeparatorChar) : full;

    private static string Describe(ArtefactKind kind) => kind switch
    {
        ArtefactKind.Model => "model directory (model.json of format hetq-model)",
        ArtefactKind.Design => "design directory (manifest.json of format hetq-hardware)",
        _ => $"run directory (a {MarkerFile} file)",
    };

    private static int Entries(string dir) => Directory.EnumerateFileSystemEntries(dir).Count();

    private static bool HasFormat(string file, string format)
    {
        if (!IsRegular(file)) return false;
        string head = ReadSmall(file);
        int at = head.IndexOf("\"format\"", StringComparison.Ordinal);
        if (at < 0) return false;
        int colon = head.IndexOf(':', at);
        return colon > 0 && head[(colon + 1)..].TrimStart().StartsWith($"\"{format}\"", StringComparison.Ordinal);
    }

    private static string ReadSmall(string file)
    {
        try
        {
            using var fs = new FileStream(file, FileMode.Open, FileAccess.Read);
            var buf = new byte[4096];
            int n = fs.ReadAtLeast(buf, buf.Length, throwOnEndOfStream: false);
            return Encoding.UTF8.GetString(buf, 0, n);
        }
        catch (IOException) { return ""; }
        catch (UnauthorizedAccessException) { return ""; }
    }

    /// <summary>Whether <paramref name="file"/> is a regular file (not a link, directory, FIFO, socket or device).</summary>
    public static bool IsRegular(string file)
    {
        if (!File.Exists(file)) return false;
        if (new FileInfo(file).LinkTarget is not null) return false;
        return !Stat(file, out uint mode) || (mode & 0xF000) == 0x8000; // S_IFMT == S_IFREG
    }

    /// <summary>Whether <paramref name="file"/> is, after following links, a regular file (reading a FIFO or a device
    /// could block or never end).</summary>
    public static bool IsReadable(string file)
    {
        if (!File.Exists(file)) return false;
        return !Stat(file, out uint mode, follow: true) || (mode & 0xF000) == 0x8000;
    }

    private static bool Alive(string path, string tag)
    {
        string rest = Path.GetFileName(path);
        int at = rest.LastIndexOf(tag, StringComparison.Ordinal);
        if (at < 0) return false;
        string pid = rest[(at + tag.Length)..].Split('-')[0];
        if (!int.TryParse(pid, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int id)) return false;
        if (id == Environment.ProcessId) return false;
        try
        {
            using var p = System.Diagnostics.Process.GetProcessById(id);
            return !p.HasExited;
        }
        catch (ArgumentException) { return false; }
        catch (InvalidOperationException) { return false; }
    }

    private static void TryDelete(string dir)
    {
        try { if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    /// <summary>Swaps two directories in one rename (Linux renameat2 RENAME_EXCHANGE); false where it is not available.</summary>
    private static bool Exchange(string a, string b)
    {
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            return Native.renameat2(Native.AtFdCwd, a, Native.AtFdCwd, b, Native.RenameExchange) == 0;
        }
        catch (EntryPointNotFoundException) { return false; }
        catch (DllNotFoundException) { return false; }
    }

    /// <summary>The st_mode of lstat(2) (glibc on x86-64 and arm64); false where it cannot be asked.</summary>
    private static bool Stat(string file, out uint mode, bool follow = false)
    {
        mode = 0;
        if (!OperatingSystem.IsLinux()) return false;
        int offset = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => 24,
            Architecture.Arm64 => 16,
            _ => -1,
        };
        if (offset < 0) return false;
        try
        {
            var buf = new byte[256];
            if ((follow ? Native.stat(file, buf) : Native.lstat(file, buf)) != 0) return false;
            mode = BitConverter.ToUInt32(buf, offset);
            return true;
        }
        catch (EntryPointNotFoundException) { return false; }
        catch (DllNotFoundException) { return false; }
    }

    private static class Native
    {
        public const int AtFdCwd = -100;
        public const uint RenameExchange = 2;

        [DllImport("libc", SetLastError = true)]
        public static extern int renameat2(int olddirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string oldpath, int newdirfd,
            [MarshalAs(UnmanagedType.LPUTF8Str)] string newpath, uint flags);

        [DllImport("libc", SetLastError = true)]
        public static extern int link([MarshalAs(UnmanagedType.LPUTF8Str)] string oldpath, [MarshalAs(UnmanagedType.LPUTF8Str)] string newpath);

        [DllImport("libc", SetLastError = true)]
        public static extern int lstat([MarshalAs(UnmanagedType.LPUTF8Str)] string path, byte[] buf);

        [DllImport("libc", SetLastError = true)]
        public static extern int stat([MarshalAs(UnmanagedType.LPUTF8Str)] string path, byte[] buf);
    }
}
