namespace Palisade.Server.Actions.Instances;

internal sealed class DescribeInstances : ReadAction
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        var region = c.Region();
        var filter = new Filter<InstanceRecord>(p).AnyOfJson("InstanceIds", 100, i => i.Id.Value).Among("SecurityGroupId", i => i.SecurityGroupIds.Select(g => g.Value))
            .Equal("VpcId", i => i.VpcId?.Value).Equal("VSwitchId", i => i.VSwitchId?.Value).Equal("ZoneId", i => i.ZoneId)
            .OneOf("Status", ["Pending", "Running", "Starting", "Stopping", "Stopped"], i => i.Status);
        // ECS bounds instance names at 128 characters: a longer pattern can match nothing, and only costs.
        var name = p.Optional("InstanceName") is { } given ? NamePattern.Parse(given, c.Limits.MaxNamePatternLength) : null;
        filter.Where(name is null ? null : i => name.Matches(i.Name)).Equal("InstanceNetworkType", i => i.NetworkType.ToWire()).InResourceGroup(i => i.ResourceGroupId);
        var tags = TagFilter.Read(p);
        var paging = Paging.Read(p, 10, 100, 100);
        return c.Read(s =>
        {
            var tagged = tags.In(s, c.AccountId, TaggedResourceTypes.Instance);
            var all = s.Instances.List(c.AccountId, region.RegionId).Where(i => filter.Keeps(i) && tagged(i.Id.Value)).ToList();
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
