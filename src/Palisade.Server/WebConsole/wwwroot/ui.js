// What every page shares: errors shown as the API gave them, the status line, the what-if dialog.
import { h, fill, table } from './dom.js';
import { EcsError, call, items } from './api.js';
import { accessText } from './ecs.js';

/** An API error as one alert: the ECS code, its message and the RequestId to quote. */
export function errorBox(error) {
  if (error instanceof EcsError) {
    return h('div', { class: 'error', role: 'alert' },
      h('strong', { class: 'code' }, error.code), ' ', error.ecsMessage,
      error.requestId ? h('small', { class: 'request-id' }, ` RequestId ${error.requestId}`) : null);
  }
  return h('div', { class: 'error', role: 'alert' }, String(error?.message ?? error));
}

/** Shows `error` in `slot` (or clears it). */
export function showError(slot, error) {
  fill(slot, error ? errorBox(error) : null);
}

/** The polite live region: "Rule added.", "Loading…" */
export function announce(text) {
  const status = document.getElementById('status');
  if (status) status.textContent = text;
}

export function loading(what) {
  return h('p', { class: 'loading', role: 'status' }, `Loading ${what}…`);
}

/**
 * Gained and lost flows of an Impact, as two tables a person can read before confirming: one row
 * per source and target, with every protocol and port range between them. `nameOf` turns an
 * instance ID into "name (ID)" where the page knows the name.
 */
export function impactView(impact, nameOf = id => id) {
  if (!impact?.Computed) {
    return h('p', { class: 'impact-unknown' }, `The effect could not be computed: ${impact?.Reason ?? 'no answer'}.`);
  }
  const flows = (list, verb) => {
    const pairs = new Map();
    for (const flow of items(impact, list, 'Flow')) {
      const key = `${flow.Source}\u0000${flow.Target}`;
      if (!pairs.has(key)) pairs.set(key, []);
      pairs.get(key).push(flow);
    }
    if (pairs.size === 0) return h('p', { class: `impact-${verb}` }, verb === 'lost' ? 'No connection is lost.' : 'No connection is opened.');
    return table(verb === 'lost' ? `Connections lost (${pairs.size})` : `Connections opened (${pairs.size})`,
      ['From', 'To', 'Protocols and ports'],
      [...pairs.values()].map(flows => h('tr', { class: `flow-${verb}` },
        h('td', {}, nameOf(flows[0].Source)), h('td', {}, nameOf(flows[0].Target)), h('td', {}, accessText(flows)))),
      { class: `impact impact-${verb}` });
  };
  return h('div', { class: 'impact-view' }, flows('Lost', 'lost'), flows('Gained', 'gained'));
}

/** "name (ID)" for the instances an Impact names, asked of DescribeInstances 100 at a time; the bare ID where it has no name. */
export async function instanceNames(impact) {
  const ids = [...new Set(['Lost', 'Gained'].flatMap(list => items(impact, list, 'Flow')).flatMap(f => [f.Source, f.Target]).filter(id => /^i-/.test(id ?? '')))];
  const names = new Map();
  try {
    for (let i = 0; i < ids.length; i += 100) {
      const found = items(await call('DescribeInstances', { InstanceIds: JSON.stringify(ids.slice(i, i + 100)), MaxResults: 100 }), 'Instances', 'Instance');
      for (const instance of found) if (instance.InstanceName) names.set(instance.InstanceId, `${instance.InstanceName} (${instance.InstanceId})`);
    }
  } catch {
    // Names are a help: the impact reads with IDs alone.
  }
  return id => names.get(id) ?? id;
}

/**
 * Asks DescribeChangeImpact what `changeAction` with `parameters` would do, shows it in a modal
 * dialog, and resolves true when the person confirms. The change's own errors (the last group of an
 * instance, say) show in the dialog, and then only Cancel is offered.
 */
export async function confirmWithImpact(title, changeAction, parameters, confirmLabel, nameOf) {
  const body = h('div', { class: 'dialog-body' }, loading('what this change would do'));
  const { confirm, answer, onlyCancel } = modal(title, body, confirmLabel, 'whatif');
  confirm.disabled = true;
  try {
    const result = await call('DescribeChangeImpact', { ChangeAction: changeAction, ...parameters });
    const names = nameOf ?? await instanceNames(result.Impact);
    fill(body, h('p', {}, 'Before you confirm, this is what the change would do to who can reach whom:'), impactView(result.Impact, names));
    confirm.disabled = false;
    confirm.focus();
  } catch (e) {
    onlyCancel(errorBox(e));
  }
  return answer;
}

/**
 * The modal every confirmation is: a title, a body, a confirm and a Cancel button. `answer`
 * resolves true on confirm and false on Cancel or Escape, and the dialog is gone by then;
 * `onlyCancel(...content)` shows why there is nothing to confirm and leaves only Cancel.
 */
export function modal(title, body, confirmLabel, className) {
  const confirm = h('button', { type: 'button', class: 'danger' }, confirmLabel);
  const cancel = h('button', { type: 'button' }, 'Cancel');
  const dialog = h('dialog', { 'aria-labelledby': 'dialog-title', class: className }, h('h2', { id: 'dialog-title' }, title), body, h('div', { class: 'actions' }, confirm, cancel));
  document.body.append(dialog);
  dialog.showModal();
  const answer = new Promise(resolve => {
    confirm.addEventListener('click', () => { dialog.close(); resolve(true); });
    cancel.addEventListener('click', () => { dialog.close(); resolve(false); });
    dialog.addEventListener('cancel', () => resolve(false));
  }).then(confirmed => { dialog.remove(); return confirmed; });
  // When there is nothing to confirm (an error, or nothing to do): the body says why, only Cancel stays.
  const onlyCancel = (...content) => {
    if (content.length) fill(body, ...content);
    confirm.remove();
    cancel.focus();
  };
  return { confirm, cancel, answer, onlyCancel };
}

/**
 * The scaffold every page starts with: its title and a loading line while `load` runs, then the
 * title and the error if it fails. Resolves to what `load` gave, or null after showing the error.
 */
export async function page(main, title, what, load, after = []) {
  fill(main, h('h1', {}, title), loading(what));
  try {
    return await load();
  } catch (e) {
    fill(main, h('h1', {}, title), errorBox(e), ...after);
    return null;
  }
}

/** Column headers that sort a table's rows; aria-sort tells screen readers which way. */
export function sortableTable(caption, columns, rows, renderRow, initial) {
  let sortBy = initial ?? 0;
  let ascending = true;
  const tbody = h('tbody');
  const heads = columns.map((column, index) => {
    const button = h('button', { type: 'button', class: 'sort', onclick: () => { ascending = sortBy === index ? !ascending : true; sortBy = index; render(); } }, column.label);
    return h('th', { scope: 'col' }, column.key ? button : column.label);
  });
  function render() {
    const column = columns[sortBy];
    const sorted = [...rows].sort((a, b) => {
      const x = column.key(a), y = column.key(b);
      const order = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
      return ascending ? order : -order;
    });
    heads.forEach((th, i) => th.setAttribute('aria-sort', i === sortBy ? (ascending ? 'ascending' : 'descending') : 'none'));
    fill(tbody, sorted.map(renderRow));
    // On a narrow screen each row stacks its cells, each under its column's name.
    for (const tr of tbody.rows) [...tr.cells].forEach((td, i) => td.setAttribute('data-label', columns[i]?.label ?? ''));
  }
  render();
  return h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': caption },
    h('table', { class: 'stacking' }, h('caption', {}, caption), h('thead', {}, h('tr', {}, heads)), tbody));
}
