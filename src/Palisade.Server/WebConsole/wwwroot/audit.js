// The best-practice audit: each finding with its check, severity, what it concerns, the fix, and
// the evidence (for an exposure, a packet the engine lets through).
import { h, fill, field, select } from './dom.js';
import { call, items } from './api.js';
import { page } from './ui.js';

const SEVERITIES = ['high', 'medium', 'low', 'info'];

const evidenceValue = value => (value && typeof value === 'object' ? (value.Item ?? Object.values(value).flat()).join(', ') : String(value));

export async function auditPage(main) {
  const findings = await page(main, 'Audit', 'the audit', async () => items(await call('AuditSecurityGroups', {}), 'Findings', 'Finding'));
  if (!findings) return;
  const counts = Object.fromEntries(SEVERITIES.map(s => [s, findings.filter(f => f.Severity === s).length]));
  const checks = [...new Set(findings.map(f => f.Check))].sort();
  const severity = select({ name: 'severity' }, [['', 'every severity'], ...SEVERITIES.map(s => [s, `${s} (${counts[s]})`])], '');
  const check = select({ name: 'check' }, [['', 'every check'], ...checks.map(c => [c, c])], '');
  const list = h('div', { class: 'findings' });
  const show = () => {
    const shown = findings
      .filter(f => (!severity.value || f.Severity === severity.value) && (!check.value || f.Check === check.value))
      .sort((a, b) => SEVERITIES.indexOf(a.Severity) - SEVERITIES.indexOf(b.Severity));
    fill(list, shown.length === 0 ? h('p', { class: 'empty' }, 'No findings.') : shown.map(finding));
  };
  severity.addEventListener('change', show);
  check.addEventListener('change', show);
  show();
  fill(main,
    h('h1', {}, 'Audit'),
    h('p', {}, `${findings.length} findings: `, SEVERITIES.map(s => h('span', { class: `badge ${s}` }, `${counts[s]} ${s}`)), '. Exposure is decided by the engine over all groups of each instance, so drop rules, priorities, UDP and IPv6 count.'),
    h('div', { class: 'toolbar' }, field('Severity', severity), field('Check', check)),
    list);
}

function finding(f) {
  const evidence = Object.entries(f.Evidence ?? {});
  return h('article', { class: `finding ${f.Severity}`, dataset: { check: f.Check } },
    h('h2', {}, h('span', { class: `badge ${f.Severity}` }, f.Severity), ' ', h('code', {}, f.Check)),
    h('p', { class: 'concerns' },
      f.SecurityGroupId ? h('a', { href: `#/groups/${f.SecurityGroupId}` }, f.SecurityGroupId) : null,
      f.SecurityGroupRuleId ? [' rule ', h('code', {}, f.SecurityGroupRuleId)] : null,
      f.InstanceId ? [f.SecurityGroupId ? ', instance ' : 'instance ', h('code', {}, f.InstanceId)] : null,
      f.PrefixListId ? ['prefix list ', h('a', { href: `#/prefix-lists/${f.PrefixListId}` }, f.PrefixListId)] : null),
    h('p', {}, f.Message),
    evidence.length === 0 ? null : h('details', { open: f.Severity === 'high' },
      h('summary', {}, 'Evidence'),
      h('dl', { class: 'facts' }, evidence.map(([key, value]) => [h('dt', {}, key), h('dd', {}, evidenceValue(value))]))));
}
