'use strict';
// The Terraform-shaped conformance suite: the request sequences terraform-provider-alicloud makes
// for the create, read, update and delete of alicloud_security_group and alicloud_security_group_rule,
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
//     sent twice by ProcessCommonRequest; delete: RevokeSecurityGroup[Egress] by the same attributes.
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
      if (cidr === cidrIp && String(ru.Policy).toLowerCase() === policy && String(ru.Priority) === String(priority)) return ru;
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
  p.PortRange = rule.port_range;
  if (rule.nic_type) p.NicType = rule.nic_type;
  if (rule.description) p.Description = rule.description;
  const request = { RegionId: REGION, SecurityGroupId: rule.security_group_id };
  for (const [k, v] of Object.entries(p)) request[`Permissions.1.${k}`] = v;
  await rpcPost(ingress ? 'AuthorizeSecurityGroup' : 'AuthorizeSecurityGroupEgress', request);
  // fmt's %v of the unset NicType is "<nil>".
  rule.id = [rule.security_group_id, rule.type, rule.ip_protocol, rule.port_range, rule.nic_type || '<nil>', rule.cidr_ip || rule.source_security_group_id, rule.policy, rule.priority].join(':');
  return ruleRead(rule);
}

async function ruleRead(rule) {
  const object = await describeRule(rule.id);
  Object.assign(rule, {
    nic_type: object.NicType, policy: String(object.Policy).toLowerCase(), ip_protocol: String(object.IpProtocol).toLowerCase(),
    port_range: object.PortRange, description: object.Description, security_group_rule_id: object.SecurityGroupRuleId, priority: Number(object.Priority),
  });
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
