// Instances and their groups. Joining and leaving are shown with their what-if first: the
// connections the instance would gain or lose, computed by the server before anything changes.
import { h, fill, field, select } from './dom.js';
import { call, collect, items, VPC } from './api.js';
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
      h('td', {}, instance.InstanceName || instance.InstanceId, h('br'), h('small', { class: 'id' }, instance.InstanceId)),
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
  const vswitch = select({ name: 'VSwitchId' }, vswitches.map(v => [v.VSwitchId, `${v.VSwitchId} ${v.VSwitchName || ''} (${v.CidrBlock}, ${v.VpcId})`]));
  const group = select({ name: 'SecurityGroupId' }, groups.filter(g => g.VpcId).map(g => [g.SecurityGroupId, `${g.SecurityGroupName || g.SecurityGroupId} (${g.VpcId})`]));
  const problem = h('div', { class: 'problem' });
  const form = h('form', { class: 'card', 'aria-labelledby': 'run-instance' },
    h('h2', { id: 'run-instance' }, 'Run an instance'),
    h('p', {}, 'Palisade keeps the instance\'s network identity and groups; no machine boots.'),
    h('div', { class: 'grid' }, field('Name', name), field('vSwitch', vswitch), field('Security group', group, 'In the vSwitch\'s VPC.')),
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
