// Label selectors of both policy languages:
// - Kubernetes LabelSelector (matchLabels + matchExpressions), used by NetworkPolicy;
// - Calico's selector expressions (projectcalico.org/v3), e.g.
//   `app.kubernetes.io/name in {'a', 'b'} && !has(aiot.io/floor) || all()`.

export type Labels = Readonly<Record<string, string>>;

export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string> | null;
  matchExpressions?: LabelSelectorRequirement[] | null;
}

/** Kubernetes semantics: an empty selector ({}) matches everything; null/undefined is handled by the caller. */
export function matchesLabelSelector(selector: LabelSelector, labels: Labels): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[k] !== String(v)) return false;
  }
  for (const req of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, req.key);
    const values = (req.values ?? []).map(String);
    switch (req.operator) {
      case 'In':
        if (!has || !values.includes(labels[req.key])) return false;
        break;
      case 'NotIn':
        if (has && values.includes(labels[req.key])) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        throw new Error(`unsupported matchExpressions operator ${JSON.stringify((req as { operator: unknown }).operator)} for key ${req.key}`);
    }
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Calico selector expressions

export type CalicoSelector =
  | { op: 'all' }
  | { op: 'global' }
  | { op: 'has'; key: string }
  | { op: 'eq' | 'ne' | 'contains' | 'startsWith' | 'endsWith'; key: string; value: string }
  | { op: 'in' | 'notIn'; key: string; values: string[] }
  | { op: 'not'; expr: CalicoSelector }
  | { op: 'and' | 'or'; left: CalicoSelector; right: CalicoSelector };

type Token = { t: 'ident' | 'str' | 'sym'; v: string; pos: number };

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'" || c === '"') {
      const end = src.indexOf(c, i + 1);
      if (end < 0) throw new SelectorError(src, i, 'unterminated string');
      out.push({ t: 'str', v: src.slice(i + 1, end), pos: i });
      i = end + 1;
    } else if (src.startsWith('&&', i) || src.startsWith('||', i) || src.startsWith('==', i) || src.startsWith('!=', i)) {
      out.push({ t: 'sym', v: src.slice(i, i + 2), pos: i });
      i += 2;
    } else if ('!(){},'.includes(c)) {
      out.push({ t: 'sym', v: c, pos: i });
      i++;
    } else {
      const m = /^[A-Za-z0-9_./-]+/.exec(src.slice(i));
      if (!m) throw new SelectorError(src, i, `unexpected character ${JSON.stringify(c)}`);
      out.push({ t: 'ident', v: m[0], pos: i });
      i += m[0].length;
    }
  }
  return out;
}

export class SelectorError extends Error {
  constructor(selector: string, pos: number, what: string) {
    super(`invalid Calico selector ${JSON.stringify(selector)} at ${pos}: ${what}`);
  }
}

/** Parses a Calico selector. An empty string means all(). */
export function parseCalicoSelector(src: string): CalicoSelector {
  const toks = tokenize(src);
  if (toks.length === 0) return { op: 'all' };
  let p = 0;
  const peek = (): Token | undefined => toks[p];
  const fail = (what: string): never => {
    throw new SelectorError(src, peek()?.pos ?? src.length, what);
  };
  const expectSym = (v: string): void => {
    const t = toks[p++];
    if (!t || t.t !== 'sym' || t.v !== v) fail(`expected '${v}'`);
  };
  const str = (): string => {
    const t = toks[p++];
    if (!t || t.t !== 'str') fail('expected a quoted string');
    return (t as Token).v;
  };
  const set = (): string[] => {
    expectSym('{');
    const values: string[] = [];
    if (peek()?.v !== '}') {
      values.push(str());
      while (peek()?.v === ',') {
        p++;
        values.push(str());
      }
    }
    expectSym('}');
    return values;
  };
  const primary = (): CalicoSelector => {
    const t = peek();
    if (!t) return fail('unexpected end of selector');
    if (t.t === 'sym' && t.v === '!') {
      p++;
      return { op: 'not', expr: primary() };
    }
    if (t.t === 'sym' && t.v === '(') {
      p++;
      const e = or();
      expectSym(')');
      return e;
    }
    if (t.t !== 'ident') return fail(`unexpected ${JSON.stringify(t.v)}`);
    p++;
    if ((t.v === 'all' || t.v === 'global') && peek()?.v === '(') {
      expectSym('(');
      expectSym(')');
      return { op: t.v };
    }
    if (t.v === 'has' && peek()?.v === '(') {
      expectSym('(');
      const k = toks[p++];
      if (!k || k.t !== 'ident') fail('expected a label key in has()');
      expectSym(')');
      return { op: 'has', key: (k as Token).v };
    }
    const key = t.v;
    const op = toks[p++];
    if (!op) return fail(`expected an operator after ${key}`);
    if (op.t === 'sym' && op.v === '==') return { op: 'eq', key, value: str() };
    if (op.t === 'sym' && op.v === '!=') return { op: 'ne', key, value: str() };
    if (op.t === 'ident' && op.v === 'in') return { op: 'in', key, values: set() };
    if (op.t === 'ident' && op.v === 'not') {
      const n = toks[p++];
      if (!n || n.v !== 'in') fail("expected 'in' after 'not'");
      return { op: 'notIn', key, values: set() };
    }
    if (op.t === 'ident' && op.v === 'contains') return { op: 'contains', key, value: str() };
    if (op.t === 'ident' && (op.v === 'starts' || op.v === 'ends')) {
      const w = toks[p++];
      if (!w || w.v !== 'with') fail(`expected 'with' after '${op.v}'`);
      return { op: op.v === 'starts' ? 'startsWith' : 'endsWith', key, value: str() };
    }
    return fail(`unknown operator ${JSON.stringify(op.v)}`);
  };
  const and = (): CalicoSelector => {
    let left = primary();
    while (peek()?.v === '&&') {
      p++;
      left = { op: 'and', left, right: primary() };
    }
    return left;
  };
  const or = (): CalicoSelector => {
    let left = and();
    while (peek()?.v === '||') {
      p++;
      left = { op: 'or', left, right: and() };
    }
    return left;
  };
  const e = or();
  if (p !== toks.length) fail(`unexpected ${JSON.stringify(toks[p].v)}`);
  return e;
}

/**
 * Evaluates a parsed selector against a label set. `isGlobal` says whether the thing selected is
 * non-namespaced (global() is true only for those).
 */
export function evalCalicoSelector(sel: CalicoSelector, labels: Labels, isGlobal = false): boolean {
  const has = (k: string): boolean => Object.prototype.hasOwnProperty.call(labels, k);
  switch (sel.op) {
    case 'all':
      return true;
    case 'global':
      return isGlobal;
    case 'has':
      return has(sel.key);
    case 'eq':
      return has(sel.key) && labels[sel.key] === sel.value;
    case 'ne':
      return !has(sel.key) || labels[sel.key] !== sel.value;
    case 'contains':
      return has(sel.key) && labels[sel.key].includes(sel.value);
    case 'startsWith':
      return has(sel.key) && labels[sel.key].startsWith(sel.value);
    case 'endsWith':
      return has(sel.key) && labels[sel.key].endsWith(sel.value);
    case 'in':
      return has(sel.key) && sel.values.includes(labels[sel.key]);
    case 'notIn':
      return !has(sel.key) || !sel.values.includes(labels[sel.key]);
    case 'not':
      return !evalCalicoSelector(sel.expr, labels, isGlobal);
    case 'and':
      return evalCalicoSelector(sel.left, labels, isGlobal) && evalCalicoSelector(sel.right, labels, isGlobal);
    case 'or':
      return evalCalicoSelector(sel.left, labels, isGlobal) || evalCalicoSelector(sel.right, labels, isGlobal);
  }
}

export function matchesCalicoSelector(src: string | undefined, labels: Labels, isGlobal = false): boolean {
  return evalCalicoSelector(parseCalicoSelector(src ?? ''), labels, isGlobal);
}
