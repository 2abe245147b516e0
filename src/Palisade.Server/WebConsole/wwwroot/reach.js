// The reachability picture: groups as nodes, allowed flows as arrows with their ports. An arrow from
// A to B says some member of A reaches some other member of B (after both ends' groups, priorities
// and drops); from the internet, that some member of B can be reached from an internet address.
// The same edges follow as a table, for screen readers and for copying.
import { h, fill, field, select, table } from './dom.js';
import { call, collect, items } from './api.js';
import { PROTOCOLS } from './ecs.js';
import { errorBox, loading } from './ui.js';

const NODE_W = 168;

/** "TCP 1-65535; UDP 1-65535; ICMP; ICMPv6; GRE; ALL" reads as "all traffic"; a full port range as "all ports". */
export function shortLabel(label) {
  if (label === 'TCP 1-65535; UDP 1-65535; ICMP; ICMPv6; GRE; ALL') return 'all traffic';
  return label.replace(/\b(TCP|UDP) 1-65535\b/g, '$1 all ports');
}
const NODE_H = 48;

/** Above this many groups the whole picture is too dense to read: the page asks for one group to draw around. */
export const WHOLE_PICTURE_LIMIT = 40;

export async function reachPage(main, filter = { IpProtocol: '', Port: '', focus: '' }) {
  fill(main, h('h1', {}, 'Reachability'), loading('the reachability picture'));
  const protocol = select({ name: 'IpProtocol' }, [['', 'any protocol'], ...PROTOCOLS], filter.IpProtocol);
  const port = h('input', { name: 'Port', type: 'number', min: 1, max: 65535, value: filter.Port, inputmode: 'numeric', placeholder: 'any' });
  const focus = h('select', { name: 'focus' });
  const form = h('form', { class: 'toolbar', onsubmit: e => { e.preventDefault(); reachPage(main, { IpProtocol: protocol.value, Port: port.value, focus: focus.value }); } },
    field('Protocol', protocol), field('Port', port), field('Around one group', focus), h('button', { type: 'submit' }, 'Show'));
  const intro = h('p', {}, 'Who can reach whom between your security groups. An arrow from A to B: some instance of A reaches another instance of B on the ports shown. Red arrows come from the internet.');
  let groups;
  try {
    groups = await collect('DescribeSecurityGroups', {}, 'SecurityGroups', 'SecurityGroup');
  } catch (e) {
    fill(main, h('h1', {}, 'Reachability'), form, errorBox(e));
    return;
  }
  fill(focus, h('option', { value: '' }, 'every group'),
    groups.map(g => h('option', { value: g.SecurityGroupId, selected: g.SecurityGroupId === filter.focus }, `${g.SecurityGroupName || g.SecurityGroupId} (${g.SecurityGroupId})`)));
  if (!filter.focus && groups.length > WHOLE_PICTURE_LIMIT) {
    fill(main, h('h1', {}, 'Reachability'), intro, form,
      h('p', { class: 'notice', role: 'status' }, `This region has ${groups.length} security groups, too many to draw at once: choose one to see the flows into and out of it.`));
    return;
  }
  let picture;
  try {
    // Around one group the server computes only that group's edges.
    picture = await call('DescribeReachability', { IpProtocol: filter.IpProtocol, Port: filter.Port, SecurityGroupId: filter.focus });
  } catch (e) {
    fill(main, h('h1', {}, 'Reachability'), intro, form, errorBox(e));
    return;
  }
  const allNodes = items(picture, 'Nodes', 'Node');
  const edges = items(picture, 'Edges', 'Edge');
  const shown = new Set(filter.focus ? [filter.focus, ...edges.flatMap(e => [e.Source, e.Target])] : allNodes.map(n => n.Id));
  const nodes = allNodes.filter(n => shown.has(n.Id));
  const name = id => { const n = allNodes.find(x => x.Id === id); return n?.Kind === 'group' && n.Name ? `${n.Name} (${id})` : (n?.Name ?? id); };
  fill(main,
    h('h1', {}, 'Reachability'),
    intro,
    form,
    drawing(nodes, edges),
    edges.length === 0 ? h('p', { class: 'empty' }, 'No flow is allowed between these groups.')
      : table('Allowed flows', ['From', 'To', 'Protocols and ports'], edges.map(e => h('tr', {}, h('td', {}, name(e.Source)), h('td', {}, name(e.Target)), h('td', {}, shortLabel(e.Label))))));
}

/** Nodes on a circle, the internet first at the top; arrows curve so that A→B and B→A do not overlap. */
function drawing(nodes, edges) {
  const count = nodes.length;
  // An ellipse wider than tall: labels are wide, and screens are too.
  const radius = Math.max(190, (count * (NODE_W + 40)) / (2 * Math.PI));
  const rx = radius * 1.5, ry = radius;
  const width = 2 * rx + NODE_W + 220;
  const height = 2 * ry + NODE_H + 200;
  const cx = width / 2, cy = height / 2;
  const at = new Map(nodes.map((n, i) => {
    const angle = -Math.PI / 2 + (2 * Math.PI * i) / count;
    return [n.Id, { x: cx + rx * Math.cos(angle), y: cy + ry * Math.sin(angle) }];
  }));
  const svg = h('svg:svg', {
    // A group, not an image: each group's node is a link to its page.
    viewBox: `0 0 ${Math.round(width)} ${Math.round(height)}`, class: 'reach-picture', role: 'group',
    'aria-label': `Reachability picture: ${plural(nodes.filter(n => n.Kind === 'group').length, 'group')}${nodes.some(n => n.Kind === 'internet') ? ' and the internet' : ''}, ${plural(edges.length, 'allowed flow')}. The table below lists them.`,
  });
  svg.append(h('svg:defs', {},
    ['flow', 'internet'].map(kind => h('svg:marker', { id: `arrow-${kind}`, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 8, markerHeight: 8, orient: 'auto-start-reverse' },
      h('svg:path', { d: 'M0,0 L10,5 L0,10 z', class: `arrowhead ${kind}` })))));
  const edgeLayer = h('svg:g', { class: 'edges' });
  const labelLayer = h('svg:g', { class: 'labels' });
  for (const edge of edges) {
    const from = at.get(edge.Source), to = at.get(edge.Target);
    if (!from || !to) continue;
    const kind = edge.Source === 'internet' ? 'internet' : 'flow';
    let d, lx, ly;
    if (edge.Source === edge.Target) {
      // Members reaching each other: a loop on the node's outer side.
      const ox = from.x - cx, oy = from.y - cy, len = Math.hypot(ox, oy) || 1;
      const ux = ox / len, uy = oy / len;
      const toward = (dx, dy) => clip(from, { x: from.x + dx * 1000, y: from.y + dy * 1000 });
      const s = toward(ux - 0.45 * uy, uy + 0.45 * ux), e = toward(ux + 0.45 * uy, uy - 0.45 * ux);
      const c = 70;
      d = `M${s.x},${s.y} C${s.x + ux * c},${s.y + uy * c} ${e.x + ux * c},${e.y + uy * c} ${e.x},${e.y}`;
      const edge = toward(ux, uy);
      lx = edge.x + ux * (c + 10);
      ly = edge.y + uy * (c + 10);
    } else {
      const a = clip(from, to), b = clip(to, from);
      const mx = (a.x + b.x) / 2, my = (a.y + b.y) / 2;
      const dx = b.x - a.x, dy = b.y - a.y, len = Math.hypot(dx, dy) || 1;
      const bend = Math.min(60, len / 5);
      const qx = mx - (dy / len) * bend, qy = my + (dx / len) * bend;
      d = `M${a.x},${a.y} Q${qx},${qy} ${b.x},${b.y}`;
      lx = (a.x + 2 * qx + b.x) / 4;
      ly = (a.y + 2 * qy + b.y) / 4;
    }
    edgeLayer.append(h('svg:path', { d, class: `edge ${kind}`, 'marker-end': `url(#arrow-${kind})` },
      h('svg:title', {}, `${edge.Source} → ${edge.Target}: ${edge.Label}`)));
    const short = shortLabel(edge.Label);
    const text = short.length > 34 ? short.slice(0, 33) + '…' : short;
    labelLayer.append(h('svg:text', { x: lx, y: ly, class: `edge-label ${kind}`, 'text-anchor': 'middle', 'dominant-baseline': 'middle' }, text));
  }
  const nodeLayer = h('svg:g', { class: 'nodes' });
  for (const node of nodes) {
    const { x, y } = at.get(node.Id);
    const title = node.Kind === 'internet' ? 'Internet' : (node.Name || node.Id);
    const link = node.Kind === 'group' ? h('svg:a', { href: `#/groups/${node.Id}` }) : h('svg:g');
    link.append(
      h('svg:rect', { x: x - NODE_W / 2, y: y - NODE_H / 2, width: NODE_W, height: NODE_H, rx: 10, class: `node ${node.Kind}` }),
      h('svg:text', { x, y: y - 6, 'text-anchor': 'middle', class: 'node-name' }, title.length > 22 ? title.slice(0, 21) + '…' : title),
      h('svg:text', { x, y: y + 13, 'text-anchor': 'middle', class: 'node-detail' },
        node.Kind === 'internet' ? 'any public address' : `${node.Id.slice(0, 14)} · ${node.InstanceCount} inst.`),
      h('svg:title', {}, node.Kind === 'internet' ? 'The internet' : `${node.Name} (${node.Id}), ${node.InstanceCount} instances${node.VpcId ? `, ${node.VpcId}` : ''}`));
    nodeLayer.append(link);
  }
  svg.append(edgeLayer, nodeLayer, labelLayer);
  return h('figure', { class: 'picture' }, svg);
}

const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Where the line from the centre of `from` towards `to` leaves `from`'s box. */
function clip(from, to) {
  const dx = to.x - from.x, dy = to.y - from.y;
  const scale = Math.min(Math.abs((NODE_W / 2 + 4) / (dx || 1e-9)), Math.abs((NODE_H / 2 + 4) / (dy || 1e-9)));
  return { x: from.x + dx * scale, y: from.y + dy * scale };
}
