// Reachability for real accounts, in two views of the server's DescribeReachability:
//  - the matrix (#/reach): every group × every group, a cell's colour the openness of what some
//    member of the row's group reaches of some other member of the column's group; clustered by
//    VPC (groups of two VPCs never reach each other), sortable, readable at hundreds of groups;
//  - around one group (#/reach/sg-…): a layered picture — who reaches it on the left, the group,
//    what it reaches on the right — laid out by dagre (vendored), which places each edge's label
//    as a node of its own so that no label covers a group; and, for every edge, the instances that
//    make it.
import { h, fill, field, select, table } from './dom.js';
import { call, collect, items, VPC } from './api.js';
import { PROTOCOLS, accessText, hasPorts } from './ecs.js';
import { errorBox, loading } from './ui.js';
import dagre from './vendor/dagre/dagre.esm.js';

/** The filter both views share while the person moves between them. */
const filter = { IpProtocol: '', Port: '' };

/** Openness of an edge, 1 (a few ports) to 4 (all traffic), from its accesses. */
export function openness(accesses) {
  if (accessText(accesses) === 'all traffic') return 4;
  let ports = 0;
  for (const a of accesses) {
    if (!hasPorts(a.IpProtocol)) {
      ports += 1;
      continue;
    }
    for (const range of a.PortRanges?.PortRange ?? []) {
      const [from, to] = range.split('/').map(Number);
      ports += to - from + 1;
    }
  }
  return ports > 1000 ? 3 : ports > 10 ? 2 : 1;
}

const LEVELS = ['', 'a few ports (1–10)', 'some ports (11–1000)', 'many ports (over 1000)', 'all traffic'];

const groupLabel = g => g.SecurityGroupName || g.SecurityGroupId;

function controls(groups, focus, main) {
  const protocol = select({ name: 'IpProtocol' }, [['', 'any protocol'], ...PROTOCOLS], filter.IpProtocol);
  const port = h('input', { name: 'Port', type: 'number', min: 1, max: 65535, value: filter.Port, inputmode: 'numeric', placeholder: 'any' });
  const around = select({ name: 'focus' }, [['', 'every group (matrix)'], ...groups.map(g => [g.SecurityGroupId, `${groupLabel(g)} (${g.SecurityGroupId})`])], focus ?? '');
  return h('form', { class: 'toolbar', onsubmit: e => {
    e.preventDefault();
    filter.IpProtocol = protocol.value;
    filter.Port = port.value;
    const hash = around.value ? `#/reach/${around.value}` : '#/reach';
    if (location.hash === hash) reachPage(main, around.value || null);
    else location.hash = hash;
  } }, field('Protocol', protocol), field('Port', port), field('Around one group', around), h('button', { type: 'submit' }, 'Show'));
}

export async function reachPage(main, focus = null) {
  fill(main, h('h1', {}, 'Reachability'), loading('the reachability picture'));
  let groups, picture, instances = [], vpcs = [];
  try {
    [groups, picture, instances, vpcs] = await Promise.all([
      collect('DescribeSecurityGroups', {}, 'SecurityGroups', 'SecurityGroup'),
      call('DescribeReachability', { IpProtocol: filter.IpProtocol, Port: filter.Port, SecurityGroupId: focus ?? undefined }),
      // Around one group, names for the instances that make each edge.
      focus ? collect('DescribeInstances', {}, 'Instances', 'Instance') : [],
      // The matrix names its VPC clusters.
      focus ? [] : collect('DescribeVpcs', {}, 'Vpcs', 'Vpc', { version: VPC }),
    ]);
  } catch (e) {
    fill(main, h('h1', {}, 'Reachability'), errorBox(e), h('p', {}, h('a', { href: '#/reach' }, 'Every group')));
    return;
  }
  groups.sort((a, b) => groupLabel(a).localeCompare(groupLabel(b)));
  const form = controls(groups, focus, main);
  if (focus) {
    const group = groups.find(g => g.SecurityGroupId === focus);
    fill(main,
      h('p', { class: 'crumbs' }, h('a', { href: '#/reach' }, 'Reachability'), ' / ', groupLabel(group)),
      h('h1', {}, `Reachability around ${groupLabel(group)}`),
      h('p', {}, 'On the left, the groups whose members reach a member of this group; on the right, the groups whose members this group\'s members reach. Each arrow carries the ports; the table under it names the instances that make it.'),
      form, layered(group, groups, picture, instances));
    return;
  }
  fill(main,
    h('h1', {}, 'Reachability'),
    h('p', {}, 'Who reaches whom between your security groups. A cell: some member of the row\'s group reaches some other member of the column\'s group; the darker, the more it reaches. Groups are clustered by VPC. Choose a group\'s name for the picture around it.'),
    form, matrix(groups, picture, vpcs));
}

/** The group × group heat map. */
function matrix(groups, picture, vpcs) {
  const edges = items(picture, 'Edges', 'Edge');
  const cells = new Map(edges.map(e => [`${e.Source}\u0000${e.Target}`, e]));
  const score = (id, asSource) => edges.filter(e => (asSource ? e.Source : e.Target) === id).reduce((n, e) => n + openness(items(e, 'Accesses', 'Access')), 0);
  const orders = {
    name: (a, b) => groupLabel(a).localeCompare(groupLabel(b)),
    reached: (a, b) => score(b.SecurityGroupId, false) - score(a.SecurityGroupId, false) || orders.name(a, b),
    reaching: (a, b) => score(b.SecurityGroupId, true) - score(a.SecurityGroupId, true) || orders.name(a, b),
    members: (a, b) => b.EcsCount - a.EcsCount || orders.name(a, b),
  };
  const sortBy = select({ name: 'order' }, [['name', 'name'], ['reached', 'most reached first'], ['reaching', 'most reaching first'], ['members', 'most members first']], 'name');
  const drawing = h('div', { class: 'matrix-wrap', tabindex: '0', role: 'region', 'aria-label': 'Group matrix (scrolls)' });
  const draw = () => fill(drawing, heatMap(groups, cells, orders[sortBy.value], vpcs));
  sortBy.addEventListener('change', draw);
  draw();
  const rows = edges.map(e => h('tr', {},
    h('td', {}, nameOf(groups, e.Source)), h('td', {}, nameOf(groups, e.Target)), h('td', {}, accessText(items(e, 'Accesses', 'Access')))));
  return [
    h('div', { class: 'toolbar' }, field('Order groups in each VPC by', sortBy),
      h('ul', { class: 'legend', 'aria-label': 'Legend' }, [1, 2, 3, 4].map(level => h('li', {}, h('span', { class: `swatch level-${level}`, 'aria-hidden': 'true' }), LEVELS[level])))),
    drawing,
    edges.length === 0 ? h('p', { class: 'empty' }, 'No flow is allowed between these groups.')
      : h('details', {}, h('summary', {}, `Every allowed flow as a table (${edges.length})`),
        table('Allowed flows', ['From', 'To', 'Protocols and ports'], rows)),
  ];
}

const nameOf = (groups, id) => {
  if (id === 'internet') return 'the internet';
  const g = groups.find(x => x.SecurityGroupId === id);
  return g?.SecurityGroupName ? `${g.SecurityGroupName} (${id})` : id;
};

const CHAR = 6.6;
const MAX_CHARS = 26;
const short = text => (text.length > MAX_CHARS ? `${text.slice(0, MAX_CHARS - 1)}…` : text);

/** Draws the matrix: the internet's row first, then each VPC's groups as one block on the diagonal. */
function heatMap(groups, cells, order, networks) {
  const vpcs = [...new Set(groups.map(g => g.VpcId || ''))].sort();
  const ordered = vpcs.flatMap(v => groups.filter(g => (g.VpcId || '') === v).sort(order));
  const rows = [{ SecurityGroupId: 'internet', SecurityGroupName: 'the internet', internet: true }, ...ordered];
  // Cells as large as the screen allows: a handful of groups reads at a glance, hundreds still fit a label each.
  const CELL = ordered.length <= 12 ? 32 : ordered.length <= 40 ? 22 : 16;
  const labelWidth = Math.ceil(Math.min(MAX_CHARS, Math.max(12, ...rows.map(g => groupLabel(g).length))) * CHAR) + 12;
  const band = 22;
  const left = band + labelWidth;
  const top = band + labelWidth;
  const width = left + ordered.length * CELL + 4;
  const height = top + rows.length * CELL + 4;
  const svg = h('svg:svg', {
    width, height, viewBox: `0 0 ${width} ${height}`, class: 'reach-matrix', role: 'group',
    'aria-label': `Group matrix: ${ordered.length} groups in ${vpcs.length} network${vpcs.length === 1 ? '' : 's'}, the internet as the first row. The table below lists every flow.`,
  });
  const x = i => left + i * CELL;
  const y = i => top + i * CELL;
  // VPC clusters: a tinted block where a VPC's rows meet its columns, and its name along both edges.
  let start = 0;
  for (const v of vpcs) {
    const count = ordered.filter(g => (g.VpcId || '') === v).length;
    const known = networks.find(n => n.VpcId === v);
    const room = Math.floor((count * CELL - 8) / CHAR);
    const full = !v ? 'classic' : known?.VpcName ? `${known.VpcName} (${v})` : v;
    const fitted = full.length <= room ? full : (known?.VpcName && known.VpcName.length <= room ? known.VpcName : `${full.slice(0, Math.max(0, room - 1))}…`);
    svg.append(
      h('svg:rect', { x: x(start), y: y(1 + start), width: count * CELL, height: count * CELL, class: 'cluster' }),
      h('svg:line', { x1: x(start), y1: band, x2: x(start), y2: height, class: 'cluster-edge' }),
      h('svg:line', { x1: 0, y1: y(1 + start), x2: width, y2: y(1 + start), class: 'cluster-edge' }),
      room >= 4 ? h('svg:text', { x: x(start) + 4, y: band - 7, class: 'vpc-label' }, fitted) : null,
      room >= 4 ? h('svg:text', { x: band - 7, y: y(1 + start) + 4, class: 'vpc-label', transform: `rotate(90 ${band - 7} ${y(1 + start) + 4})` }, fitted) : null);
    start += count;
  }
  // Labels: rows on the left, columns on top written upwards, one cell apart so none overlaps another.
  rows.forEach((g, i) => {
    const text = h('svg:text', { x: left - 6, y: y(i) + CELL / 2 + 4, 'text-anchor': 'end', class: `matrix-label row${g.internet ? ' internet' : ''}` }, short(groupLabel(g)));
    // The link's name is its visible text (the group's name); the picture around the group is where it leads.
    svg.append(g.internet ? text : h('svg:a', { href: `#/reach/${g.SecurityGroupId}`, dataset: { group: g.SecurityGroupId } }, text));
  });
  ordered.forEach((g, i) => {
    const cx = x(i) + CELL / 2 + 4, cy = top - 6;
    svg.append(h('svg:text', { x: cx, y: cy, transform: `rotate(-90 ${cx} ${cy})`, class: 'matrix-label column', 'aria-hidden': 'true' }, short(groupLabel(g))));
  });
  // Only reaching cells are drawn: a large account's matrix is mostly empty. Each is a button that
  // names its flow and opens the picture around its column's group; the matrix is one tab stop, the
  // arrow keys move between drawn cells (a roving tabindex).
  const cellLayer = h('svg:g', { class: 'cells', onkeydown: e => keyed(e, drawn) });
  const drawn = [];
  rows.forEach((source, r) => {
    ordered.forEach((target, c) => {
      const edge = cells.get(`${source.SecurityGroupId}\u0000${target.SecurityGroupId}`);
      if (!edge) return;
      const accesses = items(edge, 'Accesses', 'Access');
      const says = `${groupLabel(source)} → ${groupLabel(target)}: ${accessText(accesses)}`;
      const open = () => { location.hash = `#/reach/${target.SecurityGroupId}`; };
      const rect = h('svg:rect', {
        x: x(c) + 1, y: y(r) + 1, width: CELL - 2, height: CELL - 2, class: `cell level-${openness(accesses)}`,
        role: 'button', tabindex: drawn.length === 0 ? '0' : '-1', 'aria-label': says, onclick: open,
        dataset: { source: source.SecurityGroupId, target: target.SecurityGroupId },
      }, h('svg:title', {}, says));
      drawn.push({ r, c, rect, open });
      cellLayer.append(rect);
    });
  });
  svg.append(cellLayer);
  return svg;
}

const ARROWS = { ArrowRight: [0, 1], ArrowLeft: [0, -1], ArrowDown: [1, 0], ArrowUp: [-1, 0] };

/**
 * The matrix's keys: an arrow moves to the nearest drawn cell that way (in the same row or column
 * first), Home and End to the first and last; Enter or Space opens the cell's picture.
 */
function keyed(event, drawn) {
  const at = drawn.findIndex(d => d.rect === event.target);
  if (at < 0) return;
  const here = drawn[at];
  let next = null;
  if (event.key === 'Enter' || event.key === ' ') {
    event.preventDefault();
    here.open();
    return;
  }
  if (event.key === 'Home') next = drawn[0];
  else if (event.key === 'End') next = drawn[drawn.length - 1];
  else if (ARROWS[event.key]) {
    const [dr, dc] = ARROWS[event.key];
    // Ahead: how far along the arrow; aside: how far off its line. The same line wins, then the nearest.
    const ahead = d => (d.r - here.r) * dr + (d.c - here.c) * dc;
    const aside = d => Math.abs(dr !== 0 ? d.c - here.c : d.r - here.r);
    next = drawn.filter(d => ahead(d) > 0).sort((a, b) => aside(a) - aside(b) || ahead(a) - ahead(b))[0] ?? null;
  } else return;
  event.preventDefault();
  if (!next) return;
  here.rect.setAttribute('tabindex', '-1');
  next.rect.setAttribute('tabindex', '0');
  next.rect.focus();
}

const NODE_W = 184;
const NODE_H = 50;

/** The picture around one group: sources, the group, targets, laid out in layers by dagre. */
function layered(group, groups, picture, instances) {
  const focus = group.SecurityGroupId;
  const edges = items(picture, 'Edges', 'Edge');
  const incoming = edges.filter(e => e.Target === focus && e.Source !== focus);
  const outgoing = edges.filter(e => e.Source === focus && e.Target !== focus);
  const inner = edges.find(e => e.Source === focus && e.Target === focus);
  const graph = new dagre.graphlib.Graph({ multigraph: false });
  graph.setGraph({ rankdir: 'LR', nodesep: 24, ranksep: 70, edgesep: 16, marginx: 12, marginy: 12 });
  graph.setDefaultEdgeLabel(() => ({}));
  const node = (key, id, side) => graph.setNode(key, { width: NODE_W, height: NODE_H, id, side });
  node('focus', focus, 'focus');
  const labelOf = e => accessText(items(e, 'Accesses', 'Access'));
  for (const e of incoming) {
    node(`in:${e.Source}`, e.Source, 'in');
    graph.setEdge(`in:${e.Source}`, 'focus', { edge: e, text: short(labelOf(e)), width: Math.min(MAX_CHARS, labelOf(e).length) * CHAR + 8, height: 18, labelpos: 'c' });
  }
  for (const e of outgoing) {
    node(`out:${e.Target}`, e.Target, 'out');
    graph.setEdge('focus', `out:${e.Target}`, { edge: e, text: short(labelOf(e)), width: Math.min(MAX_CHARS, labelOf(e).length) * CHAR + 8, height: 18, labelpos: 'c' });
  }
  // A group with nothing on one side still stands in the middle layer.
  if (incoming.length === 0) graph.setNode('nobody-in', { width: 1, height: 1, id: null, side: 'spacer' }), graph.setEdge('nobody-in', 'focus', { width: 0, height: 0, hidden: true });
  if (outgoing.length === 0) graph.setNode('nobody-out', { width: 1, height: 1, id: null, side: 'spacer' }), graph.setEdge('focus', 'nobody-out', { width: 0, height: 0, hidden: true });
  dagre.layout(graph);
  const { width, height } = graph.graph();
  const svg = h('svg:svg', {
    viewBox: `0 0 ${Math.ceil(width)} ${Math.ceil(height)}`, width: Math.ceil(width), class: 'reach-picture', role: 'group',
    'aria-label': `Around ${groupLabel(group)}: ${incoming.length} reaching it, ${outgoing.length} it reaches. The table below lists them with the instances that make each.`,
  });
  svg.append(h('svg:defs', {}, ['flow', 'internet'].map(kind => h('svg:marker', { id: `arrow-${kind}`, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 8, markerHeight: 8, orient: 'auto-start-reverse' },
    h('svg:path', { d: 'M0,0 L10,5 L0,10 z', class: `arrowhead ${kind}` })))));
  const edgeLayer = h('svg:g', { class: 'edges' });
  const labelLayer = h('svg:g', { class: 'labels' });
  for (const key of graph.edges()) {
    const e = graph.edge(key);
    if (e.hidden) continue;
    const kind = e.edge.Source === 'internet' ? 'internet' : 'flow';
    const points = e.points;
    edgeLayer.append(h('svg:path', { d: points.map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' '), class: `edge ${kind}`, 'marker-end': `url(#arrow-${kind})` }));
    labelLayer.append(h('svg:g', { class: 'edge-label-box' },
      h('svg:rect', { x: e.x - e.width / 2, y: e.y - e.height / 2, width: e.width, height: e.height, rx: 4, class: 'label-ground' }),
      h('svg:text', { x: e.x, y: e.y + 4, 'text-anchor': 'middle', class: `edge-label ${kind}` }, e.text),
      h('svg:title', {}, `${nameOf(groups, e.edge.Source)} → ${nameOf(groups, e.edge.Target)}: ${labelOf(e.edge)}`)));
  }
  const nodeLayer = h('svg:g', { class: 'nodes' });
  for (const key of graph.nodes()) {
    const n = graph.node(key);
    if (n.side === 'spacer') continue;
    const g = groups.find(x => x.SecurityGroupId === n.id);
    const internet = n.id === 'internet';
    const title = internet ? 'the internet' : short(g ? groupLabel(g) : n.id);
    const detail = internet ? 'any public address' : n.side === 'focus' && inner ? `members reach each other` : `${g?.EcsCount ?? 0} instance${g?.EcsCount === 1 ? '' : 's'}`;
    const box = [
      h('svg:rect', { x: n.x - NODE_W / 2, y: n.y - NODE_H / 2, width: NODE_W, height: NODE_H, rx: 10, class: `node ${internet ? 'internet' : 'group'}${n.side === 'focus' ? ' focus' : ''}` }),
      h('svg:text', { x: n.x, y: n.y - 5, 'text-anchor': 'middle', class: 'node-name' }, title),
      h('svg:text', { x: n.x, y: n.y + 14, 'text-anchor': 'middle', class: 'node-detail' }, short(detail)),
    ];
    nodeLayer.append(internet || n.side === 'focus' ? h('svg:g', { class: 'node-box', dataset: { side: n.side } }, box)
      : h('svg:a', { href: `#/reach/${n.id}`, class: 'node-box', dataset: { side: n.side } }, box));
  }
  svg.append(edgeLayer, nodeLayer, labelLayer);

  const instanceName = id => { const i = instances.find(x => x.InstanceId === id); return i?.InstanceName ? `${i.InstanceName} (${id})` : id; };
  const groupsOf = id => items(instances.find(x => x.InstanceId === id), 'SecurityGroupIds', 'SecurityGroupId');
  // Which instances make an edge; an instance in both groups is named as such, for it alone can make an edge.
  const madeBy = e => {
    const pairs = items(e, 'Pairs', 'Pair');
    // The instance's other groups: their rules and inner access travel with it, and often are the reason.
    const also = (id, own) => {
      const others = groupsOf(id).filter(g => g !== own).map(g => groupLabel(groups.find(x => x.SecurityGroupId === g) ?? { SecurityGroupId: g }));
      return others.length === 0 ? '' : ` (also in ${others.join(', ')})`;
    };
    return h('td', {}, h('ul', { class: 'plain pairs' }, pairs.map(p => h('li', {},
      p.SourceInstanceId ? `${instanceName(p.SourceInstanceId)}${also(p.SourceInstanceId, e.Source)}` : 'an internet address',
      ' → ', `${instanceName(p.TargetInstanceId)}${also(p.TargetInstanceId, e.Target)}`)),
      e.PairCount > pairs.length ? h('li', {}, `and ${e.PairCount - pairs.length} more pairs`) : null));
  };
  const rows = [...incoming, ...(inner ? [inner] : []), ...outgoing];
  return [
    h('figure', { class: 'picture' }, svg),
    rows.length === 0 ? h('p', { class: 'empty' }, 'Nothing reaches this group and it reaches nothing.')
      : table(`Flows into and out of ${groupLabel(group)}, and the instances that make them`, ['From', 'To', 'Protocols and ports', 'Made by'],
        rows.map(e => h('tr', { dataset: { source: e.Source, target: e.Target } },
          h('td', {}, nameOf(groups, e.Source)), h('td', {}, nameOf(groups, e.Target)), h('td', {}, labelOf(e)), madeBy(e))),
        { class: 'edge-table' }),
  ];
}
