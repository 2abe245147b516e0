// Building DOM from data without innerHTML: every string from the API lands as text, never as markup.

/** h('a', {href: '#/x', class: 'y', onclick: f}, 'text', child, [more]) */
export function h(tag, attributes = {}, ...children) {
  const svg = tag.startsWith('svg:');
  const element = svg ? document.createElementNS('http://www.w3.org/2000/svg', tag.slice(4)) : document.createElement(tag);
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') element.addEventListener(name.slice(2), value);
    else if (name === 'dataset') Object.assign(element.dataset, value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(element, child);
    else element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces the contents of `element`. */
export function fill(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

/** A labelled form control: the label's `for` names the control's id. */
export function field(label, control, hint) {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  control.id = id;
  const hintId = hint ? `${id}-hint` : null;
  if (hintId) control.setAttribute('aria-describedby', hintId);
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hint ? h('small', { id: hintId, class: 'hint' }, hint) : null);
}

export function select(attributes, options, selected) {
  return h('select', attributes, options.map(o => {
    const [value, text] = Array.isArray(o) ? o : [o, o];
    return h('option', { value, selected: value === selected }, text);
  }));
}

/** A table wrapped so a narrow screen scrolls it rather than the page. */
export function table(caption, headers, rows, attributes = {}) {
  return h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': caption },
    h('table', attributes,
      h('caption', {}, caption),
      h('thead', {}, h('tr', {}, headers.map(x => x instanceof Node ? x : h('th', { scope: 'col' }, x)))),
      h('tbody', {}, rows)));
}
