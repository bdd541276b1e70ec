import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { REPO_ROOT } from './brokers';

/** The test server started by test/infra/postgres.sh (loopback, superuser `postgres`). */
export const PG_PORT = Number(process.env['AIOT_TEST_PG_PORT'] ?? '15432');

function superuserPassword(): string {
  const dir = process.env['AIOT_INFRA_DIR'] ?? path.join(REPO_ROOT, '.infra');
  return readFileSync(path.join(dir, 'postgres', 'password'), 'utf8').trim();
}

/** libpq URI of `database` on the test server, as `user` (default the superuser). */
export function pgUrl(database: string, user = 'postgres', password = superuserPassword()): string {
  return `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${PG_PORT}/${database}`;
}

/** Runs statements as the superuser on `database` (default `postgres`). */
export async function asSuperuser<T>(fn: (c: Client) => Promise<T>, database = 'postgres'): Promise<T> {
  const c = new Client({ connectionString: pgUrl(database) });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export interface TestDatabase {
  name: string;
  /** Owner role of the database (what the history service connects as): not a superuser. */
  owner: string;
  ownerPassword: string;
  url: string;
  drop(): Promise<void>;
}

/**
 * A fresh database owned by a fresh non-superuser role with CREATEROLE, like the cluster's
 * history service role, so row-level security applies to everyone but the owner.
 */
export async function createTestDatabase(prefix: string): Promise<TestDatabase> {
  const suffix = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  const name = `${prefix}_${suffix}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  const owner = `${name}_owner`;
  const ownerPassword = `pw-${suffix}-owner-secret`;
  await asSuperuser(async (c) => {
    await c.query(`CREATE ROLE ${owner} LOGIN CREATEROLE PASSWORD '${ownerPassword}'`);
    await c.query(`CREATE DATABASE ${name} OWNER ${owner}`);
  });
  return {
    name,
    owner,
    ownerPassword,
    url: pgUrl(name, owner, ownerPassword),
    drop: () =>
      asSuperuser(async (c) => {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        // Roles the tests created for this database (tenants, readers) go with it.
        const { rows } = await c.query<{ rolname: string }>(`SELECT rolname FROM pg_roles WHERE rolname LIKE $1 OR rolname = $2`, [`${name}%`, owner]);
        for (const r of rows) if (r.rolname !== owner) await c.query(`DROP ROLE IF EXISTS "${r.rolname}"`);
        await c.query(`DROP ROLE IF EXISTS ${owner}`);
      }),
  };
}
