using Palisade.Domain.Instances;

namespace Palisade.Domain.State;

/// <summary>
/// A state's instances in chunks (issue 17, twenty-fifth session): the agent's read of a join makes its state
/// of the state before with one instance more (<see cref="NetworkState.WithInstances(InstanceChunks, IReadOnlyCollection{Instance}, IReadOnlyCollection{Instance})"/>),
/// and as one array that was a copy of every instance's reference a join (~4.4 KiB for ~550 instances), which
/// outlived the join (the agent holds the state): here the chunk the instance goes into and the spine are copied,
/// the rest shared with the state before. Immutable.
/// </summary>
internal sealed class InstanceChunks : ChunkedList<Instance, InstanceChunks>
{
    private InstanceChunks(Instance[][] chunks, int[] ends)
        : base(chunks, ends)
    {
    }

    private protected override InstanceChunks Make(Instance[][] chunks, int[] ends) => new(chunks, ends);

    /// <summary>The instances of <paramref name="instances"/>, in chunks of <paramref name="length"/> (tests make small ones, to have many).</summary>
    public static InstanceChunks Of(IReadOnlyList<Instance> instances, int length = ChunkLength)
    {
        var (chunks, ends) = Cut(instances, length);
        return new InstanceChunks(chunks, ends);
    }
}
