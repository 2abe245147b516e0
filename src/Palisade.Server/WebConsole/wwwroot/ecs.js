// The ECS vocabulary the console speaks, written once for every page. Its reference is the
// server's Domain/Ecs (PermissionFields: the wire fields and the peer read from text) and
// Domain/Rules/EffectiveOrder (the order rules apply in); ConsoleAssetsTests holds the two together.

/** The protocols of a rule's IpProtocol, as the ECS console lists them. */
export const PROTOCOLS = ['TCP', 'UDP', 'ICMP', 'ICMPv6', 'GRE', 'ALL'];

/** Only TCP and UDP rules have ports; every other protocol takes -1/-1. */
export const hasPorts = protocol => ['TCP', 'UDP'].includes(protocol);

/** The order ECS applies the rules of one direction: priority 1 first; at one priority a drop before an accept. */
export const effectiveOrder = (a, b) => a.Priority - b.Priority || (a.Policy === b.Policy ? 0 : a.Policy === 'Drop' ? -1 : 1);

/**
 * The wire fields of one rule (Permissions.N.* of a request), in the order ECS documents them: the
 * server's PermissionFields.Names (ConsoleVocabularyTests holds the two together).
 */
export const PERMISSION_FIELDS = ['IpProtocol', 'PortRange', 'SourcePortRange', 'Policy', 'Priority', 'NicType',
  'SourceCidrIp', 'Ipv6SourceCidrIp', 'SourceGroupId', 'SourceGroupOwnerAccount', 'SourceGroupOwnerId', 'SourcePrefixListId',
  'DestCidrIp', 'Ipv6DestCidrIp', 'DestGroupId', 'DestGroupOwnerAccount', 'DestGroupOwnerId', 'DestPrefixListId',
  'PortRangeListId', 'Description'];

/**
 * A rule as DescribeSecurityGroupAttribute (or a suggestion) answers it, as the Permissions.N item
 * that creates it again: its rule fields, without the ID, the direction and the names the answer adds.
 */
export const permissionParameters = rule => Object.fromEntries(PERMISSION_FIELDS
  .filter(f => rule[f] !== undefined && rule[f] !== null && rule[f] !== '').map(f => [f, String(rule[f])]));

/** The field a peer written as text goes to: a group, a prefix list, an IPv6 block or an IPv4 block. */
export function peerParameters(ingress, text) {
  const value = text.trim();
  const side = ingress ? 'Source' : 'Dest';
  if (value.startsWith('sg-')) return { [`${side}GroupId`]: value };
  if (value.startsWith('pl-')) return { [`${side}PrefixListId`]: value };
  if (value.includes(':')) return { [`Ipv6${side}CidrIp`]: value };
  return { [`${side}CidrIp`]: value };
}

/**
 * The kind of a rule's peer by the field the API answered it in, as the server's PermissionFields.PeerOn:
 * 'Cidr', 'Ipv6Cidr', 'Group', 'PrefixList', or null for none. Not guessed from the text.
 */
export function peerKindOf(rule, ingress) {
  const side = ingress ? 'Source' : 'Dest';
  return rule[`${side}CidrIp`] ? 'Cidr' : rule[`Ipv6${side}CidrIp`] ? 'Ipv6Cidr'
    : rule[`${side}GroupId`] ? 'Group' : rule[`${side}PrefixListId`] ? 'PrefixList' : null;
}

/** The peer of a rule as the API answered it, in the same precedence the server reads it. */
export const peerOf = (rule, ingress) => ingress
  ? rule.SourceCidrIp || rule.Ipv6SourceCidrIp || rule.SourceGroupId || rule.SourcePrefixListId || 'any'
  : rule.DestCidrIp || rule.Ipv6DestCidrIp || rule.DestGroupId || rule.DestPrefixListId || 'any';

/**
 * Ports for people, one notation everywhere (the CLI writes them the same way): "22" for one port,
 * "8000-8010" for a range, "all" for every port (1/65535, or -1/-1 of a portless protocol); a
 * port-range list by its ID.
 */
export function portsNotation(range) {
  if (!range || range === '-1/-1' || range === '1/65535') return 'all';
  const m = /^(\d+)\/(\d+)$/.exec(range);
  if (!m) return range;
  return m[1] === m[2] ? m[1] : `${m[1]}-${m[2]}`;
}

/** A rule's ports in that notation. */
export const portsText = rule => (rule.PortRangeListId && !rule.PortRange ? rule.PortRangeListId : portsNotation(rule.PortRange));

/**
 * What a person typed as ports, as the API's PortRange (the ECS console does the same): "9090" is
 * 9090/9090, "8000-8010" is 8000/8010, "all" (or nothing) is every port — 1/65535 for TCP and UDP,
 * -1/-1 for a portless protocol. Anything else goes as typed, for the server to judge and explain.
 */
export function portRangeParameter(protocol, text) {
  const value = (text ?? '').trim();
  if (!hasPorts(protocol)) return value === '' || value.toLowerCase() === 'all' ? '-1/-1' : value;
  if (value === '' || value.toLowerCase() === 'all') return '1/65535';
  let m = /^(\d+)$/.exec(value);
  if (m) return `${m[1]}/${m[1]}`;
  m = /^(\d+)\s*-\s*(\d+)$/.exec(value);
  if (m) return `${m[1]}/${m[2]}`;
  return value;
}

/**
 * What a set of flows allows, for people: "TCP 22, 443; ICMP", or "all traffic" when every
 * protocol goes on every port. `accesses` are the API's {IpProtocol, PortRanges.PortRange[]}
 * (an Impact's flows, a reachability edge's Accesses). ICMPv6 is named only when it is there.
 */
export function accessText(accesses) {
  const byProtocol = new Map();
  for (const a of accesses) {
    const ranges = byProtocol.get(a.IpProtocol) ?? [];
    ranges.push(...(a.PortRanges?.PortRange ?? []));
    byProtocol.set(a.IpProtocol, ranges);
  }
  const full = p => byProtocol.has(p) && (!hasPorts(p) || byProtocol.get(p).some(r => portsNotation(r) === 'all'));
  if (PROTOCOLS.filter(p => p !== 'ICMPv6').every(full)) return 'all traffic';
  return PROTOCOLS.filter(p => byProtocol.has(p))
    .map(p => (hasPorts(p) ? `${p} ${[...new Set(byProtocol.get(p).map(portsNotation))].join(', ')}` : p))
    .join('; ');
}

/** The rule field an error code is about (the server's PermissionParser.FieldOf, by code family), or null. */
export function fieldOfError(code = '') {
  if (/PortRange|IpProtocol\.Malformed|ProtocolAndPortRange/.test(code)) return 'PortRange';
  if (/Priority/.test(code)) return 'Priority';
  if (/Cidr|GroupId|PrefixList|Conflict|IsSame/.test(code)) return 'Peer';
  if (/Policy/.test(code)) return 'Policy';
  if (/Protocol/.test(code)) return 'IpProtocol';
  return null;
}
