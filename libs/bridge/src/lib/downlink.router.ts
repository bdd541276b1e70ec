import {
  alertSchema,
  buildDlqRecord,
  commandSchema,
  kafkaTopic,
  mqttAlertsTopic,
  mqttCommandTopic,
  parseJson,
  parseKafkaTopic,
  type ContractError,
} from '@aiot/contracts';
import type { DevicePublish, IncomingRecord, OutgoingRecord } from '@aiot/messaging';

export interface DownlinkBatch {
  publishes: DevicePublish[];
  dlq: OutgoingRecord[];
  floors: Map<string, number>;
}

/** Maps `aiot.<floor>.alerts` and `.commands` records to their MQTT topics; bad ones to the DLQ. */
export function routeDownlink(records: readonly IncomingRecord[], nowMs: number): DownlinkBatch {
  const publishes: DevicePublish[] = [];
  const dlq: OutgoingRecord[] = [];
  const floors = new Map<string, number>();
  for (const r of records) {
    const topic = parseKafkaTopic(r.topic);
    const refuse = (floor: string | undefined, error: ContractError) => {
      const target = floor ? kafkaTopic(floor, 'telemetry.dlq') : undefined;
      if (!target) return;
      const source = { stage: 'bridge' as const, sourceTopic: r.topic, floor, payload: r.value, ...(r.key ? { key: r.key } : {}) };
      dlq.push({ topic: target, key: r.key ?? '', value: JSON.stringify(buildDlqRecord(source, error, nowMs)) });
    };
    if (!topic.ok) continue; // the subscription only matches valid topics
    const { floor, stream } = topic.value;
    const json = parseJson(r.value.toString('utf8'));
    if (!json.ok) {
      refuse(floor, json.error);
      continue;
    }
    if (stream === 'alerts') {
      const alert = alertSchema.safeParse(json.value);
      if (!alert.success || alert.data.floor !== floor) {
        refuse(floor, { reason: 'schema_violation', message: alert.success ? 'alert floor differs from topic floor' : alert.error.issues[0]?.message ?? 'invalid alert' });
        continue;
      }
      publishes.push({ topic: mqttAlertsTopic(alert.data.site, floor), payload: r.value, qos: 1 });
    } else if (stream === 'commands') {
      const command = commandSchema.safeParse(json.value);
      if (!command.success || command.data.floor !== floor) {
        refuse(floor, { reason: 'schema_violation', message: command.success ? 'command floor differs from topic floor' : command.error.issues[0]?.message ?? 'invalid command' });
        continue;
      }
      publishes.push({ topic: mqttCommandTopic(command.data), payload: r.value, qos: 1 });
    } else continue;
    floors.set(floor, (floors.get(floor) ?? 0) + 1);
  }
  return { publishes, dlq, floors };
}
