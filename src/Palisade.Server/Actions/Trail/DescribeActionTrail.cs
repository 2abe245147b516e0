using System.Globalization;

namespace Palisade.Server.Actions.Trail;

/// <summary>
/// Palisade extension, after Alibaba Cloud ActionTrail's LookupEvents: the caller's account's
/// mutating calls, newest first, each with its time, AccessKey, action, parameters (without the
/// signature or secrets), result code and revision. Filters: <c>StartTime</c>, <c>EndTime</c>
/// (UTC, <c>yyyy-MM-ddTHH:mm:ssZ</c>, both inclusive), <c>ActionName</c>; paging by
/// <c>MaxResults</c> (1–100, default 20) and <c>NextToken</c>.
/// </summary>
// Refusals join the trail without a new revision, so a cached answer could miss them.
internal sealed class DescribeActionTrail() : ReadAction(cacheable: false)
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        var from = TimeParameter(p, "StartTime");
        var to = TimeParameter(p, "EndTime");
        if (from > to)
            throw new EcsException(EcsErrors.ParameterInvalid("StartTime", "StartTime is after EndTime."));
        var max = p.Int("MaxResults", 20, 1, 100);
        long? before = null;
        if (p.Optional("NextToken") is { } token)
        {
            if (token.Length > 19 || !long.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var id) || id < 1)
                throw new EcsException(EcsErrors.NextTokenInvalid(token));
            before = id;
        }
        var action = p.Optional("ActionName");
        // One more than asked tells whether there is a next page.
        var events = c.Read(s => s.ListTrail(new ActionTrailQuery(c.AccountId, from, to, action, before, max + 1)));
        var page = events.Take(max).ToList();
        return new EcsObject
        {
            { "NextToken", events.Count > max ? page[^1].EventId.ToString(CultureInfo.InvariantCulture) : "" },
            { "Events", EcsList.Of("Event", page.Select(e => new EcsObject
                {
                    { "EventId", e.EventId.ToString(CultureInfo.InvariantCulture) },
                    { "EventTime", Time.Format(e.Entry.EventTime) },
                    { "AccessKeyId", e.Entry.AccessKeyId },
                    { "ActionName", e.Entry.Action },
                    { "ApiVersion", e.Entry.ApiVersion },
                    { "RequestId", e.Entry.RequestId },
                    { "RequestParameters", e.Entry.Parameters },
                    { "HttpStatus", e.Entry.HttpStatus },
                    { "ResultCode", e.Entry.ResultCode },
                    { "Revision", e.Revision is { } r ? r.ToString(CultureInfo.InvariantCulture) : "" },
                })) },
        };
    }

    private static DateTimeOffset? TimeParameter(ParameterReader p, string name)
    {
        if (p.Optional(name) is not { } text)
            return null;
        if (!DateTimeOffset.TryParseExact(text, "yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at))
            throw new EcsException(EcsErrors.ParameterInvalid(name, $"'{(text.Length > 40 ? text[..40] + "…" : text)}' is not a UTC time in the form yyyy-MM-ddTHH:mm:ssZ."));
        return at;
    }
}
