/**
 * JSON.parse keeps a `"__proto__"` key as an own property, but zod's object and record parsers
 * skip such keys (their guard against prototype pollution) instead of refusing them: a metric
 * named `__proto__` would vanish without a trace, and a strict object would let an unknown key
 * through. Finds one in the levels a reading uses (reading, metrics, metric value; pack, record)
 * and returns its path.
 */
export function protoKeyPath(value: unknown, path: string, depth: number): string | undefined {
  if (depth === 0 || value === null || typeof value !== 'object') return undefined;
  if (!Array.isArray(value) && Object.hasOwn(value, '__proto__')) return path ? `${path}.__proto__` : '__proto__';
  for (const [k, v] of Object.entries(value)) {
    const found = protoKeyPath(v, path ? `${path}.${k}` : k, depth - 1);
    if (found !== undefined) return found;
  }
  return undefined;
}
