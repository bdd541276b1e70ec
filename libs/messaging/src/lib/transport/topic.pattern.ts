/** Placeholder in an `@EventPattern` topic template that stands for the floor(s) a server serves. */
export const FLOOR_PLACEHOLDER = '{floor}';

/** A floor id as in topic names: a DNS label (RFC 1123 §2.1), as `kafkaTopic` requires. */
const FLOOR_SOURCE = '[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?';

export interface FloorSelection {
  /** Floors whose topics are subscribed by name. */
  floors?: string[];
  /** Also every floor's topic, by pattern (`aiot.<any floor>.<stream>`). */
  allFloors?: boolean;
}

/**
 * The topics an `@EventPattern` template stands for: a plain topic name as it is; a template with
 * `{floor}` once per selected floor, plus a pattern over all floors when `allFloors` is set (none
 * when no floor is selected).
 */
export function topicsForPattern(template: string, selection: FloorSelection): Array<string | RegExp> {
  if (!template.includes(FLOOR_PLACEHOLDER)) return [template];
  const topics: Array<string | RegExp> = (selection.floors ?? []).map((f) => template.split(FLOOR_PLACEHOLDER).join(f));
  if (selection.allFloors) {
    const source = template
      .split(FLOOR_PLACEHOLDER)
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join(FLOOR_SOURCE);
    topics.push(new RegExp(`^${source}$`));
  }
  return topics;
}

/** Whether `topic` is one of `topics` (names or patterns). */
export function topicMatches(topics: Array<string | RegExp>, topic: string): boolean {
  return topics.some((t) => (typeof t === 'string' ? t === topic : t.test(topic)));
}
