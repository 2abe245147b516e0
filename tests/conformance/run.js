'use strict';
// Conformance scenario: the same security-group story, played by four official Alibaba Cloud
// Node.js client flavours against a Palisade server, which must give every flavour the same answers.
//
//   a  ecs-v3    @alicloud/ecs20140526 + @alicloud/vpc20160428, default ACS3-HMAC-SHA256 signature
//   b  ecs-v1    the same clients with signatureAlgorithm 'v2' (legacy V1 HMAC-SHA1, POST + query)
//   c  pop-get   @alicloud/pop-core RPCClient, V1 signature, GET with everything in the query
//   d  pop-post  @alicloud/pop-core RPCClient, V1 signature, POST with a form body
//
// Env: PALISADE_ENDPOINT (host:port, e.g. 127.0.0.1:18123), PALISADE_KEY_ID, PALISADE_KEY_SECRET.
// PALISADE_PROTOCOL=https talks TLS (trust a private CA with NODE_EXTRA_CA_CERTS); default http.
// Optional: PALISADE_FLAVOURS (comma list, default all four), PALISADE_REQUIRE_CLASSIC=1 (a server
// that refuses classic-network groups fails the run instead of being reported as a finding).
// Exit code 0 only when every step of every flavour passed and all flavours saw the same outcomes.

const assert = require('node:assert/strict');
const net = require('node:net');
const Ecs = require('@alicloud/ecs20140526');
const Vpc = require('@alicloud/vpc20160428');
const { $OpenApiUtil } = require('@alicloud/openapi-core');
const { RPCClient } = require('@alicloud/pop-core');

const REGION = 'cn-hangzhou';
const ZONE = 'cn-hangzhou-h';
const VPC_CIDR = '192.168.0.0/16';
const VSW_CIDR = '192.168.1.0/24';
const TIMEOUT_MS = 15000;
const PROTOCOL = process.env.PALISADE_PROTOCOL || 'http';
const VPC_ACTIONS = new Set(['CreateVpc', 'CreateVSwitch', 'DeleteVpc', 'DeleteVSwitch', 'DescribeVpcs', 'DescribeVSwitches']);

// ---------------------------------------------------------------------------------------------
// Errors the adapters throw. ApiError = the server answered with an error body; anything else is a
// transport or client-side problem and never counts as an API outcome.

class ApiError extends Error {
  constructor(code, statusCode, message) {
    super(`${code} (HTTP ${statusCode}): ${message}`);
    this.name = 'ApiError';
    this.code = code;
    this.statusCode = statusCode;
    this.serverMessage = message;
  }
}

class TransportError extends Error {
  constructor(message) {
    // httpx appends "<METHOD> <url> failed." and the URL may carry the signed query: drop it.
    super(String(message).replace(/\s*(GET|POST) https?:\/\/\S*( failed\.?)?/g, '').trim());
    this.name = 'TransportError';
  }
}

// ---------------------------------------------------------------------------------------------
// Adapters: call(action, params) with the API's PascalCase parameter names (lists as JS arrays,
// list items as PascalCase objects) -> the response body as PascalCase plain JSON.

const lcfirst = (s) => s[0].toLowerCase() + s.slice(1);
const isModelClass = (t) => typeof t === 'function' && typeof t.names === 'function' && typeof t.types === 'function';

// PascalCase map -> the camelCase map a generated model's constructor takes. Refuses parameter names
// the model does not know: the generated SDK would silently drop them while pop-core sends them, and
// the four flavours would no longer be making the same call.
function toModelFields(Cls, params, where) {
  const names = Cls.names();
  const types = Cls.types();
  const fieldOf = Object.fromEntries(Object.entries(names).map(([field, wire]) => [wire, field]));
  const out = {};
  for (const [wire, value] of Object.entries(params)) {
    const field = fieldOf[wire];
    if (!field) throw new Error(`${Cls.name} has no parameter ${where}${wire}`);
    const type = types[field];
    if (isModelClass(type)) {
      out[field] = toModelFields(type, value, `${where}${wire}.`);
    } else if (type && type.type === 'array' && isModelClass(type.itemType)) {
      out[field] = value.map((item, i) => toModelFields(type.itemType, item, `${where}${wire}.${i + 1}.`));
    } else {
      out[field] = value;
    }
  }
  return out;
}

function generatedSdkAdapter({ endpoint, keyId, secret }, { v1 }) {
  const config = () => new $OpenApiUtil.Config({
    accessKeyId: keyId,
    accessKeySecret: secret,
    endpoint, // host:port, no scheme (sdk-wire.md §8.1)
    protocol: PROTOCOL,
    connectTimeout: TIMEOUT_MS, // both timeouts: connectTimeout doubles as the idle timeout (§8.9)
    readTimeout: TIMEOUT_MS,
    ...(v1 ? { signatureAlgorithm: 'v2' } : {}),
  });
  const products = {
    ecs: { mod: Ecs, client: new Ecs.default(config()) },
    vpc: { mod: Vpc, client: new Vpc.default(config()) },
  };
  return {
    async call(action, params) {
      const { mod, client } = products[VPC_ACTIONS.has(action) ? 'vpc' : 'ecs'];
      const Req = mod[`${action}Request`];
      const method = client[lcfirst(action)];
      if (!Req || typeof method !== 'function') throw new Error(`the generated SDK has no typed ${action}`);
      const request = new Req(toModelFields(Req, params, ''));
      let response;
      try {
        response = await method.call(client, request);
      } catch (err) {
        if (typeof err.statusCode === 'number' && err.code !== undefined) {
          const message = err.data && err.data.Message !== undefined ? err.data.Message : err.message;
          throw new ApiError(String(err.code), err.statusCode, message);
        }
        throw new TransportError(`${err.name || 'Error'}: ${err.message}`);
      }
      const body = response.body;
      return body && typeof body.toMap === 'function' ? body.toMap() : JSON.parse(JSON.stringify(body));
    },
  };
}

function popCoreAdapter({ endpoint, keyId, secret }, { method }) {
  const client = (apiVersion) => new RPCClient({
    accessKeyId: keyId,
    accessKeySecret: secret,
    endpoint: `${PROTOCOL}://${endpoint}`, // pop-core needs the scheme (sdk-wire.md §8.1)
    apiVersion,
  });
  const clients = { ecs: client('2014-05-26'), vpc: client('2016-04-28') };
  return {
    async call(action, params) {
      const c = clients[VPC_ACTIONS.has(action) ? 'vpc' : 'ecs'];
      let body;
      try {
        body = await c.request(action, params, { method, timeout: TIMEOUT_MS });
      } catch (err) {
        // The message of a pop-core error holds the whole signed URL: never print it.
        if (err && err.data && err.code !== undefined) {
          const status = err.entry && err.entry.response ? err.entry.response.statusCode : undefined;
          throw new ApiError(String(err.code), status, err.data.Message);
        }
        if (err && err.name === 'SyntaxError') throw new TransportError(`reply is not JSON: ${String(err.text || '').slice(0, 120)}`);
        throw new TransportError(`${(err && err.name) || 'Error'}: ${(err && err.message || String(err)).split(', URL: ')[0]}`);
      }
      return JSON.parse(JSON.stringify(body)); // json-bigint values -> plain JSON
    },
  };
}

const FLAVOURS = [
  { name: 'ecs-v3', describe: '@alicloud/ecs20140526 7.x + vpc20160428, V3 ACS3-HMAC-SHA256', make: (c) => generatedSdkAdapter(c, { v1: false }) },
  { name: 'ecs-v1', describe: "@alicloud/ecs20140526 7.x + vpc20160428, signatureAlgorithm 'v2' (V1)", make: (c) => generatedSdkAdapter(c, { v1: true }) },
  { name: 'pop-get', describe: '@alicloud/pop-core RPCClient, GET (V1)', make: (c) => popCoreAdapter(c, { method: 'GET' }) },
  { name: 'pop-post', describe: '@alicloud/pop-core RPCClient, POST form body (V1)', make: (c) => popCoreAdapter(c, { method: 'POST' }) },
];

// ---------------------------------------------------------------------------------------------
// Small helpers for reading answers.

const list = (wrapper, key) => {
  if (wrapper === undefined || wrapper === null) return [];
  const items = wrapper[key];
  if (items === undefined || items === null) return [];
  assert.ok(Array.isArray(items), `${key} should be a list, got ${JSON.stringify(items)}`);
  return items;
};
const eqi = (a, b) => String(a).toLowerCase() === String(b).toLowerCase();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function ipv4ToInt(ip) {
  const parts = String(ip).split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return null;
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}
function inCidr(ip, cidr) {
  const [base, bits] = cidr.split('/');
  const a = ipv4ToInt(ip);
  const b = ipv4ToInt(base);
  if (a === null) return false;
  const size = 2 ** (32 - Number(bits));
  return Math.floor(a / size) === Math.floor(b / size);
}

// ---------------------------------------------------------------------------------------------
// The scenario. Each step records an outcome: 'ok', an error code with its HTTP status, or a short
// failure word. Expected-error steps record the error they got, so flavours can be compared.

async function runScenario(flavour, creds) {
  const api = flavour.make(creds);
  const wrongSecret = flavour.make({ ...creds, secret: `${creds.secret}-wrong` });
  const f = flavour.name;
  const ctx = {};
  const results = [];
  const cleanup = [];

  const record = (name, outcome, pass, detail, expected) => {
    results.push({ name, outcome, pass, detail, expected });
    const mark = pass === true ? 'ok ' : pass === null ? ' - ' : 'FAIL';
    console.log(`  [${f}] ${mark} ${name}: ${outcome}${pass === false && detail ? `\n           ${detail}` : ''}`);
  };
  const missing = (needs) => needs.filter((k) => ctx[k] === undefined || ctx[k] === null);

  // A step that must succeed. fn may return {outcome, pass, detail} to report something other than 'ok'.
  async function step(name, needs, fn) {
    const absent = missing(needs);
    if (ctx.classicDisabled && needs.some((k) => k.startsWith('classic'))) {
      return record(name, 'n/a (classic disabled)', null, '', 'ok');
    }
    if (absent.length) return record(name, 'skipped', false, `needs ${absent.join(', ')} from an earlier step`, 'ok');
    try {
      const r = await fn();
      if (r && r.outcome) return record(name, r.outcome, r.pass, r.detail, 'ok');
      record(name, 'ok', true, '', 'ok');
    } catch (err) {
      if (err instanceof ApiError) record(name, `${err.code} (${err.statusCode})`, false, `expected success, got ${err.message}`, 'ok');
      else if (err instanceof assert.AssertionError) record(name, 'assertion-failed', false, `expected ok, got: ${err.message}`, 'ok');
      else record(name, err instanceof TransportError ? 'transport-error' : 'exception', false, `expected success, got ${err.message}`, 'ok');
    }
  }

  // A step whose call must fail with a given code and HTTP status.
  async function expectError(name, needs, code, status, fn) {
    const expected = `${code} (${status})`;
    const absent = missing(needs);
    if (ctx.classicDisabled && needs.some((k) => k.startsWith('classic'))) {
      return record(name, 'n/a (classic disabled)', null, '', expected);
    }
    if (absent.length) return record(name, 'skipped', false, `needs ${absent.join(', ')} from an earlier step`, expected);
    try {
      await fn();
      record(name, 'ok', false, `expected error ${expected}, but the call succeeded`, expected);
    } catch (err) {
      if (err instanceof ApiError) {
        const got = `${err.code} (${err.statusCode})`;
        record(name, got, got === expected, `expected ${expected}, got ${err.message}`, expected);
      } else {
        record(name, err instanceof TransportError ? 'transport-error' : 'exception', false, `expected ${expected}, got ${err.message}`, expected);
      }
    }
  }

  async function tidy(name, fn) {
    try {
      await fn();
      cleanup.push({ name, outcome: 'ok' });
    } catch (err) {
      cleanup.push({ name, outcome: err instanceof ApiError ? `${err.code} (${err.statusCode})` : `${err.name}: ${err.message}` });
    }
  }

  const ecsCall = (action, params) => api.call(action, { RegionId: REGION, ...params });

  async function rules(groupId) {
    const body = await ecsCall('DescribeSecurityGroupAttribute', { SecurityGroupId: groupId, Direction: 'all' });
    assert.equal(body.SecurityGroupId, groupId, 'DescribeSecurityGroupAttribute answers for another group');
    return list(body.Permissions, 'Permission');
  }

  async function createGroup(name, vpcId) {
    const body = await ecsCall('CreateSecurityGroup', {
      SecurityGroupName: name,
      Description: `conformance ${f}`,
      ...(vpcId ? { VpcId: vpcId } : {}),
    });
    assert.match(String(body.SecurityGroupId), /^sg-/, `SecurityGroupId should start with sg-, got ${body.SecurityGroupId}`);
    return body.SecurityGroupId;
  }

  // DescribeInstances for the given ids; polls while any is Pending/Starting (about 5 s at most).
  async function instances(ids) {
    let found = [];
    for (let attempt = 0; attempt < 11; attempt++) {
      const body = await ecsCall('DescribeInstances', { InstanceIds: JSON.stringify(ids), PageSize: 100 });
      found = list(body.Instances, 'Instance');
      const settling = found.some((i) => ['Pending', 'Starting'].includes(i.Status));
      if (found.length === ids.length && !settling) break;
      await sleep(500);
    }
    const byId = new Map(found.map((i) => [i.InstanceId, i]));
    for (const id of ids) assert.ok(byId.has(id), `DescribeInstances does not list ${id} (got ${[...byId.keys()].join(', ') || 'nothing'})`);
    assert.equal(found.length, ids.length, `DescribeInstances with InstanceIds of ${ids.length} ids listed ${found.length}`);
    return ids.map((id) => byId.get(id));
  }

  const groupsOf = (instance) => list(instance.SecurityGroupIds, 'SecurityGroupId');

  // ---- network ----
  await step('CreateVpc', [], async () => {
    const body = await api.call('CreateVpc', { RegionId: REGION, CidrBlock: VPC_CIDR, VpcName: `conformance-${f}` });
    assert.match(String(body.VpcId), /^vpc-/, `VpcId should start with vpc-, got ${body.VpcId}`);
    ctx.vpcId = body.VpcId;
  });
  await step('CreateVSwitch', ['vpcId'], async () => {
    const body = await api.call('CreateVSwitch', { RegionId: REGION, VpcId: ctx.vpcId, ZoneId: ZONE, CidrBlock: VSW_CIDR, VSwitchName: `conformance-${f}` });
    assert.match(String(body.VSwitchId), /^vsw-/, `VSwitchId should start with vsw-, got ${body.VSwitchId}`);
    ctx.vswId = body.VSwitchId;
  });

  // ---- groups and rules ----
  ctx.groups = [];
  await step('CreateSecurityGroup web + redis', ['vpcId'], async () => {
    ctx.webId = await createGroup(`web-${f}`, ctx.vpcId);
    ctx.groups.push(ctx.webId);
    ctx.redisId = await createGroup(`redis-${f}`, ctx.vpcId);
    ctx.groups.push(ctx.redisId);
    assert.notEqual(ctx.webId, ctx.redisId, 'two CreateSecurityGroup calls returned the same id');
  });
  await step('AuthorizeSecurityGroup web tcp 80 (single form)', ['webId'], async () => {
    await ecsCall('AuthorizeSecurityGroup', {
      SecurityGroupId: ctx.webId, IpProtocol: 'tcp', PortRange: '80/80', SourceCidrIp: '0.0.0.0/0',
      Policy: 'accept', Priority: '1', Description: 'http from anywhere',
    });
  });
  await step('AuthorizeSecurityGroup redis drop 6379 (Permissions.N)', ['redisId'], async () => {
    await ecsCall('AuthorizeSecurityGroup', {
      SecurityGroupId: ctx.redisId,
      Permissions: [{ IpProtocol: 'tcp', PortRange: '6379/6379', SourceCidrIp: '0.0.0.0/0', Policy: 'drop', Priority: '100', Description: 'no redis from anywhere' }],
    });
  });
  await step('AuthorizeSecurityGroup redis accept 6379 from web (single form)', ['redisId', 'webId'], async () => {
    await ecsCall('AuthorizeSecurityGroup', {
      SecurityGroupId: ctx.redisId, IpProtocol: 'tcp', PortRange: '6379/6379', SourceGroupId: ctx.webId,
      NicType: 'intranet', Policy: 'accept', Priority: '1', Description: 'redis from web',
    });
  });
  await step('DescribeSecurityGroupAttribute redis', ['redisId', 'webId'], async () => {
    const perms = await rules(ctx.redisId);
    assert.equal(perms.length, 2, `expected exactly 2 permissions, got ${perms.length}: ${JSON.stringify(perms)}`);
    for (const p of perms) {
      assert.match(String(p.SecurityGroupRuleId), /^sgr-/, `SecurityGroupRuleId should start with sgr-, got ${p.SecurityGroupRuleId}`);
      assert.equal(p.IpProtocol, 'TCP', `IpProtocol should be 'TCP', got ${p.IpProtocol}`);
      assert.equal(p.PortRange, '6379/6379', `PortRange should be '6379/6379', got ${p.PortRange}`);
    }
    assert.notEqual(perms[0].SecurityGroupRuleId, perms[1].SecurityGroupRuleId, 'the two rules share a SecurityGroupRuleId');
    const byPriority = new Map(perms.map((p) => [String(p.Priority), p]));
    assert.deepEqual([...byPriority.keys()].sort(), ['1', '100'], `priorities should be 1 and 100, got ${perms.map((p) => p.Priority)}`);
    const peer = byPriority.get('1');
    const cidr = byPriority.get('100');
    assert.ok(eqi(peer.Policy, 'accept'), `the priority-1 rule should be Accept, got ${peer.Policy}`);
    assert.equal(peer.SourceGroupId, ctx.webId, `the priority-1 rule should have SourceGroupId ${ctx.webId}, got ${peer.SourceGroupId}`);
    assert.ok(eqi(cidr.Policy, 'drop'), `the priority-100 rule should be Drop, got ${cidr.Policy}`);
    assert.equal(cidr.SourceCidrIp, '0.0.0.0/0', `the priority-100 rule should have SourceCidrIp 0.0.0.0/0, got ${cidr.SourceCidrIp}`);
  });

  await step('DescribeSecurityGroupAttribute web (rule count before a bad call)', ['webId'], async () => {
    ctx.webRuleCount = (await rules(ctx.webId)).length;
    assert.equal(ctx.webRuleCount, 1, `web should have 1 rule, got ${ctx.webRuleCount}`);
  });
  await expectError('AuthorizeSecurityGroup PortRange 200/1', ['webId'], 'InvalidIpProtocol.Malformed', 400, () => ecsCall('AuthorizeSecurityGroup', {
    SecurityGroupId: ctx.webId, IpProtocol: 'tcp', PortRange: '200/1', SourceCidrIp: '10.0.0.0/8', Policy: 'accept', Priority: '1',
  }));
  await step('DescribeSecurityGroupAttribute web unchanged after the bad call', ['webId', 'webRuleCount'], async () => {
    const n = (await rules(ctx.webId)).length;
    assert.equal(n, ctx.webRuleCount, `web had ${ctx.webRuleCount} rule(s) before the rejected call and ${n} after`);
  });

  // ---- instances ----
  await step('RunInstances x2 in web', ['webId', 'vswId'], async () => {
    const body = await ecsCall('RunInstances', {
      ImageId: 'ubuntu_22_04_x64', InstanceType: 'ecs.g7.large', SecurityGroupId: ctx.webId, VSwitchId: ctx.vswId,
      Amount: 2, InstanceName: `conformance-${f}`,
    });
    const ids = list(body.InstanceIdSets, 'InstanceIdSet');
    assert.equal(ids.length, 2, `InstanceIdSets.InstanceIdSet should hold 2 ids, got ${JSON.stringify(body.InstanceIdSets)}`);
    for (const id of ids) assert.match(String(id), /^i-/, `instance ids should start with i-, got ${id}`);
    assert.notEqual(ids[0], ids[1], 'RunInstances returned the same id twice');
    [ctx.i1, ctx.i2] = ids;
    cleanup.instances = [...ids];
  });
  await step('DescribeInstances: Running, private IP in the vSwitch', ['i1', 'i2', 'vpcId', 'vswId', 'webId'], async () => {
    for (const inst of await instances([ctx.i1, ctx.i2])) {
      assert.equal(inst.Status, 'Running', `${inst.InstanceId} should be Running, got ${inst.Status}`);
      const ips = list(inst.VpcAttributes && inst.VpcAttributes.PrivateIpAddress, 'IpAddress');
      assert.ok(ips.length >= 1, `${inst.InstanceId} has no VpcAttributes.PrivateIpAddress.IpAddress`);
      assert.ok(inCidr(ips[0], VSW_CIDR), `${inst.InstanceId} private IP ${ips[0]} is not inside ${VSW_CIDR}`);
      assert.equal(inst.VpcAttributes.VpcId, ctx.vpcId, `${inst.InstanceId} VpcAttributes.VpcId`);
      assert.equal(inst.VpcAttributes.VSwitchId, ctx.vswId, `${inst.InstanceId} VpcAttributes.VSwitchId`);
      assert.deepEqual(groupsOf(inst), [ctx.webId], `${inst.InstanceId} SecurityGroupIds.SecurityGroupId`);
    }
  });

  // ---- five groups per instance ----
  await step('CreateSecurityGroup x4 extra', ['vpcId'], async () => {
    ctx.extra = [];
    for (let n = 1; n <= 4; n++) {
      const id = await createGroup(`extra${n}-${f}`, ctx.vpcId);
      ctx.extra.push(id);
      ctx.groups.push(id);
    }
  });
  await step('JoinSecurityGroup instance 1 to redis + 3 extra (5 groups)', ['i1', 'redisId', 'extra'], async () => {
    for (const g of [ctx.redisId, ...ctx.extra.slice(0, 3)]) {
      await ecsCall('JoinSecurityGroup', { InstanceId: ctx.i1, SecurityGroupId: g });
    }
    const [inst] = await instances([ctx.i1]);
    const got = groupsOf(inst);
    const want = [ctx.webId, ctx.redisId, ...ctx.extra.slice(0, 3)];
    assert.deepEqual([...got].sort(), [...want].sort(), `instance 1 should be in 5 groups, DescribeInstances says ${JSON.stringify(got)}`);
    ctx.fiveGroups = true;
  });
  await expectError('JoinSecurityGroup a 6th group', ['i1', 'extra', 'fiveGroups'], 'InstanceSecurityGroupLimitExceeded', 400,
    () => ecsCall('JoinSecurityGroup', { InstanceId: ctx.i1, SecurityGroupId: ctx.extra[3] }));
  await expectError('LeaveSecurityGroup the last group', ['i2', 'webId'], 'InstanceLastSecurityGroup', 403,
    () => ecsCall('LeaveSecurityGroup', { InstanceId: ctx.i2, SecurityGroupId: ctx.webId }));

  // ---- classic network ----
  await step('CreateSecurityGroup classic (no VpcId)', [], async () => {
    try {
      ctx.classicGroupId = await createGroup(`classic-${f}`);
      ctx.groups.push(ctx.classicGroupId);
    } catch (err) {
      const looksDisabled = err instanceof ApiError && err.statusCode >= 400 && err.statusCode < 500
        && (err.code === 'InvalidVpcId.NotFound' || /classic|vpc/i.test(`${err.code} ${err.serverMessage}`));
      if (!looksDisabled) throw err;
      ctx.classicDisabled = true;
      const strict = process.env.PALISADE_REQUIRE_CLASSIC === '1';
      return {
        outcome: `finding: classic disabled, ${err.code} (${err.statusCode})`,
        pass: strict ? false : null,
        detail: `the server refuses classic-network groups: ${err.serverMessage}`,
      };
    }
  });
  await step('RunInstances classic (no VSwitchId)', ['classicGroupId'], async () => {
    const body = await ecsCall('RunInstances', {
      ImageId: 'ubuntu_22_04_x64', InstanceType: 'ecs.g7.large', SecurityGroupId: ctx.classicGroupId, Amount: 1,
      InstanceName: `conformance-classic-${f}`,
    });
    const ids = list(body.InstanceIdSets, 'InstanceIdSet');
    assert.equal(ids.length, 1, `InstanceIdSets.InstanceIdSet should hold 1 id, got ${JSON.stringify(body.InstanceIdSets)}`);
    ctx.classicInstance = ids[0];
    cleanup.instances = [...(cleanup.instances || []), ids[0]];
    const [inst] = await instances([ids[0]]);
    assert.equal(inst.Status, 'Running', `${inst.InstanceId} should be Running, got ${inst.Status}`);
    if (inst.InstanceNetworkType !== undefined) assert.equal(inst.InstanceNetworkType, 'classic', 'InstanceNetworkType');
  });
  await expectError('JoinSecurityGroup classic instance to a VPC group', ['classicInstance', 'webId'], 'InvalidInstanceId.Mismatch', 400,
    () => ecsCall('JoinSecurityGroup', { InstanceId: ctx.classicInstance, SecurityGroupId: ctx.webId }));

  await expectError('DeleteSecurityGroup web with members', ['webId', 'i1'], 'DependencyViolation', 403,
    () => ecsCall('DeleteSecurityGroup', { SecurityGroupId: ctx.webId }));

  // ---- tags ----
  const tagRows = async () => {
    const body = await ecsCall('ListTagResources', { ResourceType: 'securitygroup', ResourceId: [ctx.redisId] });
    return list(body.TagResources, 'TagResource');
  };
  await step('TagResources redis env=prod team=core', ['redisId'], async () => {
    await ecsCall('TagResources', {
      ResourceType: 'securitygroup', ResourceId: [ctx.redisId],
      Tag: [{ Key: 'env', Value: 'prod' }, { Key: 'team', Value: 'core' }],
    });
    ctx.tagged = true;
  });
  await step('ListTagResources redis: 2 rows', ['redisId', 'tagged'], async () => {
    const rows = await tagRows();
    assert.equal(rows.length, 2, `expected 2 rows in TagResources.TagResource, got ${JSON.stringify(rows)}`);
    for (const r of rows) {
      assert.equal(r.ResourceId, ctx.redisId, 'TagResource.ResourceId');
      assert.equal(r.ResourceType, 'securitygroup', 'TagResource.ResourceType');
    }
    assert.deepEqual(rows.map((r) => `${r.TagKey}=${r.TagValue}`).sort(), ['env=prod', 'team=core']);
  });
  await step('DescribeSecurityGroups Tag env=prod finds redis', ['redisId', 'webId', 'tagged'], async () => {
    const body = await ecsCall('DescribeSecurityGroups', { Tag: [{ Key: 'env', Value: 'prod' }], PageSize: 50 });
    const groups = list(body.SecurityGroups, 'SecurityGroup');
    const redis = groups.find((g) => g.SecurityGroupId === ctx.redisId);
    assert.ok(redis, `redis ${ctx.redisId} is not among ${JSON.stringify(groups.map((g) => g.SecurityGroupId))}`);
    assert.ok(!groups.some((g) => g.SecurityGroupId === ctx.webId), 'the untagged web group matched Tag env=prod');
    const tags = list(redis.Tags, 'Tag').map((t) => `${t.TagKey}=${t.TagValue}`).sort();
    assert.deepEqual(tags, ['env=prod', 'team=core'], 'redis Tags.Tag');
    for (const g of groups) {
      assert.ok(list(g.Tags, 'Tag').some((t) => t.TagKey === 'env' && t.TagValue === 'prod'), `${g.SecurityGroupId} matched the filter without tag env=prod`);
    }
  });
  await step('UntagResources env, ListTagResources: 1 row', ['redisId', 'tagged'], async () => {
    await ecsCall('UntagResources', { ResourceType: 'securitygroup', ResourceId: [ctx.redisId], TagKey: ['env'] });
    const rows = await tagRows();
    assert.deepEqual(rows.map((r) => `${r.TagKey}=${r.TagValue}`), ['team=core'], `after UntagResources env: ${JSON.stringify(rows)}`);
  });

  // ---- authentication ----
  await expectError('DescribeSecurityGroups with a wrong secret', [], 'SignatureDoesNotMatch', 400,
    () => wrongSecret.call('DescribeSecurityGroups', { RegionId: REGION }));

  // ---- issue 16: prefix lists and port-range lists, and rules naming them ----
  await step('CreatePrefixList office (Entry.N)', [], async () => {
    const body = await ecsCall('CreatePrefixList', {
      AddressFamily: 'IPv4', MaxEntries: 5, PrefixListName: `office-${f}`, Description: `conformance ${f}`,
      Entry: [{ Cidr: '203.0.113.0/24', Description: 'hq office' }, { Cidr: '198.51.100.7' }],
    });
    assert.match(String(body.PrefixListId), /^pl-/, 'PrefixListId');
    ctx.prefixListId = body.PrefixListId;
  });
  await step('DescribePrefixListAttributes: entries, a bare address as /32', ['prefixListId'], async () => {
    const body = await ecsCall('DescribePrefixListAttributes', { PrefixListId: ctx.prefixListId });
    assert.equal(body.AddressFamily, 'IPv4');
    assert.equal(Number(body.MaxEntries), 5);
    assert.deepEqual(list(body.Entries, 'Entry').map((e) => e.Cidr), ['203.0.113.0/24', '198.51.100.7/32']);
  });
  await step('AuthorizeSecurityGroup web tcp 443 from the prefix list', ['webId', 'prefixListId'], async () => {
    await ecsCall('AuthorizeSecurityGroup', { SecurityGroupId: ctx.webId, IpProtocol: 'tcp', PortRange: '443/443', SourcePrefixListId: ctx.prefixListId });
    const rule = (await rules(ctx.webId)).find((r) => r.SourcePrefixListId === ctx.prefixListId);
    assert.ok(rule, 'the rule naming the prefix list is listed');
    assert.equal(rule.SourcePrefixListName, `office-${f}`, 'SourcePrefixListName');
  });
  await step('ModifyPrefixList AddEntry.N + RemoveEntry.N', ['prefixListId'], async () => {
    await ecsCall('ModifyPrefixList', { PrefixListId: ctx.prefixListId, AddEntry: [{ Cidr: '192.0.2.0/24', Description: 'branch' }], RemoveEntry: [{ Cidr: '198.51.100.7/32' }] });
    const body = await ecsCall('DescribePrefixListAttributes', { PrefixListId: ctx.prefixListId });
    assert.deepEqual(list(body.Entries, 'Entry').map((e) => e.Cidr), ['203.0.113.0/24', '192.0.2.0/24']);
  });
  await step('DescribePrefixLists + DescribePrefixListAssociations', ['prefixListId', 'webId'], async () => {
    const body = await ecsCall('DescribePrefixLists', { PrefixListId: [ctx.prefixListId] });
    const item = list(body.PrefixLists, 'PrefixList').find((l) => l.PrefixListId === ctx.prefixListId);
    assert.ok(item, 'listed');
    assert.equal(Number(item.AssociationCount), 1, 'AssociationCount');
    const associations = await ecsCall('DescribePrefixListAssociations', { PrefixListId: ctx.prefixListId });
    assert.deepEqual(list(associations.PrefixListAssociations, 'PrefixListAssociation').map((a) => a.ResourceId), [ctx.webId]);
  });
  await expectError('DeletePrefixList while a rule names it', ['prefixListId', 'webId'], 'NotAllowed.AssociationExist', 400,
    () => ecsCall('DeletePrefixList', { PrefixListId: ctx.prefixListId }));
  await step('CreatePortRangeList + a rule naming it', ['webId'], async () => {
    const body = await ecsCall('CreatePortRangeList', { MaxEntries: 3, PortRangeListName: `web-${f}`, Entry: [{ PortRange: '80/80', Description: 'http' }, { PortRange: '8000/8010' }] });
    assert.match(String(body.PortRangeListId), /^prl-/, 'PortRangeListId');
    ctx.portRangeListId = body.PortRangeListId;
    // ECS documents PortRangeListId only inside Permissions.N; the generated SDK has no top-level field.
    await ecsCall('AuthorizeSecurityGroup', { SecurityGroupId: ctx.webId, Permissions: [{ IpProtocol: 'tcp', PortRangeListId: ctx.portRangeListId, SourceCidrIp: '10.0.0.0/8' }] });
    const rule = (await rules(ctx.webId)).find((r) => r.PortRangeListId === ctx.portRangeListId);
    assert.ok(rule, 'the rule naming the port-range list is listed');
    assert.equal(rule.PortRangeListName, `web-${f}`, 'PortRangeListName');
  });
  await step('ModifyPortRangeList, DescribePortRangeLists/Entries/Associations', ['portRangeListId', 'webId'], async () => {
    await ecsCall('ModifyPortRangeList', { PortRangeListId: ctx.portRangeListId, AddEntry: [{ PortRange: '443/443', Description: 'https' }], RemoveEntry: [{ PortRange: '80/80' }] });
    const entries = await ecsCall('DescribePortRangeListEntries', { PortRangeListId: ctx.portRangeListId });
    assert.deepEqual(entries.Entries.map((e) => e.PortRange), ['8000/8010', '443/443']);
    const lists = await ecsCall('DescribePortRangeLists', { PortRangeListId: [ctx.portRangeListId] });
    assert.equal(lists.PortRangeLists.length, 1);
    assert.equal(Number(lists.PortRangeLists[0].AssociationCount), 1);
    const associations = await ecsCall('DescribePortRangeListAssociations', { PortRangeListId: ctx.portRangeListId });
    assert.deepEqual(associations.PortRangeListAssociations.map((a) => a.ResourceId), [ctx.webId]);
  });
  await expectError('DeletePortRangeList while a rule names it', ['portRangeListId', 'webId'], 'InvalidPortRangeListId.AssociationExist', 400,
    () => ecsCall('DeletePortRangeList', { PortRangeListId: ctx.portRangeListId }));

  // ---- cleanup (errors tolerated, reported for information) ----
  if (cleanup.instances && cleanup.instances.length) {
    await tidy(`DeleteInstances ${cleanup.instances.length}`, () => ecsCall('DeleteInstances', { InstanceId: cleanup.instances, Force: true }));
  }
  // redis references web, so delete in reverse creation order; members may take a moment to go.
  for (const g of [...ctx.groups].reverse()) {
    await tidy(`DeleteSecurityGroup ${g}`, async () => {
      for (let attempt = 0; ; attempt++) {
        try {
          return await ecsCall('DeleteSecurityGroup', { SecurityGroupId: g });
        } catch (err) {
          if (!(err instanceof ApiError) || err.code !== 'DependencyViolation' || attempt >= 10) throw err;
          await sleep(500);
        }
      }
    });
  }
  // The groups (and their rules naming the lists) are gone: the lists can go.
  if (ctx.prefixListId) await tidy(`DeletePrefixList ${ctx.prefixListId}`, () => ecsCall('DeletePrefixList', { PrefixListId: ctx.prefixListId }));
  if (ctx.portRangeListId) await tidy(`DeletePortRangeList ${ctx.portRangeListId}`, () => ecsCall('DeletePortRangeList', { PortRangeListId: ctx.portRangeListId }));
  if (ctx.vswId) await tidy(`DeleteVSwitch ${ctx.vswId}`, () => api.call('DeleteVSwitch', { RegionId: REGION, VSwitchId: ctx.vswId }));
  if (ctx.vpcId) await tidy(`DeleteVpc ${ctx.vpcId}`, () => api.call('DeleteVpc', { RegionId: REGION, VpcId: ctx.vpcId }));
  const bad = cleanup.filter((c) => c.outcome !== 'ok');
  console.log(`  [${f}] cleanup: ${cleanup.length - bad.length}/${cleanup.length} ok${bad.length ? `; ${bad.map((c) => `${c.name} -> ${c.outcome}`).join('; ')}` : ''}`);

  return results;
}

// ---------------------------------------------------------------------------------------------

function table(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows.map((r) => r.map((c, i) => String(c).padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}

async function main() {
  const endpoint = process.env.PALISADE_ENDPOINT;
  const keyId = process.env.PALISADE_KEY_ID;
  const secret = process.env.PALISADE_KEY_SECRET;
  const missingEnv = [['PALISADE_ENDPOINT', endpoint], ['PALISADE_KEY_ID', keyId], ['PALISADE_KEY_SECRET', secret]].filter(([, v]) => !v).map(([k]) => k);
  if (missingEnv.length) {
    console.error(`run.js: set ${missingEnv.join(', ')} (PALISADE_ENDPOINT is host:port, e.g. 127.0.0.1:18123)`);
    return 2;
  }
  if (/^[a-z]+:\/\//i.test(endpoint) || endpoint.includes('/')) {
    console.error(`run.js: PALISADE_ENDPOINT must be host:port without a scheme or path, got ${endpoint}`);
    return 2;
  }
  if (!['http', 'https'].includes(PROTOCOL)) {
    console.error(`run.js: PALISADE_PROTOCOL must be http or https, got ${PROTOCOL}`);
    return 2;
  }
  const wanted = (process.env.PALISADE_FLAVOURS || FLAVOURS.map((x) => x.name).join(',')).split(',').map((s) => s.trim()).filter(Boolean);
  const flavours = FLAVOURS.filter((x) => wanted.includes(x.name));
  const unknown = wanted.filter((w) => !FLAVOURS.some((x) => x.name === w));
  if (unknown.length || !flavours.length) {
    console.error(`run.js: unknown flavour(s) ${unknown.join(', ')}; known: ${FLAVOURS.map((x) => x.name).join(', ')}`);
    return 2;
  }

  // Preflight: one clear message instead of a hundred transport errors when nothing listens.
  const [host, port] = [endpoint.slice(0, endpoint.lastIndexOf(':')), Number(endpoint.slice(endpoint.lastIndexOf(':') + 1))];
  const reachable = await new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: 5000 });
    socket.once('connect', () => { socket.destroy(); resolve(null); });
    socket.once('timeout', () => { socket.destroy(); resolve('timed out'); });
    socket.once('error', (err) => resolve(err.code || err.message));
  });
  if (reachable !== null) {
    console.error(`run.js: cannot connect to ${endpoint} (${reachable}); is the server running?`);
    return 2;
  }

  const outcomes = {};
  for (const flavour of flavours) {
    console.log(`\n== ${flavour.name}: ${flavour.describe} -> ${PROTOCOL}://${endpoint}`);
    outcomes[flavour.name] = await runScenario(flavour, { endpoint, keyId, secret });
  }

  const names = flavours.map((x) => x.name);
  const steps = outcomes[names[0]].map((r) => r.name);
  const failures = [];
  const disagreements = [];
  const findings = [];
  const rows = [['step', ...names, 'agree']];
  for (const [i, step] of steps.entries()) {
    const cells = names.map((n) => outcomes[n][i]);
    const agree = cells.every((c) => c.outcome === cells[0].outcome);
    if (!agree) disagreements.push({ step, cells: names.map((n, j) => `${n}=${cells[j].outcome}`).join(', ') });
    for (const [j, c] of cells.entries()) {
      if (c.pass === false) failures.push({ step, flavour: names[j], expected: c.expected, got: c.outcome, detail: c.detail });
      if (c.outcome.startsWith('finding:')) findings.push(`${names[j]}: ${step}: ${c.detail}`);
    }
    rows.push([step, ...cells.map((c) => `${c.pass === false ? '✗ ' : ''}${c.outcome}`), agree ? 'yes' : 'NO']);
  }

  console.log(`\n${table(rows)}\n`);
  if (findings.length) {
    console.log('Findings (not failures unless PALISADE_REQUIRE_CLASSIC=1):');
    for (const x of [...new Set(findings)]) console.log(`  - ${x}`);
  }
  for (const x of failures) {
    console.log(`FAIL  step "${x.step}" flavour ${x.flavour}: expected ${x.expected}, got ${x.got}${x.detail ? `\n      ${x.detail}` : ''}`);
  }
  for (const x of disagreements) console.log(`DISAGREE  step "${x.step}": ${x.cells}`);

  const total = steps.length * names.length;
  if (!failures.length && !disagreements.length) {
    console.log(`PASS: ${steps.length} steps x ${names.length} flavours over ${PROTOCOL.toUpperCase()}, all outcomes agree`);
    return 0;
  }
  console.log(`FAILED: ${failures.length} of ${total} step runs failed, ${disagreements.length} step(s) where flavours disagree`);
  return 1;
}

main().then((code) => { process.exitCode = code; }, (err) => {
  console.error('run.js crashed:', err && err.stack ? err.stack : err);
  process.exitCode = 3;
});
