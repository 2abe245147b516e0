using System.Text;

namespace Palisade.Server.Actions;

/// <summary>Finding the caller's resources by the IDs a request names, with ECS's errors.</summary>
internal static class Lookups
{
    public static SecurityGroupId GroupId(string text) =>
        SecurityGroupId.TryParse(text, out var id) ? id : throw new EcsException(EcsErrors.SecurityGroupIdMalformed(text));

    /// <summary>A resource of another region than the request names does not exist for the request.</summary>
    private static bool InRegion(ActionContext c, string regionId) =>
        c.Parameters.Optional("RegionId") is not { } asked || asked == regionId;

    public static GroupRecord Group(this IStoreSession s, ActionContext c, string text) => s.Group(c, GroupId(text));

    public static GroupRecord Group(this IStoreSession s, ActionContext c, SecurityGroupId id) =>
        s.Groups.Find(c.AccountId, id) is { } g && InRegion(c, g.RegionId) ? g : throw new EcsException(EcsErrors.SecurityGroupNotFound(id.Value));

    public static InstanceId InstanceIdOf(string text) =>
        InstanceId.TryParse(text, out var id) ? id : throw new EcsException(EcsErrors.InstanceIdMalformed(text));

    public static InstanceRecord Instance(this IStoreSession s, ActionContext c, string text) => s.Instance(c, InstanceIdOf(text));

    public static InstanceRecord Instance(this IStoreSession s, ActionContext c, InstanceId id) =>
        s.Instances.Find(c.AccountId, id) is { } i && InRegion(c, i.RegionId) ? i : throw new EcsException(EcsErrors.InstanceNotFound(id.Value));

    /// <summary>An ENI of the caller's in the request's region; anything else (malformed, another account's) does not exist.</summary>
    public static NetworkInterfaceRecord NetworkInterface(this IStoreSession s, ActionContext c, string text) =>
        (NetworkInterfaceId.TryParse(text, out var id) ? s.NetworkInterfaces.Find(c.AccountId, id) : null) is { } e && InRegion(c, e.RegionId)
            ? e : throw new EcsException(EcsErrors.NetworkInterfaceNotFound(text));

    public static VpcRecord Vpc(this IStoreSession s, ActionContext c, string text) =>
        (VpcId.TryParse(text, out var id) ? s.Vpcs.Find(c.AccountId, id) : null) is { } v && InRegion(c, v.RegionId) ? v : throw new EcsException(EcsErrors.VpcNotFound(text));

    public static VSwitchRecord VSwitch(this IStoreSession s, ActionContext c, string text) =>
        (VSwitchId.TryParse(text, out var id) ? s.VSwitches.Find(c.AccountId, id) : null) is { } w && InRegion(c, w.RegionId) ? w : throw new EcsException(EcsErrors.VSwitchNotFound(text));
}

/// <summary>
/// The two paging styles of ECS lists: <c>PageNumber</c>/<c>PageSize</c> (with <c>TotalCount</c>)
/// and <c>MaxResults</c>/<c>NextToken</c> (an opaque token; no total). Not both in one request.
/// </summary>
internal sealed record Paging(bool TokenMode, int Offset, int Size, int PageNumber)
{
    public static Paging Read(ParameterReader p, int defaultSize, int maxPageSize, int maxResults)
    {
        var tokenMode = p.Has("MaxResults") || p.Has("NextToken");
        if (tokenMode && (p.Has("PageNumber") || p.Has("PageSize")))
            throw new EcsException(EcsErrors.PageNumberAndNextToken());
        if (tokenMode)
        {
            var size = p.Int("MaxResults", defaultSize, 1, maxResults);
            var offset = 0;
            if (p.Optional("NextToken") is { } token)
                offset = DecodeToken(token);
            return new Paging(true, offset, size, 0);
        }
        var page = p.Int("PageNumber", 1, 1, 1_000_000);
        var pageSize = p.Int("PageSize", defaultSize, 1, maxPageSize);
        return new Paging(false, (page - 1) * pageSize, pageSize, page);
    }

    public IReadOnlyList<T> Take<T>(IReadOnlyList<T> all) => [.. all.Skip(Offset).Take(Size)];

    /// <summary>
    /// A Describe… answer: <paramref name="before"/>'s fields, the paging fields, then the page of
    /// <paramref name="all"/> as <paramref name="field"/>, written by <paramref name="render"/>.
    /// </summary>
    public Responses.EcsObject Answer<T>(IReadOnlyList<T> all, string field, Func<IReadOnlyList<T>, object> render, Responses.EcsObject? before = null)
    {
        var response = before ?? [];
        Describe(response, all);
        response.Add(field, render(Take(all)));
        return response;
    }

    /// <summary>Adds TotalCount/PageNumber/PageSize or NextToken to a response.</summary>
    public void Describe<T>(Responses.EcsObject response, IReadOnlyList<T> all)
    {
        if (TokenMode)
        {
            response.Add("NextToken", Offset + Size < all.Count ? EncodeToken(Offset + Size) : "");
            response.Add("MaxResults", Size);
        }
        else
        {
            response.Add("TotalCount", all.Count);
            response.Add("PageNumber", PageNumber);
            response.Add("PageSize", Size);
        }
    }

    private static string EncodeToken(int offset) => Convert.ToBase64String(Encoding.ASCII.GetBytes($"palisade:{offset}"));

    private static int DecodeToken(string token)
    {
        try
        {
            var text = Encoding.ASCII.GetString(Convert.FromBase64String(token));
            if (text.StartsWith("palisade:", StringComparison.Ordinal) && int.TryParse(text.AsSpan("palisade:".Length), out var offset) && offset >= 0)
                return offset;
        }
        catch (FormatException)
        {
        }
        throw new EcsException(EcsErrors.NextTokenInvalid(token));
    }
}
