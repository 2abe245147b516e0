// The ECS vocabulary the console speaks, written once for every page. Its reference is the
// server's Domain/Ecs (PermissionFields: the wire fields and the peer read from text) and
// Domain/Rules/EffectiveOrder (the order rules apply in); ConsoleAssetsTests holds the two together.

/** The protocols of a rule's IpProtocol, as the ECS console lists them. */
export const PROTOCOLS = ['TCP', 'UDP', 'ICMP', 'ICMPv6', 'GRE', 'ALL'];

/** Only TCP and UDP rules have ports; every other protocol takes -1/-1. */
export const hasPorts = protocol => ['TCP', 'UDP'].includes(protocol);

/** The order ECS applies the rules of one direction: priority 1 first; at one priority a drop before an accept. */
export const effectiveOrder = (a, b) => a.Priority - b.Priority || (a.Policy === b.Policy ? 0 : a.Policy === 'Drop' ? -1 : 1);

/** The field a peer written as text goes to: a group, a prefix list, an IPv6 block or an IPv4 block. */
export function peerParameters(ingress, text) {
  const value = text.trim();
  const side = ingress ? 'Source' : 'Dest';
  if (value.startsWith('sg-')) return { [`${side}GroupId`]: value };
  if (value.startsWith('pl-')) return { [`${side}PrefixListId`]: value };
  if (value.includes(':')) return { [`Ipv6${side}CidrIp`]: value };
  return { [`${side}CidrIp`]: value };
}

/** The peer of a rule as the API answered it, in the same precedence the server reads it. */
export const peerOf = (rule, ingress) => ingress
  ? rule.SourceCidrIp || rule.Ipv6SourceCidrIp || rule.SourceGroupId || rule.SourcePrefixListId || 'any'
  : rule.DestCidrIp || rule.Ipv6DestCidrIp || rule.DestGroupId || rule.DestPrefixListId || 'any';

/** A rule's ports for people: "all" for -1/-1, else the range or the port-range list. */
export const portsText = rule => (rule.PortRange === '-1/-1' ? 'all' : rule.PortRange || rule.PortRangeListId);

/** The rule field an error code is about (the server's PermissionParser.FieldOf, by code family), or null. */
export function fieldOfError(code = '') {
  if (/PortRange|IpProtocol\.Malformed|ProtocolAndPortRange/.test(code)) return 'PortRange';
  if (/Priority/.test(code)) return 'Priority';
  if (/Cidr|GroupId|PrefixList|Conflict|IsSame/.test(code)) return 'Peer';
  if (/Policy/.test(code)) return 'Policy';
  if (/Protocol/.test(code)) return 'IpProtocol';
  return null;
}
