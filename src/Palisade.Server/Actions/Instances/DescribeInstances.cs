namespace Palisade.Server.Actions.Instances;

internal sealed class DescribeInstances : ReadAction
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        var region = c.Region();
        var ids = p.JsonArray("InstanceIds", 100)?.ToHashSet(StringComparer.Ordinal);
        var group = p.Optional("SecurityGroupId");
        var vpc = p.Optional("VpcId");
        var vsw = p.Optional("VSwitchId");
        var zone = p.Optional("ZoneId");
        var status = p.Optional("Status");
        if (status is not null && status is not ("Pending" or "Running" or "Starting" or "Stopping" or "Stopped"))
            throw new EcsException(EcsErrors.ParameterInvalid("Status", $"'{status}' is not Pending, Running, Starting, Stopping or Stopped."));
        // ECS bounds instance names at 128 characters: a longer pattern can match nothing, and only costs.
        var name = p.Optional("InstanceName") is { } given ? NamePattern.Parse(given, c.Limits.MaxNamePatternLength) : null;
        var network = p.Optional("InstanceNetworkType");
        var inResourceGroup = ResourceGroups.ResourceGroupIds.Filter(p);
        var tags = TagFilter.Read(p);
        var paging = Paging.Read(p, 10, 100, 100);
        return c.Read(s =>
        {
            var tagged = tags.In(s, c.AccountId, TaggedResourceTypes.Instance);
            var all = s.ListInstances(c.AccountId, region.RegionId)
                .Where(i => ids is null || ids.Contains(i.Id.Value))
                .Where(i => group is null || i.SecurityGroupIds.Any(g => g.Value == group))
                .Where(i => vpc is null || i.VpcId?.Value == vpc)
                .Where(i => inResourceGroup(i.ResourceGroupId))
                .Where(i => vsw is null || i.VSwitchId?.Value == vsw)
                .Where(i => zone is null || i.ZoneId == zone)
                .Where(i => status is null || i.Status == status)
                .Where(i => name is null || name.Matches(i.Name))
                .Where(i => network is null || i.NetworkType.ToWire() == network)
                .Where(i => tagged(i.Id.Value))
                .ToList();
            return paging.Answer(all, "Instances", page => EcsList.Of("Instance", page.Select(i => Views.Instance(i, s.ListTags(TaggedResourceTypes.Instance, i.Id.Value), s.NetworkInterfacesOf(i.Id), Addresses.Eips.OfInstance(s, i)))));
        });
    }

    /// <summary>
    /// An InstanceName filter, split once (not once per instance): <c>*</c> is a wildcard; matched piece
    /// by piece, greedily, in linear time, so a pattern like <c>*a*a*a*b</c> cannot tie up the server.
    /// </summary>
    internal sealed class NamePattern
    {
        private readonly string[] _pieces;

        private NamePattern(string[] pieces) => _pieces = pieces;

        public static NamePattern Parse(string pattern, int maxLength) =>
            pattern.Length > maxLength
                ? throw new EcsException(EcsErrors.ParameterInvalid("InstanceName", $"a name pattern holds at most {maxLength} characters, as an instance name does."))
                : new NamePattern(pattern.Split('*'));

        public bool Matches(string name)
        {
            var pieces = _pieces;
            if (pieces.Length == 1)
                return pieces[0] == name;
            if (!name.StartsWith(pieces[0], StringComparison.Ordinal) || !name.EndsWith(pieces[^1], StringComparison.Ordinal) || name.Length < pieces[0].Length + pieces[^1].Length)
                return false;
            var at = pieces[0].Length;
            var end = name.Length - pieces[^1].Length;
            for (var i = 1; i < pieces.Length - 1; i++)
            {
                var found = name.IndexOf(pieces[i], at, end - at, StringComparison.Ordinal);
                if (found < 0)
                    return false;
                at = found + pieces[i].Length;
            }
            return true;
        }
    }

    internal static bool Matches(string pattern, string name) => NamePattern.Parse(pattern, int.MaxValue).Matches(name);
}
