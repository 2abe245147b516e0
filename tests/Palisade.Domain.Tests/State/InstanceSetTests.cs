using CsCheck;
using Palisade.Domain.Instances;
using Palisade.Domain.State;
using Palisade.TestKit;

namespace Palisade.Domain.Tests.State;

/// <summary>
/// The instances gone or come in a state's change, asked whether an instance is one of them and whether a member
/// is an ENI of one of them, through sets once they are many (twenty-fifth session), answer as the walks (the
/// twins) answer: for sets of 0–40 instances drawn from several random states (IDs shared between states, each
/// instance's secondary ENIs' views, copies of the same ID), asked of every instance, view and copy.
/// </summary>
public sealed class InstanceSetTests
{
    [Fact]
    public void TheSetsAnswer_AsTheWalksAnswer()
    {
        var (bySets, held, eniHeld) = (0, 0, 0);
        Gen.Select(SmallUniverse.State.Array[3, 8], Gen.Int[0, int.MaxValue]).Sample((states, seed) =>
        {
            var random = new Random(seed);
            var pool = states.SelectMany(s => s.Instances).ToList();
            var asked = pool.Concat(pool.SelectMany(i => i.Interfaces)).Concat(pool.Select(i => i with { })).ToList();
            for (var round = 0; round < 5; round++)
            {
                var items = pool.OrderBy(_ => random.Next()).Take(random.Next(Math.Min(40, pool.Count) + 1)).ToArray();
                var set = new InstanceSet(items);
                bySets += items.Length > InstanceSet.WalkedUpTo ? 1 : 0;
                foreach (var instance in asked)
                {
                    Assert.Equal(set.HoldsWalked(instance), set.Holds(instance));
                    Assert.Equal(set.HoldsEniOfWalked(instance), set.HoldsEniOf(instance));
                    held += items.Length > InstanceSet.WalkedUpTo && set.Holds(instance) ? 1 : 0;
                    eniHeld += items.Length > InstanceSet.WalkedUpTo && instance.IsSecondaryInterface && set.HoldsEniOf(instance) ? 1 : 0;
                }
            }
        }, iter: 300);

        // The property is checked above; these say the sets were asked, and held some.
        Assert.True(bySets > 300 && held > 3000 && eniHeld > 300, $"{bySets} sets, {held} instances held by a set, {eniHeld} views held by a set");
    }
}
