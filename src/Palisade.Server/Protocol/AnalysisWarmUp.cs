using System.Globalization;
using System.Text;
using Palisade.Domain.State;

namespace Palisade.Server.Protocol;

/// <summary>
/// The questions a new analysis process is asked before any tenant's (issue 19). A fresh child runs
/// its code first as the runtime's quick first compilation, then compiles it again, optimized, on
/// threads of its own once a method has been called often enough: measured, the child's first
/// hundred new questions cost it several times what later ones do (docs/benchmarks.md, issue 19,
/// thirteenth session), and whichever tenant asked first was charged its own share of that and slowed
/// the others with the rest. So the server asks these questions itself when the child starts, off
/// every request path and charged to no account: an account that no tenant has (0, which names no
/// account: a host credential's) in a region that none has, of a synthetic state with the shapes a
/// tenant's has (rules from addresses, from groups, of every protocol, both directions, a group that
/// accepts its own members, instances in two groups, public addresses), each question a new rule.
/// </summary>
internal static class AnalysisWarmUp
{
    /// <summary>The account the questions are asked for: none (0 is a host credential's, never an account's).</summary>
    public const long AccountId = 0;

    /// <summary>A region no account has, so the child's kept befores of real regions are never this one's.</summary>
    public const string RegionId = "palisade-warm-up";

    /// <summary>
    /// Questions in each round. The runtime compiles a method again, optimized, after 30 calls (with its
    /// profile-guided optimization twice: first with counters, then without), each time in the
    /// background after a pause, and at niceness 19 that background work waits for the cores; so the
    /// questions come in rounds with a pause between them, until the child's CPU per question has
    /// stopped falling.
    /// </summary>
    public const int QuestionsPerRound = 20;

    /// <summary>The pause between rounds, for the child's background compilation.</summary>
    public static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(100);

    /// <summary>Rounds at most (a child that never settles, e.g. on a host too busy to give it any CPU, is not asked forever).</summary>
    public const int MaxRounds = 50;

    /// <summary>
    /// Rounds at least (400 questions, ~4 s of the child's CPU at niceness 19): measured, a warm-up that
    /// may end after 7 rounds stopped on a plateau 3 times of 10, after 180–220 questions at 3.7–4.6 ms a
    /// question against 0.7–1.1 ms for the others (docs/benchmarks.md, issue 19, thirteenth session).
    /// </summary>
    public const int MinRounds = 20;

    /// <summary>The warm-up ends after this many rounds in a row none of which cost 15 % less than the cheapest before.</summary>
    public const int RoundsWithoutGain = 6;

    /// <summary>
    /// Whether the warm-up is done, given each round's median CPU per question so far: past
    /// <see cref="MinRounds"/>, no round of the last <see cref="RoundsWithoutGain"/> was 15 % cheaper than
    /// every round before it; or <see cref="MaxRounds"/> were asked. Measured (docs/benchmarks.md, issue 19, thirteenth session): a
    /// cold child's CPU per question fell for its first ~260 questions of a 100-instance account, with
    /// plateaus of ~100 questions on the way, then stayed.
    /// </summary>
    public static bool Done(IReadOnlyList<TimeSpan> medians)
    {
        if (medians.Count >= MaxRounds)
            return true;
        if (medians.Count < MinRounds)
            return false;
        var best = medians.Take(medians.Count - RoundsWithoutGain).Min();
        return medians.Skip(medians.Count - RoundsWithoutGain).All(m => m > best * 0.85);
    }

    private const int Groups = 8;
    private const int InstancesPerGroup = 4;

    /// <summary>The state before every question.</summary>
    public static NetworkState Before { get; } = StateFileReader.Read(StateText(-1));

    /// <summary>The state after the <paramref name="question"/>th question: the state before with one more rule, a different one each time.</summary>
    public static NetworkState After(int question) => StateFileReader.Read(StateText(question));

    private static string StateText(int question)
    {
        var s = new StringBuilder();
        s.Append(CultureInfo.InvariantCulture, $$"""{"RegionId": "{{RegionId}}", "SecurityGroups": [""");
        for (var g = 0; g < Groups; g++)
        {
            if (g > 0)
                s.Append(',');
            s.Append(CultureInfo.InvariantCulture, $$"""{"SecurityGroupId": "sg-warm{{g}}", "VpcId": "vpc-warm", "InnerAccessPolicy": "{{(g % 4 == 3 ? "Accept" : "Drop")}}", "Permissions": {"Permission": [""");
            s.Append(CultureInfo.InvariantCulture, $$"""{"Direction": "ingress", "IpProtocol": "TCP", "PortRange": "{{1000 + g}}/{{2000 + g}}", "SourceCidrIp": "10.0.0.0/8"}""");
            s.Append(CultureInfo.InvariantCulture, $$""",{"Direction": "ingress", "IpProtocol": "UDP", "PortRange": "53/53", "SourceCidrIp": "192.168.{{g}}.0/24"}""");
            s.Append(""",{"Direction": "ingress", "IpProtocol": "ICMP", "PortRange": "-1/-1", "SourceCidrIp": "0.0.0.0/0"}""");
            s.Append(""",{"Direction": "egress", "IpProtocol": "ALL", "PortRange": "-1/-1", "DestCidrIp": "0.0.0.0/0"}""");
            if (g > 0)
                s.Append(CultureInfo.InvariantCulture, $$""",{"Direction": "ingress", "IpProtocol": "TCP", "PortRange": "22/22", "SourceGroupId": "sg-warm{{g - 1}}"}""");
            if (g == 2)
                s.Append(""",{"Direction": "ingress", "IpProtocol": "TCP", "PortRange": "443/443", "Policy": "Drop", "Priority": "1", "SourceCidrIp": "10.1.0.0/16"}""");
            // The question: a new rule of the first group, as DescribeChangeImpact asks of a tenant's state
            // (alternately from anywhere and from another group).
            if (g == 0 && question >= 0)
            {
                var port = 3000 + question;
                if (question % 2 == 0)
                    s.Append(CultureInfo.InvariantCulture, $$""",{"Direction": "ingress", "IpProtocol": "TCP", "PortRange": "{{port}}/{{port}}", "SourceCidrIp": "0.0.0.0/0"}""");
                else
                    s.Append(CultureInfo.InvariantCulture, $$""",{"Direction": "ingress", "IpProtocol": "TCP", "PortRange": "{{port}}/{{port}}", "SourceGroupId": "sg-warm{{Groups - 1}}"}""");
            }
            s.Append("]}}");
        }
        s.Append("""], "Instances": [""");
        for (var i = 0; i < Groups * InstancesPerGroup; i++)
        {
            if (i > 0)
                s.Append(',');
            var g = i / InstancesPerGroup;
            var groups = i % InstancesPerGroup == 0 ? $"\"sg-warm{g}\", \"sg-warm{(g + 1) % Groups}\"" : $"\"sg-warm{g}\"";
            var address = i % 8 == 0 ? "\"PublicIpAddress\": {\"IpAddress\": [\"203.0.113." + (i + 1).ToString(CultureInfo.InvariantCulture) + "\"]}, " : "";
            s.Append(CultureInfo.InvariantCulture, $$$"""{"InstanceId": "i-warm{{{i}}}", {{{address}}}"VpcAttributes": {"VpcId": "vpc-warm", "VSwitchId": "vsw-warm", "PrivateIpAddress": {"IpAddress": ["10.0.{{{g}}}.{{{10 + i}}}"]}}, "SecurityGroupIds": {"SecurityGroupId": [{{{groups}}}]}}""");
        }
        s.Append("]}");
        return s.ToString();
    }
}
