// "Explain this flow": one flow, one decision, and why — the rule that decided at each end and the
// matching rules it beat (ExplainFlow, the same engine that enforces).
import { h, fill, field, select } from './dom.js';
import { call, collect, items } from './api.js';
import { PROTOCOLS, hasPorts } from './ecs.js';
import { showError } from './ui.js';

export async function explainPage(main) {
  let instances = [];
  try {
    instances = await collect('DescribeInstances', {}, 'Instances', 'Instance');
  } catch {
    // The form works with addresses alone; the list only helps to fill it.
  }
  const source = h('input', { name: 'Source', list: 'flow-ends', required: true, spellcheck: 'false', placeholder: 'i-… or 203.0.113.7' });
  const destination = h('input', { name: 'Destination', list: 'flow-ends', required: true, spellcheck: 'false', placeholder: 'i-… or 192.168.1.10' });
  const protocol = select({ name: 'IpProtocol' }, PROTOCOLS, 'TCP');
  const port = h('input', { name: 'DestinationPort', type: 'number', min: 1, max: 65535, value: 22, inputmode: 'numeric' });
  const nic = select({ name: 'NicType' }, ['intranet', 'internet'], 'intranet');
  const problem = h('div', { class: 'problem' });
  const answer = h('div', { class: 'answer', 'aria-live': 'polite' });
  protocol.addEventListener('change', () => { port.disabled = !hasPorts(protocol.value); });
  const form = h('form', { class: 'card', 'aria-labelledby': 'explain-title' },
    h('p', {}, 'Ask how ECS would decide a flow between two instances, or between an instance and any address.'),
    h('div', { class: 'grid' },
      field('Source', source, 'An instance ID of this region or an IP address.'),
      field('Destination', destination, 'An instance ID of this region or an IP address.'),
      field('Protocol', protocol), field('Destination port', port), field('NIC type', nic, 'internet: the public NIC of a classic-network instance.')),
    h('datalist', { id: 'flow-ends' }, instances.map(i => h('option', { value: i.InstanceId }, i.InstanceName))),
    problem,
    h('button', { type: 'submit', class: 'primary' }, 'Explain'));
  form.addEventListener('submit', async event => {
    event.preventDefault();
    fill(problem);
    try {
      const result = await call('ExplainFlow', {
        Source: source.value.trim(), Destination: destination.value.trim(), IpProtocol: protocol.value,
        DestinationPort: port.disabled ? undefined : port.value, NicType: nic.value,
      });
      fill(answer, decision(result));
    } catch (e) {
      fill(answer);
      showError(problem, e);
    }
  });
  fill(main, h('h1', { id: 'explain-title' }, 'Explain a flow'), form, answer);
}

function decision(result) {
  const what = hasPorts(result.IpProtocol)
    ? `${result.IpProtocol} ${result.SourceAddress} → ${result.DestinationAddress}:${result.DestinationPort}`
    : `${result.IpProtocol} ${result.SourceAddress} → ${result.DestinationAddress}`;
  return h('section', { class: `verdict ${result.Allowed ? 'allowed' : 'denied'}`, 'aria-labelledby': 'verdict' },
    h('h2', { id: 'verdict' }, result.Allowed ? 'Allowed' : 'Denied', h('span', { class: 'flow' }, ` ${what}`)),
    h('div', { class: 'ends' }, end('Egress at the source', result.Egress), end('Ingress at the destination', result.Ingress)));
}

function end(title, nic) {
  if (!nic.Checked) return h('div', { class: 'end unchecked' }, h('h3', {}, title), h('p', {}, nic.Explanation));
  const beaten = items(nic, 'Beaten', 'Rule');
  return h('div', { class: `end ${nic.Verdict}` },
    // The ENI whose groups decided (the one that owns the flow's address), beside its instance.
    h('h3', {}, title, ' ', h('small', {}, nic.NetworkInterfaceId ? `${nic.InstanceId} (${nic.NetworkInterfaceId})` : nic.InstanceId)),
    h('p', { class: 'explanation' }, nic.Explanation),
    beaten.length === 0 ? h('p', {}, 'No other rule matched.')
      : [h('p', {}, `It beat ${beaten.length} matching rule${beaten.length === 1 ? '' : 's'}:`), h('ul', { class: 'beaten' }, beaten.map(r => h('li', {}, r.Description)))]);
}
