namespace Palisade.Server.Actions.Hosts;

/// <summary>
/// <c>Days</c> of what the agents reported (rule usage, observed flows): 1 to the days the server
/// keeps, 7 (or all it keeps, when less) unless asked.
/// </summary>
internal static class Lookback
{
    public static int Days(ParameterReader p, TimeSpan retention)
    {
        var kept = Math.Max(1, (int)retention.TotalDays);
        return p.Int("Days", Math.Min(7, kept), 1, kept);
    }
}
