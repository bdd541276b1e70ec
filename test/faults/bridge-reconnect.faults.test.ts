import { brokerCtl } from '../support/brokers';
import { readTopic } from '../support/kafka-reader';
import { connectPublisher, discardSession, publishAll, readings, waitFor } from '../support/mqtt-publisher';
import { TEST_SITE, kafkaEnv, mqttEnv, provisionFloor } from '../support/security';
import { getText, metricValue, startService, type ServiceProcess } from '../support/service-process';

/**
 * The bridge takes up its queue again after its MQTT connection dropped while it held received,
 * unacknowledged readings: Mosquitto stopped (SIGTERM, persistence on) while a partial batch waited
 * for its flush timer, and started again after that timer ran. Every QoS 1 reading, those the
 * bridge held and those sent after the restart (ten in-flight windows), reaches the raw topic, each
 * at least once and the copies only as redeliveries of the held ones; the bridge's window empties.
 *
 * The bridge's link once stopped handing batches over for good after exactly this: the flush
 * timer found the buffer emptied by the lost connection, and the drain it started left its
 * "draining" marker set, so nothing reached Kafka again and the window, once full, stopped the
 * socket (the kill-and-restart matrix and the overload test, docs/reliability.md).
 */

jest.setTimeout(180_000);

const uniq = () => Math.random().toString(36).slice(2, 8);
const MAX_IN_FLIGHT = 200;
const MAX_BATCH = 100;
const MAX_WAIT_MS = 8_000; // a partial batch waits this long for more readings
const HELD = 40; // readings held in a partial batch when Mosquitto stops (< MAX_BATCH)
const AFTER = 10 * MAX_IN_FLIGHT; // readings sent after the restart

describe('bridge: MQTT connection lost with readings held in its window', () => {
  const running: ServiceProcess[] = [];
  afterAll(async () => {
    await Promise.all(running.splice(0).map((p) => p.stop('SIGKILL')));
    await brokerCtl('mosquitto', 'start'); // running again whatever happened
  });

  it('Mosquitto stopped while a partial batch waits, started after its flush timer ran: the bridge delivers every reading', async () => {
    const floor = `flt-reconn-${uniq()}`;
    const clientId = `bridge-${floor}`;
    await provisionFloor(floor);
    const bridge = await startService(
      'message-broker-bridge',
      {
        ...kafkaEnv('aiot.bridge'),
        ...mqttEnv('aiot.bridge'),
        SITE_ID: TEST_SITE,
        MQTT_CLIENT_ID: clientId,
        BRIDGE_FLOORS: floor,
        BRIDGE_MAX_IN_FLIGHT: String(MAX_IN_FLIGHT),
        BRIDGE_MAX_BATCH: String(MAX_BATCH),
        BRIDGE_MAX_WAIT_MS: String(MAX_WAIT_MS),
      },
      { port: 18791 },
    );
    running.push(bridge);
    const inFlight = async () => metricValue((await getText(bridge.port, '/metrics')).text, 'aiot_bridge_in_flight_messages');
    const ready = async () => (await getText(bridge.port, '/health/ready').catch(() => ({ status: 0 }))).status === 200;

    const all = readings(floor, 10, (HELD + AFTER) / 10);
    const held = all.slice(0, HELD);
    const after = all.slice(HELD);
    const pub = await connectPublisher(floor);
    try {
      // Held: fewer than a batch, so they wait in the bridge for its flush timer.
      await publishAll(pub, held);
      await waitFor(async () => (await inFlight()) === HELD, 5_000, `the bridge to hold the ${HELD} readings`);
      const stoppedAt = Date.now();
      await brokerCtl('mosquitto', 'stop');
      // Still held when the connection dropped: the timer had not run, so nothing was written.
      expect(Date.now() - stoppedAt).toBeLessThan(MAX_WAIT_MS);
      await waitFor(async () => !(await ready()), 30_000, 'the bridge to see its MQTT connection gone');
      await new Promise((r) => setTimeout(r, Math.max(0, stoppedAt + MAX_WAIT_MS + 2_000 - Date.now()))); // the flush timer has run
      await brokerCtl('mosquitto', 'start');
      await waitFor(ready, 30_000, 'the bridge to reconnect');
      await publishAll(pub, after, { window: 100 });
    } finally {
      await pub.endAsync();
    }

    const idOf = (payload: string) => {
      const v = JSON.parse(payload) as { deviceId: string; seq: number };
      return `${v.deviceId}#${v.seq}`;
    };
    const raw = await readTopic(`aiot.${floor}.telemetry.raw`, { count: all.length, timeoutMs: 60_000, quietMs: 2_000 });
    const counts = new Map<string, number>();
    for (const r of raw) counts.set(idOf(r.value), (counts.get(idOf(r.value)) ?? 0) + 1);
    const heldIds = new Set(held.map((m) => idOf(m.payload)));
    const sentIds = new Set(all.map((m) => idOf(m.payload)));
    const report = {
      sent: all.length,
      held: HELD,
      after: AFTER,
      rawRecords: raw.length,
      distinct: counts.size,
      missing: [...sentIds].filter((id) => !counts.has(id)).length,
      foreign: [...counts.keys()].filter((id) => !sentIds.has(id)).length,
      readingsWithCopies: [...counts.values()].filter((n) => n > 1).length,
    };
    console.log(JSON.stringify(report));

    // Nothing lost, nothing foreign.
    expect({ missing: report.missing, foreign: report.foreign, distinct: report.distinct }).toEqual({ missing: 0, foreign: 0, distinct: all.length });
    // Copies (ingest drops them) only of the held readings, at most one each: the broker's redelivery.
    const extra = [...counts].filter(([id, n]) => n > (heldIds.has(id) ? 2 : 1));
    expect(extra).toEqual([]);
    await waitFor(async () => (await inFlight()) === 0, 10_000, 'the bridge\'s window to empty');

    await bridge.stop('SIGTERM');
    await discardSession(clientId, undefined, 'aiot.bridge');
  });
});
