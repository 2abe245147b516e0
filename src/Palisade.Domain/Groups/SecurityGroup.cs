using System.Collections.Immutable;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Rules;

namespace Palisade.Domain.Groups;

/// <summary>
/// A security group and its rules. A group without <see cref="VpcId"/> belongs to the classic
/// network. Immutable: changes produce a new group.
/// </summary>
public sealed record SecurityGroup(
    SecurityGroupId Id,
    string Name,
    string Description,
    SecurityGroupType Type,
    VpcId? VpcId,
    InnerAccessPolicy InnerAccessPolicy,
    ImmutableArray<SecurityGroupRule> Rules,
    ImmutableArray<Tag> Tags,
    DateTimeOffset CreationTime = default)
{
    public bool IsClassic => VpcId is null;

    public bool IsEnterprise => Type == SecurityGroupType.Enterprise;

    /// <summary>Advanced groups never let members in by themselves, whatever is stored.</summary>
    public InnerAccessPolicy EffectiveInnerAccessPolicy =>
        IsEnterprise ? InnerAccessPolicy.Drop : InnerAccessPolicy;
}
