// The ECS API as the console calls it: signed V3 requests to the server that served the page.
import { signRequest } from './sign.js';

export const ECS = '2014-05-26';
export const VPC = '2016-04-28';

/** An ECS error answer: HTTP status, Code, Message and RequestId, as the server sent them. */
export class EcsError extends Error {
  constructor(status, code, message, requestId, body) {
    super(`${code}: ${message}`);
    this.status = status;
    this.code = code;
    this.ecsMessage = message;
    this.requestId = requestId;
    this.body = body;
  }
}

/**
 * Turns {Name: value} into ECS parameters, as the SDKs do: arrays of scalars as Name.N, arrays of
 * objects as Name.N.Field; null, undefined and '' left out.
 */
export function flatten(parameters) {
  const pairs = [];
  const add = (name, value) => {
    if (value === null || value === undefined || value === '') return;
    if (Array.isArray(value)) {
      value.forEach((item, i) => add(`${name}.${i + 1}`, item));
    } else if (typeof value === 'object') {
      for (const [key, inner] of Object.entries(value)) add(`${name}.${key}`, inner);
    } else {
      pairs.push([name, String(value)]);
    }
  };
  for (const [name, value] of Object.entries(parameters)) add(name, value);
  return pairs;
}

const SESSION_KEY = 'palisade.console.session';

/**
 * The signed-in AccessKey lives in this tab's sessionStorage: gone when the tab closes, never sent
 * anywhere but in signatures (the secret itself never leaves the browser).
 */
export const session = {
  get() {
    try {
      return JSON.parse(sessionStorage.getItem(SESSION_KEY) ?? 'null');
    } catch {
      return null;
    }
  },
  set(value) { sessionStorage.setItem(SESSION_KEY, JSON.stringify(value)); },
  clear() { sessionStorage.removeItem(SESSION_KEY); },
};

/** Calls an action with the signed-in key (or `credentials`); the JSON answer, or throws {@link EcsError}. */
export async function call(action, parameters = {}, { version = ECS, credentials = session.get() } = {}) {
  if (!credentials) throw new EcsError(0, 'NotSignedIn', 'Sign in with an AccessKey first.', '', null);
  const withRegion = 'RegionId' in parameters || !credentials.regionId ? parameters : { RegionId: credentials.regionId, ...parameters };
  const { path, headers } = await signRequest(credentials, action, version, flatten(withRegion), location.host);
  let response;
  try {
    response = await fetch(path, { method: 'POST', headers, cache: 'no-store' });
  } catch (e) {
    throw new EcsError(0, 'ServerUnreachable', `The server did not answer (${e.message}).`, '', null);
  }
  const text = await response.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    throw new EcsError(response.status, `Http${response.status}`, `The server answered HTTP ${response.status} without an ECS body.`, '', text);
  }
  if (!response.ok) throw new EcsError(response.status, body.Code ?? `Http${response.status}`, body.Message ?? '', body.RequestId ?? '', body);
  return body;
}

/** The items of an ECS list: `{Permissions: {Permission: [...]}}` → `[...]`. */
export const items = (body, list, item) => body?.[list]?.[item] ?? [];

/**
 * Every item of a list, page after page, so that an account with more than one page shows whole:
 * ECS actions page with MaxResults/NextToken, the VPC API with PageNumber/PageSize and TotalCount.
 * The answers themselves are pushed to `bodies`, for the fields beside the list.
 */
export async function collect(action, parameters, list, item, { version = ECS, bodies = [] } = {}) {
  const all = [];
  if (version === VPC) {
    for (let page = 1; page <= 10000; page++) {
      const body = await call(action, { ...parameters, PageNumber: page, PageSize: 50 }, { version });
      bodies.push(body);
      const found = items(body, list, item);
      all.push(...found);
      if (found.length === 0 || all.length >= (body.TotalCount ?? 0)) break;
    }
    return all;
  }
  let token = '';
  for (let page = 0; page < 10000; page++) {
    const body = await call(action, { ...parameters, MaxResults: 100, NextToken: token }, { version });
    bodies.push(body);
    all.push(...items(body, list, item));
    token = body.NextToken ?? '';
    if (!token) break;
  }
  return all;
}
