// Prefix lists: the region's lists, and one list's page with its entries, the rules that name it
// and the forms that change them. An entry edit changes every decision that names the list, so
// removing or adding one shows its what-if first, as removing a rule does.
import { h, fill, field, select } from './dom.js';
import { EcsError, call, collect, items } from './api.js';
import { peerOf, portsText } from './ecs.js';
import { showError, announce, confirmWithImpact, sortableTable, page } from './ui.js';

export async function prefixListsPage(main) {
  const lists = await page(main, 'Prefix lists', 'prefix lists', () => collect('DescribePrefixLists', {}, 'PrefixLists', 'PrefixList'));
  if (!lists) return;
  fill(main,
    h('h1', {}, 'Prefix lists'),
    h('p', {}, 'A prefix list is a named set of address blocks a rule can name as its source or destination; editing its entries changes every rule that names it.'),
    lists.length === 0 ? h('p', { class: 'empty' }, 'No prefix list in this region yet.')
      : sortableTable('Prefix lists', [
        { label: 'Name', key: l => l.PrefixListName || l.PrefixListId },
        { label: 'Family', key: l => l.AddressFamily },
        { label: 'Entries (max)', key: l => l.MaxEntries },
        { label: 'Used by groups', key: l => l.AssociationCount },
        { label: 'Description', key: l => l.Description },
      ], lists, l => h('tr', { dataset: { prefixList: l.PrefixListId } },
        h('td', {}, h('a', { href: `#/prefix-lists/${l.PrefixListId}` }, l.PrefixListName || l.PrefixListId), h('br'), h('small', { class: 'id' }, l.PrefixListId)),
        h('td', {}, l.AddressFamily),
        h('td', { class: 'num' }, l.MaxEntries),
        h('td', { class: 'num' }, l.AssociationCount),
        h('td', {}, l.Description))),
    createForm());
}

/** "10.0.0.0/8 office" per line: the entries as a person writes them. */
function parseEntries(text) {
  return text.split('\n').map(line => line.trim()).filter(Boolean).map(line => {
    const [cidr, ...description] = line.split(/\s+/);
    return { Cidr: cidr, Description: description.join(' ') };
  });
}

function createForm() {
  const name = h('input', { name: 'PrefixListName', maxlength: 128 });
  const family = select({ name: 'AddressFamily' }, ['IPv4', 'IPv6'], 'IPv4');
  const maxEntries = h('input', { name: 'MaxEntries', type: 'number', min: 1, max: 200, value: 10, inputmode: 'numeric' });
  const entries = h('textarea', { name: 'Entries', rows: 4, spellcheck: 'false', placeholder: '10.10.0.0/16 hangzhou office' });
  const description = h('input', { name: 'Description', maxlength: 256 });
  const problem = h('div', { class: 'problem' });
  const form = h('form', { class: 'card', 'aria-labelledby': 'create-prefix-list' },
    h('h2', { id: 'create-prefix-list' }, 'Create a prefix list'),
    h('div', { class: 'grid' },
      field('Name', name, '2–128 characters, starting with a letter.'),
      field('Address family', family),
      field('Maximum entries', maxEntries, '1 to 200. Each rule naming the list counts this many against its group\'s rule quota.'),
      field('Description', description),
      field('Entries', entries, 'One block per line, optionally followed by a description.')),
    problem,
    h('button', { type: 'submit', class: 'primary' }, 'Create prefix list'));
  form.addEventListener('submit', async event => {
    event.preventDefault();
    try {
      const created = await call('CreatePrefixList', {
        PrefixListName: name.value, AddressFamily: family.value, MaxEntries: maxEntries.value, Description: description.value, Entry: parseEntries(entries.value),
      });
      announce(`Created ${created.PrefixListId}.`);
      location.hash = `#/prefix-lists/${created.PrefixListId}`;
    } catch (e) {
      showError(problem, e);
    }
  });
  return form;
}

/** The rules of `groups` that name the list, with the group they belong to and their direction. */
async function rulesNaming(listId, groups) {
  const answers = await Promise.all(groups.map(async g => ({
    group: g,
    rules: await collect('DescribeSecurityGroupAttribute', { SecurityGroupId: g.ResourceId, Direction: 'all' }, 'Permissions', 'Permission'),
  })));
  return answers.flatMap(({ group, rules }) => rules
    .filter(r => r.SourcePrefixListId === listId || r.DestPrefixListId === listId)
    .map(r => ({ ...r, SecurityGroupId: group.ResourceId })));
}

export async function prefixListPage(main, listId) {
  const loaded = await page(main, listId, 'the prefix list', async () => {
    const list = items(await call('DescribePrefixLists', { PrefixListId: [listId] }), 'PrefixLists', 'PrefixList')[0];
    if (!list) throw new EcsError(404, 'InvalidPrefixListId.NotFound', `The prefix list ${listId} does not exist in this region.`, '', null);
    const [attributes, associations, groups] = await Promise.all([
      call('DescribePrefixListAttributes', { PrefixListId: listId }),
      collect('DescribePrefixListAssociations', { PrefixListId: listId }, 'PrefixListAssociations', 'PrefixListAssociation'),
      collect('DescribeSecurityGroups', {}, 'SecurityGroups', 'SecurityGroup'),
    ]);
    return { list, entries: items(attributes, 'Entries', 'Entry'), rules: await rulesNaming(listId, associations), groups };
  }, [h('p', {}, h('a', { href: '#/prefix-lists' }, 'All prefix lists'))]);
  if (!loaded) return;
  const { list, entries, rules, groups } = loaded;
  const reload = () => prefixListPage(main, listId);
  const title = list.PrefixListName || listId;
  const problem = h('div', { class: 'problem' });
  const groupName = id => groups.find(g => g.SecurityGroupId === id)?.SecurityGroupName || id;

  // Every entry edit is a ModifyPrefixList; its what-if comes first, as for any change that can cut or open flows.
  const modify = async (question, parameters, label, done) => {
    const request = { PrefixListId: listId, ...parameters };
    if (!(await confirmWithImpact(question, 'ModifyPrefixList', request, label))) return;
    try {
      await call('ModifyPrefixList', request);
      announce(done);
      await reload();
    } catch (e) {
      showError(problem, e);
    }
  };
  const cidr = h('input', { name: 'Cidr', spellcheck: 'false', placeholder: list.AddressFamily === 'IPv6' ? '2001:db8::/32' : '10.30.0.0/16' });
  const entryDescription = h('input', { name: 'EntryDescription', maxlength: 32 });
  const addEntry = h('form', { class: 'inline', onsubmit: event => {
    event.preventDefault();
    modify(`Add ${cidr.value.trim()} to ${title}?`, { AddEntry: [{ Cidr: cidr.value.trim(), Description: entryDescription.value }] }, 'Add entry', `Added ${cidr.value.trim()}.`);
  } }, field('Block', cidr), field('Entry description', entryDescription), h('button', { type: 'submit' }, 'Add entry…'));

  fill(main,
    h('p', { class: 'crumbs' }, h('a', { href: '#/prefix-lists' }, 'Prefix lists'), ' / ', listId),
    h('h1', {}, title),
    h('section', { class: 'card', 'aria-labelledby': 'list-facts' },
      h('h2', { id: 'list-facts' }, 'Settings'),
      h('dl', { class: 'facts' },
        h('dt', {}, 'ID'), h('dd', {}, listId),
        h('dt', {}, 'Address family'), h('dd', {}, list.AddressFamily),
        h('dt', {}, 'Entries'), h('dd', {}, `${entries.length} of at most ${list.MaxEntries}`),
        h('dt', {}, 'Description'), h('dd', {}, list.Description || '—'))),
    h('section', { 'aria-labelledby': 'entries' },
      h('h2', { id: 'entries' }, `Entries (${entries.length})`),
      entries.length === 0 ? h('p', { class: 'empty' }, 'No entry: a rule naming this list matches nothing.')
        : sortableTable('Entries of this prefix list', [
          { label: 'Block', key: e => e.Cidr },
          { label: 'Description', key: e => e.Description },
          { label: 'Actions' },
        ], entries, e => h('tr', { dataset: { entry: e.Cidr } },
          h('td', {}, h('code', {}, e.Cidr)),
          h('td', {}, e.Description),
          h('td', { class: 'row-actions' }, h('button', { type: 'button', class: 'danger', 'aria-label': `Remove entry ${e.Cidr}`,
            onclick: () => modify(`Remove ${e.Cidr} from ${title}?`, { RemoveEntry: [{ Cidr: e.Cidr }] }, 'Remove entry', `Removed ${e.Cidr}.`) }, 'Remove')))),
      addEntry,
      problem),
    h('section', { 'aria-labelledby': 'naming-rules' },
      h('h2', { id: 'naming-rules' }, `Rules that name it (${rules.length})`),
      rules.length === 0 ? h('p', { class: 'empty' }, 'No rule names this list; it can be deleted.')
        : sortableTable('Rules that name this prefix list', [
          { label: 'Group', key: r => groupName(r.SecurityGroupId) },
          { label: 'Direction', key: r => r.Direction },
          { label: 'Priority', key: r => r.Priority },
          { label: 'Policy', key: r => r.Policy },
          { label: 'Protocol', key: r => r.IpProtocol },
          { label: 'Ports', key: r => portsText(r) },
          { label: 'Description', key: r => r.Description },
        ], rules, r => h('tr', { dataset: { rule: r.SecurityGroupRuleId } },
          h('td', {}, h('a', { href: `#/groups/${r.SecurityGroupId}` }, groupName(r.SecurityGroupId)), h('br'), h('small', { class: 'id' }, r.SecurityGroupId)),
          h('td', {}, r.Direction === 'ingress' ? `inbound from ${peerOf(r, true) === listId ? 'the list' : peerOf(r, true)}` : `outbound to ${peerOf(r, false) === listId ? 'the list' : peerOf(r, false)}`),
          h('td', { class: 'num' }, r.Priority),
          h('td', {}, h('span', { class: `policy ${r.Policy.toLowerCase()}` }, r.Policy)),
          h('td', {}, r.IpProtocol),
          h('td', {}, portsText(r)),
          h('td', {}, r.Description)))),
    deleteList(list, rules, problem));
}

/** Delete, offered only when ECS would allow it: a list a rule names cannot be deleted. */
function deleteList(list, rules, problem) {
  const reason = rules.length === 0 ? null : h('small', { id: 'delete-reason', class: 'hint' }, `It cannot be deleted while ${rules.length} rule${rules.length === 1 ? ' names' : 's name'} it.`);
  return h('div', { class: 'actions' },
    h('button', { type: 'button', class: 'danger', disabled: rules.length > 0, 'aria-describedby': reason ? 'delete-reason' : null, onclick: async () => {
      try {
        await call('DeletePrefixList', { PrefixListId: list.PrefixListId });
        announce(`Deleted ${list.PrefixListId}.`);
        location.hash = '#/prefix-lists';
      } catch (e) {
        showError(problem, e);
      }
    } }, 'Delete prefix list'),
    reason);
}
