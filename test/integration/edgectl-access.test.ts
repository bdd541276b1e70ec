// edgectl against the real brokers, as an operator runs it (the built CLI): per-device MQTT
// credentials at run time, and the access step that the chart's Job runs.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import mqtt from 'mqtt';
import { MQTT_URL, REPO_ROOT } from '../support/brokers';
import { ADMIN, TEST_SITE, mqttAuth, passwordFile, provisionFloor } from '../support/security';

jest.setTimeout(120_000);

const main = path.join(REPO_ROOT, 'dist/apps/edgectl/src/main.js');
const adminEnv = { MQTT_URL, MQTT_USERNAME: ADMIN, MQTT_PASSWORD_FILE: passwordFile('mqtt', ADMIN) };

function edgectl(args: string[], env: Record<string, string> = adminEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  if (!existsSync(main)) throw new Error(`${main} is missing: run \`npm run build\` first`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [main, ...args], { cwd: REPO_ROOT, env: { PATH: process.env['PATH'] ?? '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const connect = (username: string, password: string) =>
  mqtt.connectAsync(MQTT_URL, { protocolVersion: 5, reconnectPeriod: 0, clientId: `dev-${Math.random().toString(16).slice(2)}`, username, password });

describe('edgectl device add | list | remove on the real Mosquitto', () => {
  const floor = `dev-${Math.random().toString(36).slice(2, 7)}`;
  beforeAll(() => provisionFloor(floor, { only: 'mqtt' }));

  it('issues a device its own identity, shown once, that reaches only its own topics; remove revokes it', async () => {
    const added = await edgectl(['device', 'add', 'thermo-7', '--floor', floor, '--site', TEST_SITE]);
    expect(added.code).toBe(0);
    const username = /^username: (.+)$/m.exec(added.stdout)?.[1];
    const password = /^password: (.+)$/m.exec(added.stdout)?.[1];
    expect(username).toBe(`thermo-7@${floor}`);
    expect(password).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(added.stderr).toContain('shown only this once');

    // Adding it again does not reveal or replace the password.
    const again = await edgectl(['device', 'add', 'thermo-7', '--floor', floor, '--site', TEST_SITE]);
    expect(again.code).toBe(2);
    expect(again.stdout).not.toContain('password');
    expect(again.stderr).toContain('exists already');

    const list = await edgectl(['device', 'list', '--floor', floor]);
    expect(list.code).toBe(0);
    expect(list.stdout.trim().split('\n').slice(1).sort()).toEqual([`${floor}\t${floor}\tfloor\tfloor.${floor}`, `thermo-7@${floor}\t${floor}\tdevice\tdevice.thermo-7@${floor}`].sort());

    const device = await connect(username!, password!);
    await device.publishAsync(`aiot/${TEST_SITE}/${floor}/r1/thermo-7/telemetry`, '{}', { qos: 1 }); // its own: PUBACK 0
    const refused = async (topic: string) => device.publishAsync(topic, '{}', { qos: 1 }).then(() => 0, (e: { code?: number }) => e.code ?? -1);
    expect(await refused(`aiot/${TEST_SITE}/${floor}/r1/thermo-8/telemetry`)).toBe(0x87); // another device of its floor
    expect(await refused(`aiot/${TEST_SITE}/other-floor/r1/thermo-7/telemetry`)).toBe(0x87); // another floor
    const closed = new Promise<void>((resolve) => device.once('close', () => resolve()));

    const removed = await edgectl(['device', 'remove', 'thermo-7', '--floor', floor]);
    expect(removed.code).toBe(0);
    await closed; // the broker drops the revoked identity's connection
    await expect(connect(username!, password!)).rejects.toMatchObject({ code: 0x87 });
    expect((await edgectl(['device', 'list', '--floor', floor])).stdout).not.toContain('thermo-7');
    // The floor's shared identity is untouched.
    await (await connect(floor, mqttAuth(floor).password!)).endAsync();
  });

  it('fails clearly without the admin identity', async () => {
    const r = await edgectl(['device', 'list'], { MQTT_URL });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('MQTT_USERNAME and MQTT_PASSWORD_FILE');
    const wrong = await edgectl(['device', 'list'], { MQTT_URL, MQTT_USERNAME: floor, MQTT_PASSWORD_FILE: passwordFile('mqtt', floor) });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(`${floor} may not administer the broker's dynamic security (Subscribe error: Not authorized)`);
  });
});
