namespace Palisade.Analysis;

/// <summary>
/// How far a long piece of analysis is: the phase it is in and how many of the phase's steps are
/// done. Reported through <see cref="IProgress{T}"/> on the thread doing the work; the analysis
/// never depends on anyone listening (the CLI draws a bar on a terminal, nothing on a pipe).
/// </summary>
public readonly record struct WorkProgress(string Phase, int Done, int Total);
