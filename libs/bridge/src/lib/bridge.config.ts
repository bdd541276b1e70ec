import { z } from 'zod';
import { FOREIGN_FORMATS, deviceEntrySchema, floorIdSchema, PLATFORM_GROUPS, segmentSchema } from '@aiot/contracts';

/** Bridge behaviour (transport endpoints are configured on the adapters). */
export const bridgeOptionsSchema = z.object({
  /** Floors this bridge routes; `auto` accepts any DNS-label floor and creates its topics on demand. */
  floors: z.union([z.literal('auto'), z.array(floorIdSchema).min(1)]),
  /** Payloads above this go to the floor's DLQ as `oversized` (Kafka's default max message is 1 MiB). */
  maxPayloadBytes: z.number().int().positive().max(1_000_000).default(16_384),
  /**
   * Site whose telemetry this bridge subscribes to (`aiot/<site>/+/+/+/telemetry`); `+` = every
   * site. With broker ACLs the bridge's identity may read only its site's telemetry.
   */
  site: z.union([z.literal('+'), segmentSchema]).default('+'),
  /** Carry alerts and commands from Kafka back to MQTT. */
  downlink: z.boolean().default(true),
  /** Consumer group of the Kafka→MQTT direction. */
  downlinkGroupId: z.string().min(1).default(PLATFORM_GROUPS.bridgeDownlink),
  /** Foreign topic trees to read and translate (ChirpStack, The Things Stack, Zigbee2MQTT). */
  foreignFormats: z.array(z.enum(FOREIGN_FORMATS)).default([]),
  /** The device registry: foreign devices (`source`) are placed on their floor and room by it. */
  devices: z.array(deviceEntrySchema).default([]),
}).refine((o) => o.foreignFormats.length === 0 || o.site !== '+', {
  message: 'foreign formats need a site (SITE_ID): their readings are placed under aiot/<site>/…',
  path: ['site'],
});
export type BridgeOptions = z.input<typeof bridgeOptionsSchema>;
export type ResolvedBridgeOptions = z.output<typeof bridgeOptionsSchema>;
