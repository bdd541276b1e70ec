import { randomUUID } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import type { MqttAclRule, MqttClientSpec, MqttRole } from '@aiot/contracts';
import { tlsConnectionOptions, type TlsClientOptions } from './transport-security';

/**
 * Mosquitto's dynamic-security plugin, administered at run time over its control topic (the
 * plugin's README: JSON `{"commands": [...]}` published to `$CONTROL/dynamic-security/v1`,
 * answers on `.../response`, matched by `correlationData`). No broker restart, no file edits.
 */
export const DYNSEC_TOPIC = '$CONTROL/dynamic-security/v1';

export interface DynsecConnection {
  url: string;
  username: string;
  password: string;
  tls?: TlsClientOptions;
  /** Per command batch (ms). */
  timeoutMs?: number;
}

interface DynsecResponse {
  command: string;
  error?: string;
  data?: Record<string, unknown>;
  correlationData?: string;
}

export class DynsecError extends Error {
  constructor(
    readonly command: string,
    readonly reason: string,
  ) {
    super(`dynamic-security ${command}: ${reason}`);
    this.name = 'DynsecError';
  }
}

export interface DynsecClientInfo {
  username: string;
  roles: string[];
  disabled: boolean;
}

export class DynsecAdmin {
  private readonly pending = new Map<string, { resolve: (r: DynsecResponse) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();

  private constructor(
    private readonly client: MqttClient,
    private readonly timeoutMs: number,
  ) {
    client.on('message', (topic, payload) => {
      if (topic !== `${DYNSEC_TOPIC}/response`) return;
      let body: { responses?: DynsecResponse[] };
      try {
        body = JSON.parse(payload.toString()) as { responses?: DynsecResponse[] };
      } catch {
        return;
      }
      for (const r of body.responses ?? []) {
        const waiter = r.correlationData ? this.pending.get(r.correlationData) : undefined;
        if (!waiter) continue;
        this.pending.delete(r.correlationData!);
        clearTimeout(waiter.timer);
        waiter.resolve(r);
      }
    });
  }

  /** Connects as the dynamic-security admin; a refused CONNECT rejects with the broker's reason. */
  static async connect(c: DynsecConnection): Promise<DynsecAdmin> {
    const client = await mqtt.connectAsync(c.url, {
      clientId: `aiot-access-${randomUUID().slice(0, 8)}`,
      protocolVersion: 5,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: c.timeoutMs ?? 10_000,
      username: c.username,
      password: c.password,
      ...(c.tls ? tlsConnectionOptions(c.tls) : {}),
    });
    const admin = new DynsecAdmin(client, c.timeoutMs ?? 10_000);
    try {
      await client.subscribeAsync(`${DYNSEC_TOPIC}/response`, { qos: 1 });
    } catch (err) {
      await client.endAsync(true);
      throw new Error(`${c.username} may not administer the broker's dynamic security (${(err as Error).message}): use the admin identity`);
    }
    return admin;
  }

  async close(): Promise<void> {
    for (const [, w] of this.pending) {
      clearTimeout(w.timer);
      w.reject(new Error('dynamic-security admin connection closed'));
    }
    this.pending.clear();
    await this.client.endAsync();
  }

  /** Sends one command; resolves with its data, rejects with {@link DynsecError} on an error answer. */
  async command(command: string, args: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const r = await this.send(command, args);
    if (r.error) throw new DynsecError(command, r.error);
    return r.data ?? {};
  }

  private send(command: string, args: Record<string, unknown>): Promise<DynsecResponse> {
    const correlationData = randomUUID();
    const answer = new Promise<DynsecResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(correlationData);
        reject(new Error(`dynamic-security ${command}: no answer within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.pending.set(correlationData, { resolve, reject, timer });
    });
    void this.client.publishAsync(DYNSEC_TOPIC, JSON.stringify({ commands: [{ command, ...args, correlationData }] }), { qos: 1 }).catch((err: unknown) => {
      const w = this.pending.get(correlationData);
      if (!w) return;
      this.pending.delete(correlationData);
      clearTimeout(w.timer);
      w.reject(err as Error);
    });
    return answer;
  }

  /** Sets what is allowed when no role says otherwise. */
  async setDefaultAccess(access: Record<string, boolean>): Promise<void> {
    await this.command('setDefaultACLAccess', { acls: Object.entries(access).map(([acltype, allow]) => ({ acltype, allow })) });
  }

  async getRole(rolename: string): Promise<MqttRole | undefined> {
    try {
      const data = await this.command('getRole', { rolename });
      const role = data['role'] as { rolename: string; acls?: Array<MqttAclRule & { priority?: number }> };
      return { rolename: role.rolename, acls: (role.acls ?? []).map(({ acltype, topic, allow }) => ({ acltype, topic, allow })) };
    } catch (err) {
      if (err instanceof DynsecError && /not found/i.test(err.reason)) return undefined;
      throw err;
    }
  }

  /** Creates the role or makes its ACLs exactly `role.acls` (extra ones removed). */
  async ensureRole(role: MqttRole): Promise<'created' | 'updated' | 'unchanged'> {
    const current = await this.getRole(role.rolename);
    if (!current) {
      await this.command('createRole', { rolename: role.rolename, acls: role.acls.map((a) => ({ ...a, priority: 0 })) });
      return 'created';
    }
    const key = (a: MqttAclRule) => `${a.acltype} ${a.topic}`;
    const want = new Map(role.acls.map((a) => [key(a), a]));
    const have = new Map(current.acls.map((a) => [key(a), a]));
    let changed = false;
    for (const [k, a] of have) {
      const w = want.get(k);
      if (!w || w.allow !== a.allow) {
        await this.command('removeRoleACL', { rolename: role.rolename, acltype: a.acltype, topic: a.topic });
        have.delete(k);
        changed = true;
      }
    }
    for (const [k, a] of want) {
      if (have.has(k)) continue;
      await this.command('addRoleACL', { rolename: role.rolename, ...a, priority: 0 });
      changed = true;
    }
    return changed ? 'updated' : 'unchanged';
  }

  async getClient(username: string): Promise<DynsecClientInfo | undefined> {
    try {
      const data = await this.command('getClient', { username });
      const c = data['client'] as { username: string; roles?: Array<{ rolename: string }>; disabled?: boolean };
      return { username: c.username, roles: (c.roles ?? []).map((r) => r.rolename), disabled: c.disabled ?? false };
    } catch (err) {
      if (err instanceof DynsecError && /not found/i.test(err.reason)) return undefined;
      throw err;
    }
  }

  /**
   * Creates the client with `password`, or, when it exists, makes its roles exactly `spec.roles`
   * and sets the password only with `resetPassword` (changing roles or the password makes the
   * broker disconnect the client's sessions, so an unchanged re-run must not do either).
   */
  async ensureClient(spec: MqttClientSpec, password: string | undefined, resetPassword = false): Promise<'created' | 'updated' | 'unchanged'> {
    const current = await this.getClient(spec.username);
    if (!current) {
      if (password === undefined) throw new Error(`MQTT identity ${spec.username} does not exist and no password was given for it`);
      await this.command('createClient', { username: spec.username, password, roles: spec.roles.map((rolename) => ({ rolename })) });
      return 'created';
    }
    let changed = false;
    if (resetPassword && password !== undefined) {
      await this.command('setClientPassword', { username: spec.username, password });
      changed = true;
    }
    for (const r of current.roles) {
      if (spec.roles.includes(r)) continue;
      await this.command('removeClientRole', { username: spec.username, rolename: r });
      changed = true;
    }
    for (const r of spec.roles) {
      if (current.roles.includes(r)) continue;
      await this.command('addClientRole', { username: spec.username, rolename: r });
      changed = true;
    }
    if (current.disabled) {
      await this.command('enableClient', { username: spec.username });
      changed = true;
    }
    return changed ? 'updated' : 'unchanged';
  }

  /** Deletes a client (its open connections are closed by the broker); false if it did not exist. */
  async deleteClient(username: string): Promise<boolean> {
    try {
      await this.command('deleteClient', { username });
      return true;
    } catch (err) {
      if (err instanceof DynsecError && /not found/i.test(err.reason)) return false;
      throw err;
    }
  }

  async deleteRole(rolename: string): Promise<boolean> {
    try {
      await this.command('deleteRole', { rolename });
      return true;
    } catch (err) {
      if (err instanceof DynsecError && /not found/i.test(err.reason)) return false;
      throw err;
    }
  }

  /** Every client with its roles. */
  async listClients(): Promise<DynsecClientInfo[]> {
    const data = await this.command('listClients', { verbose: true });
    const clients = (data['clients'] ?? []) as Array<{ username: string; roles?: Array<{ rolename: string }>; disabled?: boolean }>;
    return clients.map((c) => ({ username: c.username, roles: (c.roles ?? []).map((r) => r.rolename), disabled: c.disabled ?? false }));
  }
}
