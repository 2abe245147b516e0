// Instances and their groups. Joining and leaving are shown with their what-if first: the
// connections the instance would gain or lose, computed by the server before anything changes.
import { h, fill, field, select, table } from './dom.js';
import { EcsError, call, collect, items, VPC } from './api.js';
import { peerOf, peerKindOf, portsText } from './ecs.js';
import { showError, announce, confirmWithImpact, sortableTable, page } from './ui.js';

const addressesOf = i => [...items(i.VpcAttributes, 'PrivateIpAddress', 'IpAddress'), ...items(i, 'InnerIpAddress', 'IpAddress'), ...items(i, 'PublicIpAddress', 'IpAddress')];

export async function instancesPage(main) {
  const loaded = await page(main, 'Instances', 'instances', () => Promise.all([
    collect('DescribeInstances', {}, 'Instances', 'Instance'),
    collect('DescribeSecurityGroups', {}, 'SecurityGroups', 'SecurityGroup'),
    collect('DescribeVSwitches', {}, 'VSwitches', 'VSwitch', { version: VPC }),
  ]));
  if (!loaded) return;
  const [instances, groups, vswitches] = loaded;
  const problem = h('div', { class: 'problem' });
  const reload = () => instancesPage(main);
  const nameOf = id => groups.find(g => g.SecurityGroupId === id)?.SecurityGroupName || id;
  const instanceName = id => { const name = instances.find(i => i.InstanceId === id)?.InstanceName; return name ? `${name} (${id})` : id; };

  // Join and leave: the what-if first, then the change itself only if the person confirms.
  const membership = async (action, instance, groupId) => {
    const joining = action === 'JoinSecurityGroup';
    const parameters = { InstanceId: instance.InstanceId, SecurityGroupId: groupId };
    const title = joining ? `Add ${instance.InstanceId} to ${nameOf(groupId)}?` : `Remove ${instance.InstanceId} from ${nameOf(groupId)}?`;
    if (!(await confirmWithImpact(title, action, parameters, joining ? 'Join group' : 'Leave group', instanceName))) return;
    try {
      await call(action, parameters);
      announce(`${instance.InstanceId} ${joining ? 'joined' : 'left'} ${groupId}.`);
      await reload();
    } catch (e) {
      showError(problem, e);
    }
  };
  const leave = (instance, groupId) => membership('LeaveSecurityGroup', instance, groupId);
  const join = (instance, groupId) => membership('JoinSecurityGroup', instance, groupId);

  const row = instance => {
    const member = items(instance, 'SecurityGroupIds', 'SecurityGroupId');
    const vpc = instance.VpcAttributes?.VpcId ?? '';
    const candidates = groups.filter(g => !member.includes(g.SecurityGroupId) && (g.VpcId || '') === vpc);
    const chooser = select({ 'aria-label': `Group for ${instance.InstanceId} to join` }, candidates.map(g => [g.SecurityGroupId, `${g.SecurityGroupName || g.SecurityGroupId} (${g.SecurityGroupId})`]));
    return h('tr', { dataset: { instance: instance.InstanceId } },
      h('td', {}, h('a', { href: `#/instances/${instance.InstanceId}` }, instance.InstanceName || instance.InstanceId), h('br'), h('small', { class: 'id' }, instance.InstanceId)),
      h('td', {}, instance.Status),
      h('td', {}, vpc || 'classic'),
      h('td', {}, addressesOf(instance).join(', ')),
      h('td', {}, h('ul', { class: 'memberships' }, member.map(g => h('li', {},
        h('a', { href: `#/groups/${g}` }, nameOf(g)), ' ',
        h('button', { type: 'button', class: 'link', 'aria-label': `Leave ${g}`, onclick: () => leave(instance, g) }, 'leave'))))),
      h('td', {}, candidates.length === 0 ? h('small', {}, 'no other group in its network') : h('div', { class: 'join' }, chooser,
        h('button', { type: 'button', onclick: () => join(instance, chooser.value), 'aria-label': `Join ${instance.InstanceId} to the chosen group` }, 'Join…'))));
  };

  fill(main,
    h('h1', {}, 'Instances'),
    problem,
    instances.length === 0 ? h('p', { class: 'empty' }, 'No instances in this region yet.')
      : sortableTable('Instances and their security groups', [
        { label: 'Instance', key: i => i.InstanceName || i.InstanceId },
        { label: 'Status', key: i => i.Status },
        { label: 'Network', key: i => i.VpcAttributes?.VpcId || 'classic' },
        { label: 'Addresses', key: i => addressesOf(i).join(',') },
        { label: 'Security groups' },
        { label: 'Join a group' },
      ], instances, row),
    runForm(groups, vswitches, reload));
}

/** Creates an instance record (no machine boots): how a console user tries a policy on a new member. */
function runForm(groups, vswitches, reload) {
  const name = h('input', { name: 'InstanceName', maxlength: 128 });
  // The groups offered are those of the chosen vSwitch's VPC (ECS refuses any other), and the
  // vSwitch chosen first is one whose VPC has a group, so the defaults work as they stand.
  const groupsIn = vpcId => groups.filter(g => g.VpcId && g.VpcId === vpcId);
  const usable = vswitches.find(v => groupsIn(v.VpcId).length > 0) ?? vswitches[0];
  const vswitch = select({ name: 'VSwitchId' }, vswitches.map(v => [v.VSwitchId, `${v.VSwitchName || v.VSwitchId} (${v.CidrBlock}, ${v.VpcId})`]), usable?.VSwitchId);
  const group = h('select', { name: 'SecurityGroupId', id: 'run-group', 'aria-describedby': 'run-group-hint' });
  const groupHint = h('small', { class: 'hint', id: 'run-group-hint' });
  const offerGroups = () => {
    const vpcId = vswitches.find(v => v.VSwitchId === vswitch.value)?.VpcId;
    const offered = groupsIn(vpcId);
    fill(group, offered.map(g => h('option', { value: g.SecurityGroupId }, `${g.SecurityGroupName || g.SecurityGroupId} (${g.SecurityGroupId})`)));
    group.disabled = offered.length === 0;
    groupHint.textContent = offered.length === 0 ? `No security group in ${vpcId ?? 'this VPC'} yet: create one on the Security groups page.` : `The groups of ${vpcId}, the vSwitch's VPC.`;
  };
  vswitch.addEventListener('change', offerGroups);
  offerGroups();
  const problem = h('div', { class: 'problem' });
  const form = h('form', { class: 'card', 'aria-labelledby': 'run-instance' },
    h('h2', { id: 'run-instance' }, 'Run an instance'),
    h('p', {}, 'Palisade keeps the instance\'s network identity and groups; no machine boots.'),
    h('div', { class: 'grid' }, field('Name', name), field('vSwitch', vswitch),
      h('div', { class: 'field' }, h('label', { for: 'run-group' }, 'Security group'), group, groupHint)),
    problem,
    h('button', { type: 'submit', class: 'primary' }, 'Run instance'));
  form.addEventListener('submit', async event => {
    event.preventDefault();
    try {
      const result = await call('RunInstances', {
        VSwitchId: vswitch.value, SecurityGroupId: group.value, InstanceName: name.value,
        ImageId: 'ubuntu_22_04_x64', InstanceType: 'ecs.g7.large', Amount: 1,
      });
      announce(`Started ${items(result, 'InstanceIdSets', 'InstanceIdSet').join(', ')}.`);
      await reload();
    } catch (e) {
      showError(problem, e);
    }
  });
  return form;
}

/**
 * One instance: its NICs and addresses, its groups, and the rules its NIC enforces — every group
 * pooled, in the order they are tried, as the server's engine orders them
 * (DescribeInstanceEffectiveRules), each with the group it came from — then the defaults.
 */
export async function instancePage(main, instanceId) {
  const loaded = await page(main, instanceId, 'the instance', async () => {
    const instance = items(await call('DescribeInstances', { InstanceIds: JSON.stringify([instanceId]) }), 'Instances', 'Instance')[0];
    if (!instance) throw new EcsError(404, 'InvalidInstanceId.NotFound', `The instance ${instanceId} does not exist in this region.`, '', null);
    const classic = instance.InstanceNetworkType === 'classic';
    const [effective, internet, groups, interfaces] = await Promise.all([
      call('DescribeInstanceEffectiveRules', { InstanceId: instanceId }),
      // A classic instance has a second NIC, on the internet, with rules of its own.
      classic ? call('DescribeInstanceEffectiveRules', { InstanceId: instanceId, NicType: 'internet' }) : null,
      collect('DescribeSecurityGroups', {}, 'SecurityGroups', 'SecurityGroup'),
      // Each ENI has groups of its own: the primary's are the instance's, a secondary's its own.
      classic ? [] : collect('DescribeNetworkInterfaces', { InstanceId: instanceId }, 'NetworkInterfaceSets', 'NetworkInterfaceSet'),
    ]);
    return { instance, effective, internet, groups, interfaces };
  }, [h('p', {}, h('a', { href: '#/instances' }, 'All instances'))]);
  if (!loaded) return;
  const { instance, effective, internet, groups, interfaces } = loaded;
  const reload = () => instancePage(main, instanceId);
  const problem = h('div', { class: 'problem' });
  const member = items(instance, 'SecurityGroupIds', 'SecurityGroupId');
  const vpc = instance.VpcAttributes?.VpcId ?? '';
  const groupName = id => groups.find(g => g.SecurityGroupId === id)?.SecurityGroupName || id;
  const title = instance.InstanceName || instanceId;

  const membership = async (action, groupId) => {
    const joining = action === 'JoinSecurityGroup';
    const parameters = { InstanceId: instanceId, SecurityGroupId: groupId };
    const question = joining ? `Add ${title} to ${groupName(groupId)}?` : `Remove ${title} from ${groupName(groupId)}?`;
    if (!(await confirmWithImpact(question, action, parameters, joining ? 'Join group' : 'Leave group'))) return;
    try {
      await call(action, parameters);
      announce(`${title} ${joining ? 'joined' : 'left'} ${groupName(groupId)}.`);
      await reload();
    } catch (e) {
      showError(problem, e);
    }
  };
  const candidates = groups.filter(g => !member.includes(g.SecurityGroupId) && (g.VpcId || '') === vpc);
  const chooser = select({ 'aria-label': `Group for ${title} to join` }, candidates.map(g => [g.SecurityGroupId, `${g.SecurityGroupName || g.SecurityGroupId} (${g.SecurityGroupId})`]));

  const nics = items(instance, 'NetworkInterfaces', 'NetworkInterface');
  const addresses = [
    ...items(instance.VpcAttributes, 'PrivateIpAddress', 'IpAddress').map(a => [a, 'private']),
    ...items(instance, 'InnerIpAddress', 'IpAddress').map(a => [a, 'intranet (classic)']),
    ...nics.flatMap(n => items(n, 'Ipv6Sets', 'Ipv6Set').map(v => [v.Ipv6Address, 'IPv6'])),
    ...items(instance, 'PublicIpAddress', 'IpAddress').map(a => [a, 'public']),
    ...(instance.EipAddress?.IpAddress ? [[instance.EipAddress.IpAddress, 'elastic (EIP)']] : []),
  ];

  const deleteInstance = async () => {
    const parameters = { InstanceId: instanceId, Force: true };
    if (!(await confirmWithImpact(`Delete ${title}?`, 'DeleteInstance', parameters, 'Delete instance'))) return;
    try {
      await call('DeleteInstance', parameters);
      announce(`Deleted ${title}.`);
      location.hash = '#/instances';
    } catch (e) {
      showError(problem, e);
    }
  };

  fill(main,
    h('p', { class: 'crumbs' }, h('a', { href: '#/instances' }, 'Instances'), ' / ', instanceId),
    h('h1', {}, title),
    h('section', { class: 'card', 'aria-labelledby': 'instance-facts' },
      h('h2', { id: 'instance-facts' }, 'Network'),
      h('dl', { class: 'facts' },
        h('dt', {}, 'ID'), h('dd', {}, instanceId),
        h('dt', {}, 'Status'), h('dd', {}, instance.Status),
        h('dt', {}, 'Network'), h('dd', {}, vpc ? `${vpc}, vSwitch ${instance.VpcAttributes.VSwitchId}` : 'classic'),
        h('dt', {}, 'Network interfaces'), h('dd', {}, nics.length === 0 ? (vpc ? '—' : 'intranet and internet (classic)')
          : h('ul', { class: 'plain' }, nics.map(n => h('li', {}, h('code', {}, n.NetworkInterfaceId), ` ${n.Type || ''} `, n.MacAddress ? h('small', { class: 'id' }, n.MacAddress) : null)))),
        h('dt', {}, 'Addresses'), h('dd', {}, addresses.length === 0 ? '—'
          : h('ul', { class: 'plain' }, addresses.map(([a, kind]) => h('li', {}, h('code', {}, a), ' ', h('small', { class: 'id' }, kind)))))),
      problem,
      h('button', { type: 'button', class: 'danger', onclick: deleteInstance }, 'Delete instance…')),
    interfacesSection(interfaces, groupName),
    h('section', { 'aria-labelledby': 'instance-groups' },
      h('h2', { id: 'instance-groups' }, `Security groups (${member.length})`),
      table('Security groups of this instance', ['Group', 'Type', 'Inner access', 'Members', 'Actions'],
        items(effective, 'SecurityGroups', 'SecurityGroup').map(g => h('tr', { dataset: { group: g.SecurityGroupId } },
          h('td', {}, h('a', { href: `#/groups/${g.SecurityGroupId}` }, g.SecurityGroupName || g.SecurityGroupId), h('br'), h('small', { class: 'id' }, g.SecurityGroupId)),
          h('td', {}, g.SecurityGroupType === 'enterprise' ? 'advanced' : 'basic'),
          h('td', {}, g.InnerAccessPolicy || '—'),
          h('td', { class: 'num' }, g.MemberCount),
          h('td', {}, h('button', { type: 'button', class: 'link', 'aria-label': `Leave ${g.SecurityGroupId}`, onclick: () => membership('LeaveSecurityGroup', g.SecurityGroupId) }, 'leave'))))),
      candidates.length === 0 ? h('p', { class: 'empty' }, 'No other group in its network to join.')
        : h('div', { class: 'join' }, chooser, h('button', { type: 'button', onclick: () => membership('JoinSecurityGroup', chooser.value) }, 'Join…'))),
    effectiveRules(effective, internet ? 'intranet NIC' : null),
    internet ? effectiveRules(internet, 'internet NIC') : null);
}

/**
 * The instance's ENIs, primary first, each with its addresses and its own security groups: a
 * secondary ENI's groups decide the traffic to and from its addresses, not the instance's.
 */
function interfacesSection(interfaces, groupName) {
  if (interfaces.length === 0) return null;
  const ordered = [...interfaces].sort((a, b) => (a.Type === 'Primary' ? -1 : b.Type === 'Primary' ? 1 : a.NetworkInterfaceId.localeCompare(b.NetworkInterfaceId)));
  const addressesOf = n => [
    ...items(n, 'PrivateIpSets', 'PrivateIpSet').map(p => p.PrivateIpAddress),
    ...items(n, 'Ipv6Sets', 'Ipv6Set').map(v => v.Ipv6Address),
    ...(n.AssociatedPublicIp?.PublicIpAddress ? [`${n.AssociatedPublicIp.PublicIpAddress} (public)`] : []),
  ];
  return h('section', { 'aria-labelledby': 'instance-enis' },
    h('h2', { id: 'instance-enis' }, `Network interfaces (${ordered.length})`),
    ordered.length > 1 ? h('p', {}, 'The groups and rules further down are the primary interface\'s; each secondary interface is filtered by its own groups, listed here.') : null,
    table('Network interfaces of this instance, with the groups of each', ['Interface', 'Type', 'MAC', 'Addresses', 'Security groups'],
      ordered.map(n => h('tr', { dataset: { eni: n.NetworkInterfaceId } },
        h('td', {}, n.NetworkInterfaceName || n.NetworkInterfaceId, h('br'), h('small', { class: 'id' }, n.NetworkInterfaceId)),
        h('td', {}, n.Type === 'Primary' ? 'primary' : 'secondary'),
        h('td', {}, h('code', {}, n.MacAddress || '—')),
        h('td', {}, h('ul', { class: 'plain' }, addressesOf(n).map(a => h('li', {}, h('code', {}, a))))),
        h('td', {}, h('ul', { class: 'plain' }, items(n, 'SecurityGroupIds', 'SecurityGroupId').map(id => h('li', {}, h('a', { href: `#/groups/${id}` }, groupName(id))))))))));
}

/** The pooled rules of one NIC, both directions, with what happens before the first rule and after the last. */
function effectiveRules(effective, nic) {
  const suffix = nic ? ` (${nic})` : '';
  const innerAccept = items(effective, 'SecurityGroups', 'SecurityGroup').filter(g => g.InnerAccessPolicy === 'Accept');
  const direction = ingress => {
    const list = items(effective, ingress ? 'IngressPermissions' : 'EgressPermissions', 'Permission');
    const id = `effective-${ingress ? 'in' : 'out'}${nic ? `-${nic.split(' ')[0]}` : ''}`;
    const before = ingress && innerAccept.length > 0
      ? h('p', { class: 'notice' }, 'Before every rule: fellow members of ',
        innerAccept.map((g, i) => [i > 0 ? ', ' : '', h('a', { href: `#/groups/${g.SecurityGroupId}` }, g.SecurityGroupName || g.SecurityGroupId)]),
        ' reach this instance on every protocol and port (inner access Accept).')
      : null;
    const after = ingress
      ? 'When no rule matches: Drop.'
      : `When no rule matches: ${effective.DefaultEgressPolicy} — ${effective.DefaultEgressReason}.`;
    return h('section', { 'aria-labelledby': id, dataset: { direction: ingress ? 'ingress' : 'egress' } },
      h('h3', { id }, `${ingress ? 'Inbound' : 'Outbound'}${suffix}`),
      before,
      list.length === 0 ? h('p', { class: 'empty' }, `No ${ingress ? 'inbound' : 'outbound'} rule in any of its groups.`)
        : table(`${ingress ? 'Inbound' : 'Outbound'} rules of all its groups, in the order they are tried${suffix}`,
          ['Order', 'Priority', 'Policy', 'Protocol', 'Ports', ingress ? 'Source' : 'Destination', 'From group', 'Description'],
          list.map(r => h('tr', { dataset: { rule: r.SecurityGroupRuleId } },
            h('td', { class: 'num' }, r.Order),
            h('td', { class: 'num' }, r.Priority),
            h('td', {}, h('span', { class: `policy ${r.Policy.toLowerCase()}` }, r.Policy)),
            h('td', {}, r.IpProtocol),
            h('td', {}, portsText(r)),
            h('td', {}, peerText(r, ingress)),
            h('td', {}, h('a', { href: `#/groups/${r.SecurityGroupId}` }, r.SecurityGroupName || r.SecurityGroupId)),
            h('td', {}, r.Description)))),
      h('p', { class: 'default-policy' }, after));
  };
  return h('section', { class: 'effective', 'aria-labelledby': `effective${nic ? `-${nic.split(' ')[0]}` : ''}` },
    h('h2', { id: `effective${nic ? `-${nic.split(' ')[0]}` : ''}` }, `Effective rules${suffix}`),
    h('p', {}, 'The first rule that matches a packet decides it: the lowest priority number first, and at one priority a drop before an accept.'),
    direction(true), direction(false));
}

/** A rule's peer, with the group's name where it is a group. */
function peerText(rule, ingress) {
  const peer = peerOf(rule, ingress);
  const name = ingress ? rule.SourceGroupName : rule.DestGroupName;
  return peerKindOf(rule, ingress) === 'Group' && name ? `${name} (${peer})` : peer;
}
