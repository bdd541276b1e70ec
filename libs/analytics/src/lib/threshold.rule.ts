import type { AlertChange } from './alert.rules';
import { Debounce } from './alert.rules';
import type { ThresholdRule } from './threshold-rules.file';
import type { WindowAggregate } from './window.aggregate';

/** One room's state of one threshold rule. */
export interface ThresholdState {
  debounce: Debounce;
  /** Which limit the firing alert crossed. */
  side: 'above' | 'below';
}

/** A value as a sensor would print it (no float noise). */
const show = (v: number): string => String(Number(v.toPrecision(4)));

/**
 * Evaluates the room's threshold rules on a closed tumbling window. Alerts are keyed by rule name
 * and name the kind, the window statistic, the limit and the kind's unit (`unitOf`, from the
 * sensor catalog): `radon mean 412 Bq/m3 above 300 Bq/m3 for 2 window(s)`.
 */
export function thresholdRules(
  states: Map<string, ThresholdState>,
  agg: WindowAggregate,
  rules: readonly ThresholdRule[],
  unitOf: (kind: string) => string | undefined,
): AlertChange[] {
  const out: AlertChange[] = [];
  for (const r of rules) {
    const s = agg.metrics[r.kind];
    if (!s) continue; // no reading of the kind in this window: the rule waits
    const v = s[r.stat];
    const high = r.above !== undefined && v > r.above;
    const low = r.below !== undefined && v < r.below;
    const inside = (r.above === undefined || v <= r.above - r.hysteresis) && (r.below === undefined || v >= r.below + r.hysteresis);
    let st = states.get(r.name);
    if (!st) states.set(r.name, (st = { debounce: new Debounce(), side: 'above' }));
    const verdict = st.debounce.update(high || low, inside, r.forWindows, r.resolveAfterWindows);
    if (!verdict) continue;
    const firing = verdict === 'fire';
    if (firing) st.side = high ? 'above' : 'below';
    const threshold = (st.side === 'above' ? r.above : r.below) as number;
    const unit = unitOf(r.kind);
    const u = unit ? ` ${unit}` : '';
    const what = `${r.kind}${r.stat === 'mean' ? '' : ` ${r.stat}`}`;
    const change: AlertChange = {
      key: r.name,
      rule: r.name,
      state: firing ? 'firing' : 'resolved',
      severity: r.severity,
      ts: agg.end,
      value: v,
      threshold,
      metric: r.kind,
      message: firing
        ? `${what} ${show(v)}${u} ${st.side} ${show(threshold)}${u} for ${r.forWindows} window(s)${r.roomType ? ` (room type ${r.roomType})` : ''}`
        : `${what} back to ${show(v)}${u} (${st.side === 'above' ? 'limit' : 'lower limit'} ${show(threshold)}${u})`,
    };
    if (unit) change.unit = unit;
    out.push(change);
  }
  return out;
}
