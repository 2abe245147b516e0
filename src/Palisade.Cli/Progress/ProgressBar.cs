using System.CommandLine;
using System.Globalization;
using Palisade.Analysis;

namespace Palisade.Cli;

/// <summary>
/// Long work (an import, an audit, a reachability matrix) drawn as one line on stderr, redrawn in
/// place with <c>\r</c> and wiped when the work is done, so that what follows starts on a clean
/// line. Only on a terminal: on a pipe or a file (and in tests) nothing is drawn, so that output
/// stays exactly what the golden files hold.
/// </summary>
public sealed class ProgressBar : IProgress<WorkProgress>, IDisposable
{
    /// <summary>The cells of the bar itself.</summary>
    public const int Width = 30;

    /// <summary>No more redraws than this: a terminal over SSH should not be flooded.</summary>
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(80);

    private readonly TextWriter _writer;
    private readonly string _task;
    private readonly TimeProvider _clock;
    private string _shown = "";
    private DateTimeOffset _drawnAt = DateTimeOffset.MinValue;
    private string? _phase;

    public ProgressBar(TextWriter writer, string task, TimeProvider? clock = null)
    {
        _writer = writer;
        _task = task;
        _clock = clock ?? TimeProvider.System;
    }

    /// <summary>A bar on the command's stderr when that is the process's stderr and a terminal; otherwise null (report to nobody).</summary>
    public static ProgressBar? For(ParseResult parse, string task) =>
        IsTerminal(parse.InvocationConfiguration.Error) ? new ProgressBar(parse.InvocationConfiguration.Error, task) : null;

    public static bool IsTerminal(TextWriter error) => ReferenceEquals(error, Console.Error) && !Console.IsErrorRedirected;

    /// <summary>The line for a point of the work: <c>audit: rules [#######-------]  50% (5/10)</c>; a phase without steps has no bar.</summary>
    public static string Render(string task, WorkProgress progress, int width = Width)
    {
        if (progress.Total <= 0)
            return $"{task}: {progress.Phase}";
        var done = Math.Clamp(progress.Done, 0, progress.Total);
        var filled = (int)((long)done * width / progress.Total);
        var percent = (int)((long)done * 100 / progress.Total);
        return string.Create(CultureInfo.InvariantCulture,
            $"{task}: {progress.Phase} [{new string('#', filled)}{new string('-', width - filled)}] {percent,3}% ({done}/{progress.Total})");
    }

    public void Report(WorkProgress value)
    {
        var now = _clock.GetUtcNow();
        // A new phase always shows; within one, at most one redraw per interval.
        if (value.Phase == _phase && now - _drawnAt < Interval)
            return;
        _phase = value.Phase;
        _drawnAt = now;
        Draw(Render(_task, value));
    }

    private void Draw(string line)
    {
        if (line == _shown)
            return;
        // Spaces over what is left of a longer line before.
        _writer.Write("\r" + line.PadRight(_shown.Length));
        _writer.Flush();
        _shown = line;
    }

    /// <summary>Wipes the line, leaving the cursor at its start.</summary>
    public void Dispose()
    {
        if (_shown.Length == 0)
            return;
        _writer.Write("\r" + new string(' ', _shown.Length) + "\r");
        _writer.Flush();
        _shown = "";
    }
}
