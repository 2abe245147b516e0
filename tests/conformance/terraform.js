'use strict';
// The Terraform-shaped conformance suite: the request sequences terraform-provider-alicloud makes
// for the create, read, update and delete of alicloud_security_group, alicloud_security_group_rule,
// alicloud_ecs_prefix_list, alicloud_ecs_network_interface and alicloud_ecs_network_interface_attachment,
// replayed against a Palisade server, each ending in the state Terraform expects.
//
// Sources (read with the project's search tool; github.com/aliyun/terraform-provider-alicloud, the
// generation of alicloud/resource_alicloud_security_group.go, resource_alicloud_security_group_rule.go
// and service_alicloud_ecs.go that sends rule updates by attributes):
//   - the provider's first call: STS GetCallerIdentity (2015-04-01);
//   - security group: CreateSecurityGroup (RegionId, ClientToken, Description, VpcId, SecurityGroupName)
//     by RpcPost; then DescribeSecurityGroupAttribute (the update of a new resource), then the read:
//     DescribeSecurityGroups (SecurityGroupId) and DescribeSecurityGroupAttribute; an update:
//     ModifySecurityGroupAttribute, ModifySecurityGroupPolicy (with ClientToken); delete:
//     DeleteSecurityGroup, retried while it answers DependencyViolation;
//   - rule: DescribeSecurityGroupAttribute (buildAliyunSGRuleRequest reads the group), then
//     AuthorizeSecurityGroup[Egress] with Permissions.1.* (lower-case protocol and policy, Priority as
//     text); its ID is GROUP:DIRECTION:PROTOCOL:PORTS:NICTYPE:PEER:POLICY:PRIORITY where NICTYPE is the
//     text "<nil>" when nic_type is unset; the read: DescribeSecurityGroupAttribute with Direction and
//     that NicType, matched on lower-cased protocol, port range, peer (CIDR, else group), lower-cased
//     policy and priority; nic_type is then set from the answer; an update of the description:
//     ModifySecurityGroup[Egress]Rule by attributes (no rule ID, NicType now the read one, Description)
//     sent twice by ProcessCommonRequest; delete: RevokeSecurityGroup[Egress] by the same attributes;
//     a rule with prefix_list_id sends Source/DestPrefixListId, puts the list's ID in the rule ID's
//     peer place and is matched on the rule's Source/DestPrefixListId;
//   - resource_alicloud_ecs_prefix_list.go: CreatePrefixList (AddressFamily, MaxEntries, PrefixListName,
//     ClientToken, Description, Entry.N.Cidr/Description), ModifyPrefixList (RemoveEntry.N.Cidr,
//     AddEntry.N.Cidr/Description: the entry set's difference), DeletePrefixList; read:
//     DescribePrefixListAttributes, not found on InvalidPrefixListId.NotFound;
//   - resource_alicloud_ecs_network_interface.go: CreateNetworkInterface then a wait for Available;
//     ModifyNetworkInterfaceAttribute (SecurityGroupId.N), Assign/UnassignPrivateIpAddresses
//     (PrivateIpAddress.N); DeleteNetworkInterface then a wait until the read finds nothing; read:
//     DescribeNetworkInterfaces (NetworkInterfaceId.1), the first item, PrivateIpSets/Ipv6Sets/
//     Ipv4PrefixSets/SecurityGroupIds cast unchecked, and ListTagResources (ResourceType eni);
//   - resource_alicloud_ecs_network_interface_attachment.go: AttachNetworkInterface then a wait for
//     InUse, ID ENI:INSTANCE; DetachNetworkInterface then a wait for Available; read by
//     DescribeNetworkInterfaces (NetworkInterfaceId.1, MaxResults) matched on the ENI and instance.
//
// Transports: RpcPost (tea's RPC client) is pop-core POST with a form body; the Go SDK's
// ProcessCommonRequest and typed requests are V1 POST with every parameter in the query, an empty
// form body and a signed empty SignatureType= (the aliyun CLI sends the same shape), signed here.
//
// Env: PALISADE_ENDPOINT (host:port), PALISADE_KEY_ID, PALISADE_KEY_SECRET, PALISADE_PROTOCOL
// (http or https; trust a private CA with NODE_EXTRA_CA_CERTS). Exit 0 only if every step passed.

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const http = require('node:http');
const https = require('node:https');
const { RPCClient } = require('@alicloud/pop-core');

const REGION = 'cn-hangzhou';
const PROTOCOL = process.env.PALISADE_PROTOCOL || 'http';
const ENDPOINT = process.env.PALISADE_ENDPOINT;
const KEY_ID = process.env.PALISADE_KEY_ID;
const SECRET = process.env.PALISADE_KEY_SECRET;
const VERSIONS = { ecs: '2014-05-26', vpc: '2016-04-28', sts: '2015-04-01' };

class ApiError extends Error {
  constructor(code, status, message) {
    super(`${code} (HTTP ${status}): ${message}`);
    this.code = code;
    this.status = status;
  }
}

const log = [];
const popClients = {};
// RpcPost: POST, parameters in a form body.
async function rpcPost(action, params, product = 'ecs') {
  popClients[product] ||= new RPCClient({ accessKeyId: KEY_ID, accessKeySecret: SECRET, endpoint: `${PROTOCOL}://${ENDPOINT}`, apiVersion: VERSIONS[product] });
  log.push(`RpcPost ${action} ${Object.keys(params).sort().join(',')}`);
  try {
    return JSON.parse(JSON.stringify(await popClients[product].request(action, params, { method: 'POST', timeout: 15000 })));
  } catch (err) {
    if (err && err.data && err.code !== undefined) throw new ApiError(String(err.code), err.entry && err.entry.response ? err.entry.response.statusCode : undefined, err.data.Message);
    throw err;
  }
}

const pct = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
// ProcessCommonRequest / typed Go SDK requests: V1, POST, all in the query, empty form body, SignatureType="".
function commonRequest(action, params, product = 'ecs') {
  const all = {
    ...params, Action: action, Version: VERSIONS[product], Format: 'JSON', AccessKeyId: KEY_ID, SignatureMethod: 'HMAC-SHA1',
    SignatureVersion: '1.0', SignatureNonce: crypto.randomUUID(), SignatureType: '', Timestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
  const canonical = Object.keys(all).sort().map((k) => `${pct(k)}=${pct(all[k])}`).join('&');
  const signature = crypto.createHmac('sha1', `${SECRET}&`).update(`POST&${pct('/')}&${pct(canonical)}`).digest('base64');
  const query = `${Object.keys(all).map((k) => `${pct(k)}=${pct(all[k])}`).join('&')}&Signature=${pct(signature)}`;
  log.push(`CommonRequest ${action} ${Object.keys(params).sort().join(',')}`);
  const [host, port] = [ENDPOINT.slice(0, ENDPOINT.lastIndexOf(':')), Number(ENDPOINT.slice(ENDPOINT.lastIndexOf(':') + 1))];
  return new Promise((resolve, reject) => {
    const req = (PROTOCOL === 'https' ? https : http).request({
      host, port, method: 'POST', path: `/?${query}`, timeout: 15000,
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': 0, 'x-acs-action': action, 'x-acs-version': VERSIONS[product], 'user-agent': 'AlibabaCloud (linux; amd64) Go/go1.21 Core/1.62 terraform-provider-alicloud-shape' },
    }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => {
        let json;
        try { json = JSON.parse(body); } catch { return reject(new Error(`HTTP ${res.statusCode}, not JSON: ${body.slice(0, 200)}`)); }
        if (res.statusCode >= 400) return reject(new ApiError(json.Code, res.statusCode, json.Message));
        return resolve(json);
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

const clientToken = (action) => `${action}-${crypto.randomUUID()}`; // buildClientToken
const permissions = (o) => (o.Permissions && o.Permissions.Permission) || [];

// ---- service_alicloud_ecs.go DescribeSecurityGroupRule(id), as the provider matches.
async function describeRule(id) {
  const [groupId, direction, ipProtocol, portRange, nicType, cidrIp, policy, priority] = id.split(':');
  const answer = await commonRequest('DescribeSecurityGroupAttribute', { SecurityGroupId: groupId, Direction: direction, NicType: nicType, RegionId: REGION });
  for (const ru of permissions(answer)) {
    if (String(ru.IpProtocol).toLowerCase() === ipProtocol && ru.PortRange === portRange) {
      let cidr = ru.SourceCidrIp;
      if (direction === 'ingress' && cidr === '') cidr = ru.SourceGroupId;
      if (direction === 'egress') { cidr = ru.DestCidrIp; if (cidr === '') cidr = ru.DestGroupId; }
      const prefixListId = direction === 'ingress' ? ru.SourcePrefixListId : ru.DestPrefixListId;
      if ((cidr === cidrIp || prefixListId === cidrIp) && String(ru.Policy).toLowerCase() === policy && String(ru.Priority) === String(priority)) return ru;
    }
  }
  const e = new Error(`the security group rule ${id} is not found`);
  e.notFound = true;
  throw e;
}

// ---- resource_alicloud_security_group_rule.go
function ruleRequest(rule) { // buildAliyunSGRuleRequest (after it reads the group)
  const ingress = rule.type === 'ingress';
  const q = { PortRange: rule.port_range, IpProtocol: rule.ip_protocol, Policy: rule.policy, Priority: String(rule.priority) };
  if (rule.cidr_ip) q[ingress ? 'SourceCidrIp' : 'DestCidrIp'] = rule.cidr_ip;
  if (rule.source_security_group_id) q[ingress ? 'SourceGroupId' : 'DestGroupId'] = rule.source_security_group_id;
  if (rule.prefix_list_id) q[ingress ? 'SourcePrefixListId' : 'DestPrefixListId'] = rule.prefix_list_id;
  if (rule.nic_type) q.NicType = rule.nic_type;
  q.SecurityGroupId = rule.security_group_id;
  q.Description = rule.description || '';
  q.RegionId = REGION; // the CommonRequest's region
  return q;
}

async function ruleCreate(rule) {
  await commonRequest('DescribeSecurityGroupAttribute', { SecurityGroupId: rule.security_group_id, RegionId: REGION });
  const ingress = rule.type === 'ingress';
  const p = { IpProtocol: rule.ip_protocol, Policy: rule.policy, Priority: String(rule.priority) };
  if (rule.cidr_ip) p[ingress ? 'SourceCidrIp' : 'DestCidrIp'] = rule.cidr_ip;
  if (rule.source_security_group_id) p[ingress ? 'SourceGroupId' : 'DestGroupId'] = rule.source_security_group_id;
  if (rule.prefix_list_id) p[ingress ? 'SourcePrefixListId' : 'DestPrefixListId'] = rule.prefix_list_id;
  p.PortRange = rule.port_range;
  if (rule.nic_type) p.NicType = rule.nic_type;
  if (rule.description) p.Description = rule.description;
  const request = { RegionId: REGION, SecurityGroupId: rule.security_group_id };
  for (const [k, v] of Object.entries(p)) request[`Permissions.1.${k}`] = v;
  await rpcPost(ingress ? 'AuthorizeSecurityGroup' : 'AuthorizeSecurityGroupEgress', request);
  // fmt's %v of the unset NicType is "<nil>".
  rule.id = [rule.security_group_id, rule.type, rule.ip_protocol, rule.port_range, rule.nic_type || '<nil>', rule.cidr_ip || rule.source_security_group_id || rule.prefix_list_id, rule.policy, rule.priority].join(':');
  return ruleRead(rule);
}

async function ruleRead(rule) {
  const object = await describeRule(rule.id);
  Object.assign(rule, {
    nic_type: object.NicType, policy: String(object.Policy).toLowerCase(), ip_protocol: String(object.IpProtocol).toLowerCase(),
    port_range: object.PortRange, description: object.Description, security_group_rule_id: object.SecurityGroupRuleId, priority: Number(object.Priority),
  });
  if (rule.prefix_list_id !== undefined) rule.prefix_list_id = rule.type === 'ingress' ? object.SourcePrefixListId : object.DestPrefixListId;
  return rule;
}

async function ruleUpdate(rule) {
  await commonRequest('DescribeSecurityGroupAttribute', { SecurityGroupId: rule.security_group_id, RegionId: REGION });
  const action = rule.type === 'ingress' ? 'ModifySecurityGroupRule' : 'ModifySecurityGroupEgressRule';
  await commonRequest(action, ruleRequest(rule)); // the provider sends it...
  await commonRequest(action, ruleRequest(rule)); // ...twice
  return ruleRead(rule);
}

async function ruleDelete(rule) {
  await commonRequest('DescribeSecurityGroupAttribute', { SecurityGroupId: rule.security_group_id, RegionId: REGION });
  await commonRequest(rule.type === 'ingress' ? 'RevokeSecurityGroup' : 'RevokeSecurityGroupEgress', ruleRequest(rule));
}

// ---- resource_alicloud_security_group.go
async function groupRead(group) {
  const listed = await rpcPost('DescribeSecurityGroups', { SecurityGroupId: group.id, RegionId: REGION });
  const found = (listed.SecurityGroups && listed.SecurityGroups.SecurityGroup) || [];
  if (found.length === 0) return null;
  const o = found[0];
  for (const field of ['CreationTime', 'Description', 'ResourceGroupId', 'SecurityGroupName', 'SecurityGroupType', 'VpcId']) {
    assert.ok(o[field] !== undefined && o[field] !== null, `DescribeSecurityGroups lacks ${field}, which the read sets`);
  }
  Object.assign(group, { description: o.Description, resource_group_id: o.ResourceGroupId, security_group_name: o.SecurityGroupName, security_group_type: o.SecurityGroupType, vpc_id: o.VpcId });
  const attribute = await rpcPost('DescribeSecurityGroupAttribute', { SecurityGroupId: group.id, RegionId: REGION });
  group.inner_access_policy = attribute.InnerAccessPolicy;
  return group;
}

async function groupCreate(group) {
  const request = { RegionId: REGION, ClientToken: clientToken('CreateSecurityGroup'), Description: group.description, VpcId: group.vpc_id, SecurityGroupName: group.security_group_name };
  if (group.resource_group_id) request.ResourceGroupId = group.resource_group_id;
  const response = await rpcPost('CreateSecurityGroup', request);
  group.id = response.SecurityGroupId;
  await rpcPost('DescribeSecurityGroupAttribute', { SecurityGroupId: group.id, RegionId: REGION }); // the update of a new resource
  return groupRead(group);
}

async function groupUpdate(group, change) {
  const modify = { SecurityGroupId: group.id, RegionId: REGION };
  if (change.security_group_name !== undefined) modify.SecurityGroupName = change.security_group_name;
  if (change.description !== undefined) modify.Description = change.description;
  if (Object.keys(modify).length > 2) await rpcPost('ModifySecurityGroupAttribute', modify);
  await rpcPost('DescribeSecurityGroupAttribute', { SecurityGroupId: group.id, RegionId: REGION });
  if (change.resource_group_id !== undefined) {
    await rpcPost('JoinResourceGroup', { ResourceId: group.id, RegionId: REGION, ResourceType: 'securitygroup', ResourceGroupId: change.resource_group_id });
  }
  if (change.inner_access_policy !== undefined) {
    await rpcPost('ModifySecurityGroupPolicy', { SecurityGroupId: group.id, RegionId: REGION, ClientToken: clientToken('ModifySecurityGroupPolicy'), InnerAccessPolicy: change.inner_access_policy });
  }
  return groupRead(group);
}

async function groupDelete(group, onDependency) {
  // resource.Retry on DependencyViolation with an incremental wait (here short, and bounded).
  for (let attempt = 1; ; attempt++) {
    try {
      await rpcPost('DeleteSecurityGroup', { SecurityGroupId: group.id, RegionId: REGION });
      return attempt;
    } catch (err) {
      if (err.code === 'DependencyViolation' && attempt < 5) {
        if (onDependency) await onDependency(attempt);
        await new Promise((r) => setTimeout(r, 200 * attempt));
        continue;
      }
      if (err.code === 'InvalidSecurityGroupId.NotFound') return attempt;
      throw err;
    }
  }
}

// ---- resource_alicloud_ecs_prefix_list.go (DoRequest POST = RpcPost); its read is
// service_alicloud_ecs.go DescribeEcsPrefixList: DescribePrefixListAttributes, the answer's root.
async function prefixListRead(list) {
  let o;
  try {
    o = await rpcPost('DescribePrefixListAttributes', { RegionId: REGION, PrefixListId: list.id });
  } catch (err) {
    if (err.code === 'InvalidPrefixListId.NotFound') return null;
    throw err;
  }
  const entries = (o.Entries && o.Entries.Entry) || [];
  Object.assign(list, {
    address_family: o.AddressFamily, description: o.Description, prefix_list_name: o.PrefixListName,
    entry: entries.map((e) => ({ cidr: e.Cidr, description: e.Description })), max_entries: Number(o.MaxEntries),
  });
  return list;
}

async function prefixListCreate(list) {
  const request = { AddressFamily: list.address_family, MaxEntries: list.max_entries, PrefixListName: list.prefix_list_name, RegionId: REGION, ClientToken: clientToken('CreatePrefixList') };
  if (list.description) request.Description = list.description;
  list.entry.forEach((e, i) => { request[`Entry.${i + 1}.Cidr`] = e.cidr; request[`Entry.${i + 1}.Description`] = e.description; });
  list.id = (await rpcPost('CreatePrefixList', request)).PrefixListId;
  return prefixListRead(list);
}

// The schema's entry is a set: what changes is the difference of the old and new sets.
async function prefixListUpdate(list, change) {
  const request = { PrefixListId: list.id, RegionId: REGION };
  if (change.prefix_list_name !== undefined) request.PrefixListName = change.prefix_list_name;
  if (change.description !== undefined) request.Description = change.description;
  if (change.entry !== undefined) {
    const key = (e) => `${e.cidr}|${e.description}`;
    const was = new Set(list.entry.map(key));
    const now = new Set(change.entry.map(key));
    list.entry.filter((e) => !now.has(key(e))).forEach((e, i) => { request[`RemoveEntry.${i + 1}.Cidr`] = e.cidr; });
    change.entry.filter((e) => !was.has(key(e))).forEach((e, i) => { request[`AddEntry.${i + 1}.Cidr`] = e.cidr; request[`AddEntry.${i + 1}.Description`] = e.description; });
  }
  await rpcPost('ModifyPrefixList', request);
  return prefixListRead(list);
}

// ---- resource_alicloud_ecs_network_interface.go and _attachment.go (RpcPost); the read is
// service_alicloud_ecs.go DescribeEcsNetworkInterface: DescribeNetworkInterfaces with
// NetworkInterfaceId as a list, the first item, which must be the ENI asked for.
async function eniDescribe(id, extra = {}) {
  const answer = await rpcPost('DescribeNetworkInterfaces', { RegionId: REGION, NetworkInterfaceId: [id], ...extra });
  const items = answer.NetworkInterfaceSets.NetworkInterfaceSet;
  assert.ok(Array.isArray(items), 'NetworkInterfaceSets.NetworkInterfaceSet is a list');
  return items;
}

// BuildStateConf(..., EcsNetworkInterfaceStateRefreshFunc): polls the read until the status (or, for
// a delete, until the read finds nothing).
async function eniWaitFor(id, status) {
  for (let attempt = 0; attempt < 20; attempt++) {
    const items = await eniDescribe(id);
    if (status === null ? items.length === 0 : (items[0] && items[0].Status === status)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${id} did not reach ${status === null ? 'deleted' : status}`);
}

async function eniRead(eni) {
  const items = await eniDescribe(eni.id);
  if (items.length === 0) return null;
  const o = items[0];
  assert.equal(o.NetworkInterfaceId, eni.id, 'the first item is another ENI');
  // The read casts these unchecked: a missing one is a provider panic.
  for (const [set, item] of [['PrivateIpSets', 'PrivateIpSet'], ['Ipv6Sets', 'Ipv6Set'], ['Ipv4PrefixSets', 'Ipv4PrefixSet'], ['SecurityGroupIds', 'SecurityGroupId']]) {
    assert.ok(o[set] && Array.isArray(o[set][item]), `${set}.${item} is not a list`);
  }
  const tags = await rpcPost('ListTagResources', { RegionId: REGION, ResourceType: 'eni', ResourceId: [eni.id] });
  Object.assign(eni, {
    description: o.Description, mac: o.MacAddress, network_interface_name: o.NetworkInterfaceName, primary_ip_address: o.PrivateIpAddress,
    private_ip_addresses: o.PrivateIpSets.PrivateIpSet.filter((p) => !p.Primary).map((p) => p.PrivateIpAddress),
    ipv6_addresses: o.Ipv6Sets.Ipv6Set.map((p) => p.Ipv6Address), ipv4_prefixes: o.Ipv4PrefixSets.Ipv4PrefixSet.map((p) => p.Ipv4Prefix),
    resource_group_id: o.ResourceGroupId, security_group_ids: [...o.SecurityGroupIds.SecurityGroupId].sort(), status: o.Status,
    vswitch_id: o.VSwitchId, instance_type: o.Type,
    tags: Object.fromEntries(tags.TagResources.TagResource.map((t) => [t.TagKey, t.TagValue])),
  });
  return eni;
}

async function eniCreate(eni) {
  const request = { RegionId: REGION, VSwitchId: eni.vswitch_id, SecurityGroupIds: eni.security_group_ids, NetworkInterfaceName: eni.network_interface_name, Description: eni.description };
  if (eni.primary_ip_address) request.PrimaryIpAddress = eni.primary_ip_address;
  Object.entries(eni.tags || {}).forEach(([k, v], i) => { request[`Tag.${i + 1}.Key`] = k; request[`Tag.${i + 1}.Value`] = v; });
  eni.id = (await rpcPost('CreateNetworkInterface', request)).NetworkInterfaceId;
  await eniWaitFor(eni.id, 'Available');
  return eniRead(eni);
}

async function eniUpdate(eni, change) {
  const modify = { NetworkInterfaceId: eni.id, RegionId: REGION };
  if (change.description !== undefined) modify.Description = change.description;
  if (change.network_interface_name !== undefined) modify.NetworkInterfaceName = change.network_interface_name;
  if (change.security_group_ids !== undefined) modify.SecurityGroupId = change.security_group_ids;
  if (Object.keys(modify).length > 2) await rpcPost('ModifyNetworkInterfaceAttribute', modify);
  if (change.private_ip_addresses !== undefined) {
    const removed = eni.private_ip_addresses.filter((a) => !change.private_ip_addresses.includes(a));
    const added = change.private_ip_addresses.filter((a) => !eni.private_ip_addresses.includes(a));
    if (removed.length) await rpcPost('UnassignPrivateIpAddresses', { NetworkInterfaceId: eni.id, PrivateIpAddress: removed, RegionId: REGION });
    if (added.length) await rpcPost('AssignPrivateIpAddresses', { NetworkInterfaceId: eni.id, PrivateIpAddress: added, RegionId: REGION });
  }
  return eniRead(eni);
}

async function eniDelete(eni) {
  try {
    await rpcPost('DeleteNetworkInterface', { NetworkInterfaceId: eni.id, RegionId: REGION });
  } catch (err) {
    if (!['InvalidEniId.NotFound', 'InvalidEcsId.NotFound'].includes(err.code)) throw err;
  }
  await eniWaitFor(eni.id, null);
}

// The attachment's ID is ENI:INSTANCE; its read is DescribeEcsNetworkInterfaceAttachment.
async function attachmentRead(attachment) {
  const [eniId, instanceId] = attachment.id.split(':');
  for (const v of await eniDescribe(eniId, { MaxResults: 100 })) {
    if ((v.Type === 'Member' || v.Type === 'slave') && v.Attachment && v.NetworkInterfaceId === eniId && v.Attachment.InstanceId === instanceId) return attachment;
    if (v.NetworkInterfaceId === eniId && v.InstanceId === instanceId) return attachment;
  }
  return null;
}

async function attachmentCreate(attachment) {
  await rpcPost('AttachNetworkInterface', { RegionId: REGION, NetworkInterfaceId: attachment.network_interface_id, InstanceId: attachment.instance_id });
  attachment.id = `${attachment.network_interface_id}:${attachment.instance_id}`;
  await eniWaitFor(attachment.network_interface_id, 'InUse');
  return attachmentRead(attachment);
}

async function attachmentDelete(attachment) {
  const [eniId, instanceId] = attachment.id.split(':');
  await rpcPost('DetachNetworkInterface', { RegionId: REGION, NetworkInterfaceId: eniId, InstanceId: instanceId });
  await eniWaitFor(eniId, 'Available');
}

// ---- the scenario
async function main() {
  const missing = [['PALISADE_ENDPOINT', ENDPOINT], ['PALISADE_KEY_ID', KEY_ID], ['PALISADE_KEY_SECRET', SECRET]].filter(([, v]) => !v).map(([k]) => k);
  if (missing.length) { console.error(`terraform.js: set ${missing.join(', ')}`); return 2; }
  const results = [];
  let failed = 0;
  const step = async (name, fn) => {
    try {
      const detail = await fn();
      results.push(name);
      console.log(`  ok   ${name}${detail ? `: ${detail}` : ''}`);
    } catch (err) {
      failed++;
      console.log(`  FAIL ${name}: ${err && err.message}`);
    }
  };
  const ctx = {};
  console.log(`== terraform-provider-alicloud's request shapes -> ${PROTOCOL}://${ENDPOINT}`);

  await step('provider: STS GetCallerIdentity', async () => {
    const me = await commonRequest('GetCallerIdentity', { RegionId: REGION }, 'sts');
    for (const f of ['AccountId', 'UserId', 'PrincipalId', 'Arn', 'IdentityType']) assert.ok(me[f], `no ${f}`);
    assert.match(me.Arn, /^acs:ram::\d+:root$/);
    return `account ${me.AccountId}`;
  });
  await step('setup: a VPC (alicloud_vpc)', async () => {
    ctx.vpc = (await rpcPost('CreateVpc', { RegionId: REGION, CidrBlock: '172.16.0.0/12', VpcName: 'tf-vpc', ClientToken: clientToken('CreateVpc') }, 'vpc')).VpcId;
  });
  await step('alicloud_security_group: create, then read as Terraform expects', async () => {
    ctx.web = await groupCreate({ security_group_name: 'tf-web', description: 'managed by terraform', vpc_id: ctx.vpc });
    ctx.db = await groupCreate({ security_group_name: 'tf-db', description: 'database', vpc_id: ctx.vpc });
    assert.deepEqual([ctx.web.security_group_name, ctx.web.description, ctx.web.vpc_id, ctx.web.security_group_type, ctx.web.inner_access_policy, ctx.web.resource_group_id],
      ['tf-web', 'managed by terraform', ctx.vpc, 'normal', 'Accept', '']);
    return ctx.web.id;
  });
  await step('alicloud_security_group: update name, description and inner_access_policy', async () => {
    await groupUpdate(ctx.web, { security_group_name: 'tf-web-2', description: 'changed', inner_access_policy: 'Drop' });
    assert.deepEqual([ctx.web.security_group_name, ctx.web.description, ctx.web.inner_access_policy], ['tf-web-2', 'changed', 'Drop']);
  });
  await step('alicloud_security_group with resource_group_id: create, read, move (JoinResourceGroup), no diff after', async () => {
    ctx.rg = await groupCreate({ security_group_name: 'tf-rg', description: 'in a resource group', vpc_id: ctx.vpc, resource_group_id: 'rg-tfprod' });
    assert.equal(ctx.rg.resource_group_id, 'rg-tfprod');
    await groupUpdate(ctx.rg, { resource_group_id: 'rg-tfstage' });
    assert.equal(ctx.rg.resource_group_id, 'rg-tfstage');
    const filtered = await rpcPost('DescribeSecurityGroups', { RegionId: REGION, ResourceGroupId: 'rg-tfstage' });
    assert.deepEqual(filtered.SecurityGroups.SecurityGroup.map((g) => g.SecurityGroupId), [ctx.rg.id]);
    await groupDelete(ctx.rg);
  });
  await step('alicloud_security_group_rule (ingress, cidr, nic_type unset): create and read back by NicType=<nil>', async () => {
    ctx.ssh = await ruleCreate({ type: 'ingress', ip_protocol: 'tcp', port_range: '22/22', policy: 'accept', priority: 1, cidr_ip: '10.0.0.0/8', security_group_id: ctx.web.id, description: 'ssh' });
    assert.ok(ctx.ssh.id.includes(':<nil>:'), ctx.ssh.id);
    assert.deepEqual([ctx.ssh.nic_type, ctx.ssh.description, ctx.ssh.priority], ['intranet', 'ssh', 1]);
    assert.match(ctx.ssh.security_group_rule_id, /^sgr-/);
    return ctx.ssh.id;
  });
  await step('alicloud_security_group_rule (ingress, drop at priority 5): create', async () => {
    ctx.deny = await ruleCreate({ type: 'ingress', ip_protocol: 'tcp', port_range: '22/22', policy: 'drop', priority: 5, cidr_ip: '10.0.0.0/8', security_group_id: ctx.web.id });
    assert.notEqual(ctx.deny.security_group_rule_id, ctx.ssh.security_group_rule_id);
  });
  await step('alicloud_security_group_rule (egress, to a group): create and read back', async () => {
    ctx.toDb = await ruleCreate({ type: 'egress', ip_protocol: 'tcp', port_range: '5432/5432', policy: 'accept', priority: 1, source_security_group_id: ctx.db.id, security_group_id: ctx.web.id });
    assert.equal(ctx.toDb.nic_type, 'intranet');
  });
  await step('alicloud_security_group_rule (ingress into db from web): create', async () => {
    ctx.fromWeb = await ruleCreate({ type: 'ingress', ip_protocol: 'tcp', port_range: '5432/5432', policy: 'accept', priority: 1, source_security_group_id: ctx.web.id, security_group_id: ctx.db.id });
  });
  await step('alicloud_security_group_rule: update the description (Modify by attributes, sent twice)', async () => {
    ctx.ssh.description = 'ssh from the office';
    await ruleUpdate(ctx.ssh);
    assert.equal(ctx.ssh.description, 'ssh from the office');
    ctx.toDb.description = 'to the database';
    await ruleUpdate(ctx.toDb);
    assert.equal(ctx.toDb.description, 'to the database');
    // The other rule of the same ports and peer kept its (empty) description.
    await ruleRead(ctx.deny);
    assert.equal(ctx.deny.description, '');
  });
  await step('alicloud_security_group_rule: update that removes the description', async () => {
    ctx.ssh.description = '';
    await ruleUpdate(ctx.ssh);
    assert.equal(ctx.ssh.description, '');
  });
  await step('alicloud_security_group_rule: plan after apply reads the same rule (no diff)', async () => {
    const before = JSON.stringify(ctx.ssh);
    await ruleRead(ctx.ssh);
    assert.equal(JSON.stringify(ctx.ssh), before);
  });
  await step('alicloud_security_group_rule: delete (revoke by attributes), then the read finds nothing', async () => {
    await ruleDelete(ctx.ssh);
    await assert.rejects(() => describeRule(ctx.ssh.id), (e) => e.notFound === true);
    await ruleRead(ctx.deny); // its neighbour stays
  });
  await step('alicloud_security_group: delete retried on DependencyViolation until the rule naming it is gone', async () => {
    let dependencies = 0;
    const attempts = await groupDelete(ctx.web, async () => {
      dependencies++;
      // Terraform destroys the rule that names the group meanwhile.
      await ruleDelete(ctx.fromWeb);
    });
    assert.equal(dependencies, 1, 'the first DeleteSecurityGroup should meet DependencyViolation');
    assert.equal(attempts, 2);
    assert.equal(await groupRead(ctx.web), null);
    await groupDelete(ctx.db);
    assert.equal(await groupRead(ctx.db), null);
    return `${attempts} attempts`;
  });
  await step('setup: a vSwitch, a group and an instance (alicloud_vswitch, alicloud_instance)', async () => {
    ctx.vsw = (await rpcPost('CreateVSwitch', { RegionId: REGION, VpcId: ctx.vpc, ZoneId: 'cn-hangzhou-h', CidrBlock: '172.16.1.0/24', VSwitchName: 'tf-vsw', ClientToken: clientToken('CreateVSwitch') }, 'vpc')).VSwitchId;
    ctx.app = await groupCreate({ security_group_name: 'tf-app', description: 'app tier', vpc_id: ctx.vpc });
    ctx.ops = await groupCreate({ security_group_name: 'tf-ops', description: 'ops access', vpc_id: ctx.vpc });
    const run = await rpcPost('RunInstances', { RegionId: REGION, ImageId: 'ubuntu_22_04_x64', InstanceType: 'ecs.g7.large', SecurityGroupId: ctx.app.id, VSwitchId: ctx.vsw, InstanceName: 'tf-app-1', ClientToken: clientToken('RunInstances') });
    ctx.instance = run.InstanceIdSets.InstanceIdSet[0];
  });
  await step('alicloud_ecs_prefix_list: create, then read as Terraform expects', async () => {
    ctx.offices = await prefixListCreate({
      address_family: 'IPv4', max_entries: 5, prefix_list_name: 'tf-offices', description: 'office egress blocks',
      entry: [{ cidr: '10.10.0.0/16', description: 'hangzhou' }, { cidr: '10.20.0.0/16', description: 'beijing' }],
    });
    assert.match(ctx.offices.id, /^pl-/);
    assert.deepEqual([ctx.offices.address_family, ctx.offices.max_entries, ctx.offices.prefix_list_name, ctx.offices.description], ['IPv4', 5, 'tf-offices', 'office egress blocks']);
    assert.deepEqual(ctx.offices.entry.map((e) => `${e.cidr} ${e.description}`).sort(), ['10.10.0.0/16 hangzhou', '10.20.0.0/16 beijing']);
    return ctx.offices.id;
  });
  await step('alicloud_ecs_prefix_list: update name and entries (RemoveEntry.N + AddEntry.N), no diff after', async () => {
    const entry = [{ cidr: '10.10.0.0/16', description: 'hangzhou' }, { cidr: '10.30.0.0/16', description: 'shanghai' }];
    await prefixListUpdate(ctx.offices, { prefix_list_name: 'tf-offices-2', entry });
    assert.equal(ctx.offices.prefix_list_name, 'tf-offices-2');
    assert.deepEqual(ctx.offices.entry.map((e) => `${e.cidr} ${e.description}`).sort(), ['10.10.0.0/16 hangzhou', '10.30.0.0/16 shanghai']);
  });
  await step('alicloud_security_group_rule (ingress, prefix_list_id): create and read back', async () => {
    ctx.fromOffices = await ruleCreate({ type: 'ingress', ip_protocol: 'tcp', port_range: '443/443', policy: 'accept', priority: 1, prefix_list_id: ctx.offices.id, security_group_id: ctx.app.id });
    assert.equal(ctx.fromOffices.prefix_list_id, ctx.offices.id);
    assert.ok(ctx.fromOffices.id.includes(`:${ctx.offices.id}:`), ctx.fromOffices.id);
  });
  await step('alicloud_ecs_network_interface: create (SecurityGroupIds.N, Tag.N), wait Available, read', async () => {
    ctx.eni = await eniCreate({ vswitch_id: ctx.vsw, security_group_ids: [ctx.app.id], network_interface_name: 'tf-eni', description: 'secondary', primary_ip_address: '172.16.1.50', tags: { env: 'prod' } });
    assert.match(ctx.eni.id, /^eni-/);
    assert.deepEqual([ctx.eni.status, ctx.eni.primary_ip_address, ctx.eni.network_interface_name, ctx.eni.vswitch_id, ctx.eni.instance_type], ['Available', '172.16.1.50', 'tf-eni', ctx.vsw, 'Secondary']);
    assert.deepEqual(ctx.eni.security_group_ids, [ctx.app.id]);
    assert.deepEqual(ctx.eni.tags, { env: 'prod' });
    assert.match(ctx.eni.mac, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    return ctx.eni.id;
  });
  await step('alicloud_ecs_network_interface: update groups (SecurityGroupId.N replaces the set), name, private_ip_addresses', async () => {
    await eniUpdate(ctx.eni, { security_group_ids: [ctx.app.id, ctx.ops.id], network_interface_name: 'tf-eni-2', private_ip_addresses: ['172.16.1.51', '172.16.1.52'] });
    assert.deepEqual(ctx.eni.security_group_ids, [ctx.app.id, ctx.ops.id].sort());
    assert.equal(ctx.eni.network_interface_name, 'tf-eni-2');
    assert.deepEqual([...ctx.eni.private_ip_addresses].sort(), ['172.16.1.51', '172.16.1.52']);
    await eniUpdate(ctx.eni, { security_group_ids: [ctx.ops.id], private_ip_addresses: ['172.16.1.52'] });
    assert.deepEqual(ctx.eni.security_group_ids, [ctx.ops.id]);
    assert.deepEqual(ctx.eni.private_ip_addresses, ['172.16.1.52']);
  });
  await step('alicloud_ecs_network_interface_attachment: attach, wait InUse, read by ENI:INSTANCE', async () => {
    ctx.attachment = await attachmentCreate({ network_interface_id: ctx.eni.id, instance_id: ctx.instance });
    assert.ok(ctx.attachment, 'the read does not find the attachment');
    await eniRead(ctx.eni);
    assert.equal(ctx.eni.status, 'InUse');
    // The primary ENI is there too, and keeps the instance's group: the ENI's groups are its own.
    const all = await rpcPost('DescribeNetworkInterfaces', { RegionId: REGION, InstanceId: ctx.instance });
    const byType = Object.fromEntries(all.NetworkInterfaceSets.NetworkInterfaceSet.map((n) => [n.Type, n.SecurityGroupIds.SecurityGroupId]));
    assert.deepEqual(byType, { Primary: [ctx.app.id], Secondary: [ctx.ops.id] });
  });
  await step('destroy: attachment (detach, wait Available), ENI (delete, wait until the read finds nothing)', async () => {
    await attachmentDelete(ctx.attachment);
    assert.equal(await attachmentRead(ctx.attachment), null);
    await eniDelete(ctx.eni);
    assert.equal(await eniRead(ctx.eni), null);
  });
  await step('destroy: the prefix list is refused while a rule names it, then the rule, then the list', async () => {
    await assert.rejects(() => rpcPost('DeletePrefixList', { PrefixListId: ctx.offices.id, RegionId: REGION }), (e) => e.code === 'NotAllowed.AssociationExist');
    await ruleDelete(ctx.fromOffices);
    await rpcPost('DeletePrefixList', { PrefixListId: ctx.offices.id, RegionId: REGION });
    assert.equal(await prefixListRead(ctx.offices), null);
  });
  await step('teardown: the instance, groups and vSwitch', async () => {
    await rpcPost('DeleteInstance', { RegionId: REGION, InstanceId: ctx.instance, Force: true });
    await groupDelete(ctx.app);
    await groupDelete(ctx.ops);
    await rpcPost('DeleteVSwitch', { RegionId: REGION, VSwitchId: ctx.vsw }, 'vpc');
  });
  await step('teardown: the VPC', async () => {
    await rpcPost('DeleteVpc', { RegionId: REGION, VpcId: ctx.vpc }, 'vpc');
  });

  const expected = ['ModifySecurityGroupRule', 'ModifySecurityGroupEgressRule'];
  for (const action of expected) {
    const sends = log.filter((l) => l.startsWith(`CommonRequest ${action} `));
    if (sends.some((l) => l.includes('SecurityGroupRuleId'))) { failed++; console.log(`  FAIL ${action} was sent with a rule ID`); }
  }
  if (failed) {
    console.log(`FAIL: ${failed} of ${results.length + failed} Terraform steps over ${PROTOCOL.toUpperCase()}`);
    return 1;
  }
  console.log(`PASS: ${results.length} Terraform steps over ${PROTOCOL.toUpperCase()} (${log.length} requests)`);
  return 0;
}

main().then((code) => { process.exitCode = code; }, (err) => {
  console.error('terraform.js crashed:', err && err.stack ? err.stack : err);
  process.exitCode = 3;
});
