// Security groups: the list with search and tags, and a group's page with its rules in the order
// ECS applies them, the forms that add, edit and remove rules, and the group's settings.
import { h, fill, field, select, table } from './dom.js';
import { EcsError, call, collect, items, VPC } from './api.js';
import { PROTOCOLS, hasPorts, effectiveOrder, peerParameters, peerOf, peerKindOf, permissionParameters, portsText, portsNotation, portRangeParameter, fieldOfError } from './ecs.js';
import { showError, announce, confirmWithImpact, sortableTable, page, modal, loading, errorBox, impactView, instanceNames } from './ui.js';

const tagText = tag => (tag.TagValue ? `${tag.TagKey}=${tag.TagValue}` : tag.TagKey);

export async function groupsPage(main) {
  const loaded = await page(main, 'Security groups', 'security groups', () => Promise.all([
    collect('DescribeSecurityGroups', {}, 'SecurityGroups', 'SecurityGroup'),
    collect('DescribeVpcs', {}, 'Vpcs', 'Vpc', { version: VPC }),
  ]));
  if (!loaded) return;
  const [groups, vpcs] = loaded;
  const search = h('input', { type: 'search', placeholder: 'name, ID, description, tag or VPC', spellcheck: 'false' });
  const list = h('div', { class: 'group-list' });
  const count = h('p', { class: 'count', 'aria-live': 'polite' });
  const show = () => {
    const words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    const shown = groups.filter(g => {
      const text = [g.SecurityGroupId, g.SecurityGroupName, g.Description, g.VpcId || 'classic', g.SecurityGroupType,
        ...items(g, 'Tags', 'Tag').map(tagText)].join(' ').toLowerCase();
      return words.every(w => text.includes(w));
    });
    count.textContent = `${shown.length} of ${groups.length} groups`;
    fill(list, sortableTable('Security groups', [
      { label: 'Name', key: g => g.SecurityGroupName || g.SecurityGroupId },
      { label: 'Type', key: g => g.SecurityGroupType },
      { label: 'Network', key: g => g.VpcId || 'classic' },
      { label: 'Instances', key: g => g.EcsCount },
      { label: 'Rules', key: g => g.RuleCount },
      { label: 'Tags' },
      { label: 'Description', key: g => g.Description },
    ], shown, g => h('tr', {},
      h('td', {}, h('a', { href: `#/groups/${g.SecurityGroupId}` }, g.SecurityGroupName || g.SecurityGroupId), h('br'), h('small', { class: 'id' }, g.SecurityGroupId)),
      h('td', {}, g.SecurityGroupType === 'enterprise' ? 'advanced' : 'basic'),
      h('td', {}, g.VpcId || 'classic'),
      h('td', { class: 'num' }, g.EcsCount),
      h('td', { class: 'num' }, g.RuleCount),
      h('td', {}, h('ul', { class: 'tags' }, items(g, 'Tags', 'Tag').map(t => h('li', {}, tagText(t))))),
      h('td', {}, g.Description))));
  };
  search.addEventListener('input', show);
  show();
  fill(main,
    h('h1', {}, 'Security groups'),
    h('div', { class: 'toolbar' }, field('Search groups', search)),
    count, list,
    createGroupForm(vpcs));
}

function createGroupForm(vpcs) {
  const name = h('input', { name: 'SecurityGroupName', maxlength: 128 });
  const description = h('input', { name: 'Description', maxlength: 256 });
  const network = select({ name: 'VpcId' }, [...vpcs.map(v => [v.VpcId, `${v.VpcId} ${v.VpcName || ''} (${v.CidrBlock})`]), ['', 'classic network']], vpcs[0]?.VpcId ?? '');
  const type = select({ name: 'SecurityGroupType' }, [['normal', 'basic (normal)'], ['enterprise', 'advanced (enterprise)']], 'normal');
  const problem = h('div', { class: 'problem' });
  const form = h('form', { class: 'card', 'aria-labelledby': 'create-group' },
    h('h2', { id: 'create-group' }, 'Create a security group'),
    h('div', { class: 'grid' },
      field('Name', name, '2–128 characters, starting with a letter; not http:// or https://.'),
      field('Description', description),
      field('Network', network),
      field('Type', type, 'Basic groups have an inner access policy; advanced groups hold more instances and deny undeclared outbound traffic.')),
    problem,
    h('button', { type: 'submit', class: 'primary' }, 'Create group'));
  form.addEventListener('submit', async event => {
    event.preventDefault();
    try {
      const created = await call('CreateSecurityGroup', {
        SecurityGroupName: name.value, Description: description.value, VpcId: network.value, SecurityGroupType: type.value,
      });
      announce(`Created ${created.SecurityGroupId}.`);
      location.hash = `#/groups/${created.SecurityGroupId}`;
    } catch (e) {
      showError(problem, e);
    }
  });
  return form;
}

/** How far back the rule tables' usage column looks. */
const usageDays = 7;

/**
 * Each rule's usage column from DescribeSecurityGroupRuleUsage: its packets and last hit, or "no
 * traffic in N days" — said with a caveat when not every host carrying the group counted the whole time.
 */
function ruleUsage(answer) {
  const byRule = new Map(items(answer, 'RuleUsages', 'RuleUsage').map(u => [u.SecurityGroupRuleId, u]));
  const watched = Boolean(answer?.CountingSince);
  return id => {
    const u = byRule.get(id);
    if (!answer || !u) return { text: '', packets: -1, title: 'no usage known' };
    if (u.Packets > 0) {
      return { text: `${u.Packets} packets, last ${u.LastHitTime.replace('T', ' ').replace('Z', ' UTC')}`, packets: u.Packets,
        title: `${u.Packets} packets (${u.Bytes} bytes) in ${answer.Days} days, on ${u.HostsWithHits} host(s)` };
    }
    return watched
      ? { text: `no traffic in ${answer.Days} days`, packets: 0, title: `every host carrying the group counted since ${answer.CountingSince}` }
      : { text: `no traffic seen in ${answer.Days} days`, packets: 0, title: 'not every host carrying the group counts: it may still be used' };
  };
}

export async function groupPage(main, groupId) {
  const loaded = await page(main, groupId, 'the group', async () => {
    const group = items(await call('DescribeSecurityGroups', { SecurityGroupId: groupId }), 'SecurityGroups', 'SecurityGroup')[0];
    if (!group) throw new EcsError(404, 'InvalidSecurityGroupId.NotFound', `The security group ${groupId} does not exist in this region.`, '', null);
    // A classic group answers for one NIC type per call (internet when none is named): ask for both.
    const nicTypes = group.VpcId ? [undefined] : ['intranet', 'internet'];
    const bodies = [];
    const [answers, members, groups, references, prefixLists, usage] = await Promise.all([
      Promise.all(nicTypes.map(nic =>
        collect('DescribeSecurityGroupAttribute', { SecurityGroupId: groupId, Direction: 'all', NicType: nic }, 'Permissions', 'Permission', { bodies }))),
      collect('DescribeInstances', { SecurityGroupId: groupId }, 'Instances', 'Instance'),
      collect('DescribeSecurityGroups', {}, 'SecurityGroups', 'SecurityGroup'),
      call('DescribeSecurityGroupReferences', { SecurityGroupId: [groupId] }),
      // Rules of classic groups cannot name a prefix list (NotSupported.ClassicNetworkPrefixList).
      group.VpcId ? collect('DescribePrefixLists', {}, 'PrefixLists', 'PrefixList') : [],
      // The agents' hit counts (a Palisade extension); the page stands without them.
      call('DescribeSecurityGroupRuleUsage', { SecurityGroupId: groupId, Days: usageDays }).catch(() => null),
    ]);
    const referencing = items(items(references, 'SecurityGroupReferences', 'SecurityGroupReference')[0], 'ReferencingSecurityGroups', 'ReferencingSecurityGroup')
      .map(r => r.SecurityGroupId);
    return { group, attributes: bodies[0], rules: answers.flat(), members, groups, referencing, prefixLists, usage };
  }, [h('p', {}, h('a', { href: '#/groups' }, 'All security groups'))]);
  if (!loaded) return;
  const { group, attributes, rules, members, groups, referencing, prefixLists, usage } = loaded;
  const usageOf = ruleUsage(usage);
  const reload = () => groupPage(main, groupId);
  const nameOf = id => { const g = groups.find(x => x.SecurityGroupId === id); return g?.SecurityGroupName ? `${g.SecurityGroupName} (${id})` : id; };
  const form = ruleForm(group, groups, prefixLists, reload);
  // A peer as a person knows it: a group or a prefix list by name, linked to its page.
  const peerCell = (r, ingress) => {
    const peer = peerOf(r, ingress);
    const kind = peerKindOf(r, ingress);
    if (kind === 'Group') return nameOf(peer);
    if (kind === 'PrefixList') return h('a', { href: `#/prefix-lists/${peer}` }, (ingress ? r.SourcePrefixListName : r.DestPrefixListName) || peer);
    return peer;
  };
  const advanced = group.SecurityGroupType === 'enterprise';
  const rulesTable = direction => {
    const ingress = direction === 'ingress';
    const ordered = rules.filter(r => r.Direction === direction).sort(effectiveOrder).map((r, i) => ({ ...r, order: i + 1 }));
    if (ordered.length === 0) {
      return h('p', { class: 'empty' }, ingress
        ? 'No inbound rules: nothing reaches the members from outside the group (inner access aside).'
        : advanced
          ? 'No outbound rules: this is an advanced group, so its members reach nothing outside unless a rule accepts it.'
          : 'No outbound rules: this is a basic group, so its members reach everything a rule does not drop.');
    }
    return sortableTable(ingress ? 'Inbound rules, in the order ECS applies them' : 'Outbound rules, in the order ECS applies them', [
      { label: 'Order', key: r => r.order },
      { label: 'Priority', key: r => r.Priority },
      { label: 'Policy', key: r => r.Policy },
      { label: 'Protocol', key: r => r.IpProtocol },
      { label: 'Ports', key: r => portsText(r) },
      { label: ingress ? 'Source' : 'Destination', key: r => peerOf(r, ingress) },
      { label: 'NIC', key: r => r.NicType },
      { label: 'Description', key: r => r.Description },
      { label: 'Usage', key: r => usageOf(r.SecurityGroupRuleId).packets },
      { label: 'Actions' },
    ], ordered, r => h('tr', { dataset: { rule: r.SecurityGroupRuleId } },
      h('td', { class: 'num' }, r.order),
      h('td', { class: 'num' }, r.Priority),
      h('td', {}, h('span', { class: `policy ${r.Policy.toLowerCase()}` }, r.Policy)),
      h('td', {}, r.IpProtocol),
      h('td', {}, portsText(r)),
      h('td', {}, peerCell(r, ingress)),
      h('td', {}, r.NicType),
      h('td', {}, r.Description, h('br'), h('small', { class: 'id' }, r.SecurityGroupRuleId)),
      h('td', { class: 'usage', title: usageOf(r.SecurityGroupRuleId).title }, usageOf(r.SecurityGroupRuleId).text),
      h('td', { class: 'row-actions' },
        h('button', { type: 'button', onclick: () => form.edit(r), 'aria-label': `Edit rule ${r.SecurityGroupRuleId}` }, 'Edit'),
        h('button', { type: 'button', class: 'danger', 'aria-label': `Remove rule ${r.SecurityGroupRuleId}`, onclick: async () => {
          const action = ingress ? 'RevokeSecurityGroup' : 'RevokeSecurityGroupEgress';
          const parameters = { SecurityGroupId: groupId, SecurityGroupRuleId: [r.SecurityGroupRuleId] };
          if (!(await confirmWithImpact(`Remove rule ${r.SecurityGroupRuleId}?`, action, parameters, 'Remove rule'))) return;
          try {
            await call(action, parameters);
            announce(`Removed ${r.SecurityGroupRuleId}.`);
            await reload();
          } catch (e) {
            form.fail(e);
          }
        } }, 'Remove'))),
      0);
  };

  fill(main,
    h('p', { class: 'crumbs' }, h('a', { href: '#/groups' }, 'Security groups'), ' / ', groupId),
    h('h1', {}, group.SecurityGroupName || groupId),
    settings(group, attributes, { members, referencing, nameOf }, reload),
    membersSection(members),
    h('section', { 'aria-labelledby': 'inbound' }, h('h2', { id: 'inbound' }, 'Inbound'), rulesTable('ingress'),
      rules.some(r => r.Direction === 'ingress' && r.Policy === 'Accept')
        ? h('p', {}, h('button', { type: 'button', onclick: () => suggest(groupId, nameOf, reload) }, 'Suggest narrower rules from observed traffic…'))
        : null),
    h('section', { 'aria-labelledby': 'outbound' }, h('h2', { id: 'outbound' }, 'Outbound'), rulesTable('egress')),
    form.element);
}

const suggestionDays = 7;

/**
 * `palisade suggest` in a dialog: the narrowest inbound accept rules that keep every connection the
 * agents saw this group's own rules admit (DescribeSecurityGroupRuleSuggestion), the rules they
 * would replace, and the what-if. Replace adds the new rules first and removes the old ones after,
 * so that no observed connection is ever without a rule.
 */
async function suggest(groupId, nameOf, reload) {
  const body = h('div', { class: 'dialog-body' }, loading('the observed traffic'));
  const { confirm, answer, onlyCancel } = modal('Narrower inbound rules from observed traffic', body, 'Replace rules', 'whatif suggestion');
  confirm.disabled = true;
  let s;
  try {
    s = await call('DescribeSecurityGroupRuleSuggestion', { SecurityGroupId: groupId, Days: suggestionDays });
    const suggested = items(s, 'SuggestedPermissions', 'Permission');
    const replaced = items(s, 'ReplacedPermissions', 'Permission');
    const impact = { Computed: true, Lost: s.Closes, Gained: s.Opens };
    const names = await instanceNames(impact);
    const aside = s.FlowsSetAside ?? {};
    const setAside = [[aside.NotAMember, 'to instances no longer in the group'], [aside.NoLongerAdmitted, 'that the rules drop today'], [aside.AdmittedElsewhere, 'admitted by another group or inner access']]
      .filter(([n]) => n > 0).map(([n, why]) => `${n} ${why}`);
    const ruleRows = list => list.map(r => h('tr', {},
      h('td', { class: 'num' }, r.Priority), h('td', {}, r.IpProtocol), h('td', {}, portsText(r)), h('td', {}, peerKindOf(r, true) === 'Group' ? nameOf(peerOf(r, true)) : peerOf(r, true))));
    const heads = ['Priority', 'Protocol', 'Ports', 'Source'];
    fill(body,
      h('p', { class: 'sample' }, `${s.ObservedFlowCount} observed connection records in ${s.Days} days, sampled by ${s.HostsSampling} host${s.HostsSampling === 1 ? '' : 's'}`,
        s.SamplingSince ? `, all of them since ${s.SamplingSince}.` : '. Not every host carrying the group samples, so some traffic may be missing: trust the suggestion only as far as that.'),
      h('p', {}, `${s.FlowsKept} are admitted by this group's own rules and kept${setAside.length ? `; set aside: ${setAside.join(', ')}` : ''}.`),
      table(`Replace these inbound accept rules (${replaced.length})`, heads, ruleRows(replaced), { class: 'replaced' }),
      table(`with these (${suggested.length})`, heads, ruleRows(suggested), { class: 'suggested' }),
      h('p', { class: s.LostFlowCount === 0 ? 'kept-all' : 'error' }, s.LostFlowCount === 0
        ? 'Every observed connection is kept: each was decided again under the new rules.'
        : `${s.LostFlowCount} observed connections would be lost.`),
      h('p', {}, 'What the replacement does to who can reach whom:'),
      impactView(impact, names));
    if (s.LostFlowCount !== 0 || (suggested.length === 0 && replaced.length === 0)) {
      onlyCancel();
    } else {
      confirm.textContent = `Replace ${replaced.length} rule${replaced.length === 1 ? '' : 's'} with ${suggested.length}`;
      confirm.disabled = false;
      confirm.focus();
    }
  } catch (e) {
    onlyCancel(errorBox(e));
  }
  if (!(await answer)) return;
  try {
    const suggested = items(s, 'SuggestedPermissions', 'Permission');
    const replaced = items(s, 'ReplacedPermissions', 'Permission');
    // New rules first, in batches of ECS's 100 per call, then the old ones go.
    for (let i = 0; i < suggested.length; i += 100) {
      const Permissions = suggested.slice(i, i + 100).map(permissionParameters);
      await call('AuthorizeSecurityGroup', { SecurityGroupId: groupId, Permissions });
    }
    for (let i = 0; i < replaced.length; i += 100) {
      await call('RevokeSecurityGroup', { SecurityGroupId: groupId, SecurityGroupRuleId: replaced.slice(i, i + 100).map(r => r.SecurityGroupRuleId) });
    }
    announce(`Replaced ${replaced.length} rules with ${suggested.length}.`);
  } catch (e) {
    announce(`The replacement stopped: ${e.message}`);
  }
  await reload();
}

/** The instances in the group, each a link to its page (where its rules are pooled with its other groups'). */
function membersSection(members) {
  return h('section', { 'aria-labelledby': 'members' },
    h('h2', { id: 'members' }, `Members (${members.length})`),
    members.length === 0 ? h('p', { class: 'empty' }, 'No instance is in this group.')
      : sortableTable('Instances in this group', [
        { label: 'Instance', key: i => i.InstanceName || i.InstanceId },
        { label: 'Status', key: i => i.Status },
        { label: 'Private addresses', key: i => items(i.VpcAttributes, 'PrivateIpAddress', 'IpAddress').concat(items(i, 'InnerIpAddress', 'IpAddress')).join(', ') },
        { label: 'Groups', key: i => items(i, 'SecurityGroupIds', 'SecurityGroupId').length },
      ], members, i => h('tr', { dataset: { instance: i.InstanceId } },
        h('td', {}, h('a', { href: `#/instances/${i.InstanceId}` }, i.InstanceName || i.InstanceId), h('br'), h('small', { class: 'id' }, i.InstanceId)),
        h('td', {}, i.Status),
        h('td', {}, items(i.VpcAttributes, 'PrivateIpAddress', 'IpAddress').concat(items(i, 'InnerIpAddress', 'IpAddress')).join(', ')),
        h('td', { class: 'num' }, items(i, 'SecurityGroupIds', 'SecurityGroupId').length))));
}

function settings(group, attributes, { members, referencing, nameOf }, reload) {
  const problem = h('div', { class: 'problem' });
  const basic = group.SecurityGroupType !== 'enterprise';
  const policy = select({ name: 'InnerAccessPolicy' }, ['Accept', 'Drop'], attributes.InnerAccessPolicy);
  const tagKey = h('input', { name: 'TagKey', maxlength: 128 });
  const tagValue = h('input', { name: 'TagValue', maxlength: 128 });
  const act = async (work, done) => {
    try {
      await work();
      announce(done);
      await reload();
    } catch (e) {
      showError(problem, e);
    }
  };
  const tags = items(group, 'Tags', 'Tag');
  return h('section', { class: 'card settings', 'aria-labelledby': 'settings' },
    h('h2', { id: 'settings' }, 'Settings'),
    h('dl', { class: 'facts' },
      h('dt', {}, 'ID'), h('dd', {}, group.SecurityGroupId),
      h('dt', {}, 'Type'), h('dd', {}, basic ? 'basic (normal)' : 'advanced (enterprise)'),
      h('dt', {}, 'Network'), h('dd', {}, group.VpcId || 'classic'),
      h('dt', {}, 'Instances'), h('dd', {}, String(group.EcsCount)),
      h('dt', {}, 'Description'), h('dd', {}, group.Description || '—'),
      h('dt', {}, 'Tags'), h('dd', {}, tags.length === 0 ? '—' : h('ul', { class: 'tags' }, tags.map(t => h('li', {}, tagText(t), ' ',
        h('button', { type: 'button', class: 'link', 'aria-label': `Remove tag ${t.TagKey}`,
          onclick: () => act(() => call('UntagResources', { ResourceType: 'securitygroup', ResourceId: [group.SecurityGroupId], TagKey: [t.TagKey] }), `Removed tag ${t.TagKey}.`) }, '×')))))),
    basic ? h('form', { class: 'inline', onsubmit: async e => {
      e.preventDefault();
      const parameters = { SecurityGroupId: group.SecurityGroupId, InnerAccessPolicy: policy.value };
      if (policy.value === attributes.InnerAccessPolicy) {
        showError(problem, new Error(`The inner access policy is already ${policy.value}.`));
        return;
      }
      if (!(await confirmWithImpact(`Change inner access of ${group.SecurityGroupName || group.SecurityGroupId} to ${policy.value}?`, 'ModifySecurityGroupPolicy', parameters, 'Change policy'))) return;
      act(() => call('ModifySecurityGroupPolicy', parameters), 'Inner access policy changed.');
    } },
      field('Inner access policy', policy, 'Accept: members reach each other whatever the rules say. Drop: only as the rules allow.'),
      h('button', { type: 'submit' }, 'Change policy')) : null,
    h('form', { class: 'inline', onsubmit: e => { e.preventDefault(); act(() => call('TagResources', { ResourceType: 'securitygroup', ResourceId: [group.SecurityGroupId], Tag: [{ Key: tagKey.value, Value: tagValue.value }] }), `Tagged ${tagKey.value}.`); } },
      field('Tag key', tagKey), field('Tag value', tagValue), h('button', { type: 'submit' }, 'Add tag')),
    problem,
    deleteGroup(group, { members, referencing, nameOf }, problem));
}

/**
 * Delete, offered only when ECS would allow it: a group with members or named by another group's
 * rule cannot be deleted, and the button says why instead of failing after a click.
 */
function deleteGroup(group, { members, referencing, nameOf }, problem) {
  const reasons = [
    members.length > 0 ? `${members.length} instance${members.length === 1 ? ' is' : 's are'} still in it (see Members)` : null,
    referencing.length > 0 ? `rules of ${referencing.map(nameOf).join(', ')} name it` : null,
  ].filter(Boolean);
  const reason = reasons.length === 0 ? null : h('small', { id: 'delete-reason', class: 'hint' }, `It cannot be deleted while ${reasons.join(' and ')}.`);
  return h('div', { class: 'actions' },
    h('button', { type: 'button', class: 'danger', disabled: reasons.length > 0, 'aria-describedby': reason ? 'delete-reason' : null, onclick: async () => {
      const parameters = { SecurityGroupId: group.SecurityGroupId };
      if (!(await confirmWithImpact(`Delete ${group.SecurityGroupName || group.SecurityGroupId}?`, 'DeleteSecurityGroup', parameters, 'Delete group'))) return;
      try {
        await call('DeleteSecurityGroup', parameters);
        announce(`Deleted ${group.SecurityGroupId}.`);
        location.hash = '#/groups';
      } catch (e) {
        showError(problem, e);
      }
    } }, 'Delete group…'),
    reason);
}

/**
 * One form adds and edits rules. It does not second-guess the API: what it sends is checked by the
 * server exactly as an SDK call is, and the server's error (code and message) is shown beside it.
 */
function ruleForm(group, groups, prefixLists, reload) {
  const direction = select({ name: 'Direction' }, [['ingress', 'Inbound'], ['egress', 'Outbound']], 'ingress');
  const policy = select({ name: 'Policy' }, [['accept', 'Accept'], ['drop', 'Drop']], 'accept');
  const priority = h('input', { name: 'Priority', type: 'number', min: 1, max: 100, value: 1, inputmode: 'numeric' });
  const protocol = select({ name: 'IpProtocol' }, PROTOCOLS, 'TCP');
  const ports = h('input', { name: 'PortRange', placeholder: '22, 8000-8010 or all', spellcheck: 'false' });
  const peer = h('input', { name: 'Peer', placeholder: '10.0.0.0/8, 2001:db8::/32 or sg-…', spellcheck: 'false' });
  // A group as the peer, picked rather than typed: the groups of the same network (ECS refuses others).
  const peers = groups.filter(g => (g.VpcId || '') === (group.VpcId || ''));
  const peerGroup = select({ name: 'PeerGroup' }, [['', '— or pick a security group —'],
    ...peers.map(g => [g.SecurityGroupId, `${g.SecurityGroupName || g.SecurityGroupId} (${g.SecurityGroupId})${g.SecurityGroupId === group.SecurityGroupId ? ', this group' : ''}`])], '');
  peerGroup.addEventListener('change', () => { if (peerGroup.value) peer.value = peerGroup.value; });
  // A prefix list as the peer, likewise picked: the region's lists (a VPC group's rules only).
  const peerList = select({ name: 'PeerPrefixList' }, [['', '— or pick a prefix list —'],
    ...prefixLists.map(l => [l.PrefixListId, `${l.PrefixListName || l.PrefixListId} (${l.PrefixListId}, ${l.AddressFamily})`])], '');
  const picked = () => {
    const text = peer.value.trim();
    peerGroup.value = peers.some(g => g.SecurityGroupId === text) ? text : '';
    peerList.value = prefixLists.some(l => l.PrefixListId === text) ? text : '';
  };
  peerGroup.addEventListener('change', picked);
  peerList.addEventListener('change', () => { if (peerList.value) peer.value = peerList.value; picked(); });
  peer.addEventListener('input', picked);
  const nic = select({ name: 'NicType' }, ['intranet', 'internet'], 'intranet');
  const description = h('input', { name: 'Description', maxlength: 512 });
  const problem = h('div', { class: 'problem' });
  const title = h('h2', { id: 'rule-form' }, 'Add a rule');
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Add rule');
  const cancel = h('button', { type: 'button', hidden: true }, 'Cancel edit');
  let editing = null;
  protocol.addEventListener('change', () => {
    if (!hasPorts(protocol.value)) ports.value = 'all';
  });
  const reset = () => {
    editing = null;
    title.textContent = 'Add a rule';
    submit.textContent = 'Add rule';
    cancel.hidden = true;
    direction.disabled = false;
  };
  cancel.addEventListener('click', reset);
  const element = h('form', { class: 'card', 'aria-labelledby': 'rule-form', novalidate: true },
    title,
    h('div', { class: 'grid' },
      field('Direction', direction), field('Policy', policy),
      field('Priority', priority, '1 to 100; 1 is applied first, and a drop wins a tie.'),
      field('Protocol', protocol),
      field('Port range', ports, 'One port (22), a range (8000-8010) or all; ICMP, GRE and ALL take all.'),
      field('Source or destination', peer, group.VpcId ? 'An IPv4 or IPv6 block, a security group ID or a prefix list ID.' : 'An IPv4 or IPv6 block, or a security group ID.'),
      field('Security group as peer', peerGroup, 'Fills the source or destination with a group of this network.'),
      group.VpcId ? field('Prefix list as peer', peerList, prefixLists.length === 0 ? 'No prefix list in this region yet (see Prefix lists).' : 'Fills the source or destination with a prefix list: the rule then follows its entries.') : null,
      field('NIC type', nic, 'internet only for classic-network groups.'),
      field('Description', description)),
    problem,
    h('div', { class: 'actions' }, submit, cancel));
  element.addEventListener('submit', async event => {
    event.preventDefault();
    fill(problem);
    const ingress = direction.value === 'ingress';
    const fields = {
      SecurityGroupId: group.SecurityGroupId, Policy: policy.value, Priority: priority.value, IpProtocol: protocol.value,
      PortRange: portRangeParameter(protocol.value, ports.value), NicType: group.VpcId ? undefined : nic.value, Description: description.value,
      ...peerParameters(ingress, peer.value),
    };
    try {
      if (editing) {
        const action = ingress ? 'ModifySecurityGroupRule' : 'ModifySecurityGroupEgressRule';
        const parameters = { ...fields, SecurityGroupRuleId: editing };
        if (!(await confirmWithImpact(`Change rule ${editing}?`, action, parameters, 'Save rule'))) return;
        await call(action, parameters);
        announce(`Changed ${editing}.`);
      } else {
        const { SecurityGroupId, ...permission } = fields;
        await call(ingress ? 'AuthorizeSecurityGroup' : 'AuthorizeSecurityGroupEgress', { SecurityGroupId, Permissions: [permission] });
        announce('Rule added.');
      }
      reset();
      await reload();
    } catch (e) {
      showError(problem, e);
      // Point at the field the error is about, when its code says so.
      const culprit = { PortRange: ports, Priority: priority, Peer: peer, Policy: policy, IpProtocol: protocol }[fieldOfError(e.code)] ?? null;
      for (const control of [ports, priority, peer, policy, protocol]) control.removeAttribute('aria-invalid');
      culprit?.setAttribute('aria-invalid', 'true');
      (culprit ?? submit).focus();
    }
  });
  return {
    element,
    edit(rule) {
      editing = rule.SecurityGroupRuleId;
      const ingress = rule.Direction === 'ingress';
      direction.value = rule.Direction;
      direction.disabled = true;
      policy.value = rule.Policy.toLowerCase();
      priority.value = rule.Priority;
      protocol.value = rule.IpProtocol;
      ports.value = portsNotation(rule.PortRange);
      peer.value = peerOf(rule, ingress) === 'any' ? '' : peerOf(rule, ingress);
      picked();
      nic.value = rule.NicType;
      description.value = rule.Description;
      title.textContent = `Edit rule ${rule.SecurityGroupRuleId}`;
      submit.textContent = 'Save rule';
      cancel.hidden = false;
      element.scrollIntoView({ block: 'start' });
      priority.focus();
    },
    fail: e => showError(problem, e),
  };
}
