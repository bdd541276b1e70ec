import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ALERT_SEVERITIES, METRIC_NAME, metricNameSchema, segmentSchema } from '@aiot/contracts';
import { RULE_NAMES } from './alert.rules';

/** The built-in rules' names: a threshold rule must not take one (alerts are keyed by rule name). */
const RESERVED_RULE_NAMES: readonly string[] = RULE_NAMES;

/** A room type: lower-case words, e.g. `meeting`, `server_room`, `lab`. */
export const roomTypeSchema = z.string().regex(METRIC_NAME, 'room types are 1–64 characters of a-z, 0-9 and "_", starting with a letter');

/**
 * One threshold rule: a statistic of one metric kind over each closed tumbling window, compared
 * with `above` and/or `below`. It fires after `forWindows` consecutive windows outside the limits
 * and resolves after `resolveAfterWindows` windows back inside them by at least `hysteresis`.
 * Windows without the kind leave the rule as it is. With `roomType` the rule holds only in rooms of
 * that type, and there it replaces a rule of the same name without a room type.
 */
export const thresholdRuleSchema = z
  .object({
    /** Alert rule name; default `<kind>_threshold`. */
    name: metricNameSchema.optional(),
    kind: metricNameSchema,
    roomType: roomTypeSchema.optional(),
    /** Which window statistic is compared (default the mean over all devices of the room). */
    stat: z.enum(['mean', 'min', 'max', 'last']).default('mean'),
    above: z.number().finite().optional(),
    below: z.number().finite().optional(),
    /** In the kind's canonical unit: how far back inside the limits a value must be to resolve. */
    hysteresis: z.number().finite().min(0).default(0),
    forWindows: z.number().int().min(1).max(1000).default(1),
    /** Default: `forWindows`. */
    resolveAfterWindows: z.number().int().min(1).max(1000).optional(),
    severity: z.enum(ALERT_SEVERITIES).default('warning'),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.above === undefined && r.below === undefined) ctx.addIssue({ code: 'custom', message: 'a threshold rule needs "above", "below" or both' });
    if (r.above !== undefined && r.below !== undefined && !(r.below + 2 * r.hysteresis < r.above)) {
      ctx.addIssue({ code: 'custom', message: '"below" plus twice the hysteresis must stay under "above" (else the rule can never resolve)' });
    }
    const name = r.name ?? `${r.kind}_threshold`;
    if (RESERVED_RULE_NAMES.includes(name)) ctx.addIssue({ code: 'custom', path: ['name'], message: `"${name}" is a built-in rule's name` });
  })
  .transform((r) => ({ ...r, name: r.name ?? `${r.kind}_threshold`, resolveAfterWindows: r.resolveAfterWindows ?? r.forWindows }));
export type ThresholdRule = z.output<typeof thresholdRuleSchema>;
export type ThresholdRuleInput = z.input<typeof thresholdRuleSchema>;

/**
 * The rules file (`ANALYTICS_RULES_FILE`, aiot-floor chart value `streamAnalytics.rules`):
 * `{"version":1,"roomTypes":{"r101":"meeting","f2/lab":"lab"},"thresholds":[{"kind":"radon","above":300,"forWindows":2}]}`.
 * `roomTypes` maps a room id, or `<floor>/<room>` where room ids repeat across floors, to its type.
 */
export const rulesFileSchema = z
  .object({
    version: z.literal(1),
    roomTypes: z
      .record(z.string().regex(/^(?:[^/]+\/)?[^/]+$/, 'a room key is "<room>" or "<floor>/<room>"'), roomTypeSchema)
      .default({})
      .superRefine((types, ctx) => {
        for (const key of Object.keys(types)) {
          for (const part of key.split('/')) {
            if (!segmentSchema.safeParse(part).success) ctx.addIssue({ code: 'custom', path: [key], message: `"${part}" is not a valid floor or room id` });
          }
        }
      }),
    thresholds: z.array(thresholdRuleSchema).max(1000).default([]),
  })
  .strict()
  .superRefine((file, ctx) => {
    const seen = new Set<string>();
    for (const [i, r] of file.thresholds.entries()) {
      const key = `${r.name}@${r.roomType ?? '*'}`;
      if (seen.has(key)) ctx.addIssue({ code: 'custom', path: ['thresholds', i, 'name'], message: `rule "${r.name}" is listed twice for ${r.roomType ? `room type "${r.roomType}"` : 'all room types'}` });
      seen.add(key);
    }
  });
export type RulesFile = z.output<typeof rulesFileSchema>;
export type RulesFileInput = z.input<typeof rulesFileSchema>;

/** No file: no threshold rules and no room types (the built-in rules keep their own options). */
export const EMPTY_RULES_FILE: RulesFile = { version: 1, roomTypes: {}, thresholds: [] };

/** Validates a rules file's content; throws naming `source` and the first fault. */
export function parseRulesFile(json: unknown, source: string): RulesFile {
  const parsed = rulesFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`rules file ${source}: ${issue?.path.join('.') || '(root)'}: ${issue?.message}`);
  }
  return parsed.data;
}

/** Reads and validates a rules file at start-up; a bad file stops the service with the reason. */
export function loadRulesFile(path: string): RulesFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read rules file ${path}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`rules file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  return parseRulesFile(json, path);
}

/** A room's type: `<floor>/<room>` first, then `<room>`; undefined when the file names neither. */
export function roomTypeOf(file: RulesFile, floor: string, room: string): string | undefined {
  const types = file.roomTypes;
  const scoped = `${floor}/${room}`;
  if (Object.hasOwn(types, scoped)) return types[scoped];
  return Object.hasOwn(types, room) ? types[room] : undefined;
}

/** The threshold rules that hold in a room of `roomType`: typed rules replace untyped ones of the same name. */
export function rulesForRoomType(file: RulesFile, roomType: string | undefined): ThresholdRule[] {
  const byName = new Map<string, ThresholdRule>();
  for (const r of file.thresholds) if (r.roomType === undefined) byName.set(r.name, r);
  if (roomType !== undefined) for (const r of file.thresholds) if (r.roomType === roomType) byName.set(r.name, r);
  return [...byName.values()];
}
