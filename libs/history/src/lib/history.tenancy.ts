import { z } from 'zod';
import { floorIdSchema } from '@aiot/contracts';
import { HISTORY_SCHEMA } from './history.schema';
import { HISTORY_TABLES } from './history.options';
import type { SqlClient, SqlExecutor } from './sql.client';

/**
 * PostgreSQL-only: per-floor separation with row-level security. edge-local's PGlite is one
 * user in one process, so none of this runs there.
 *
 * - Every data table (raw and rollups) has RLS enabled. The store's owner (the history service's
 *   own role) is not subject to it; everybody else sees only rows a policy grants.
 * - `aiot_history_reader` (no login) sees every floor: the dashboard and Grafana log in as
 *   members of it.
 * - A floor tenant's role gets one policy per table, `floor = '<its floor>'`, and SELECT on the
 *   parent tables only (not on the partitions, which would bypass the parent's policies).
 */
export const READER_ROLE = 'aiot_history_reader';

const roleName = z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'role names are lower-case letters, digits and _ (PostgreSQL identifiers, max 63)');
const password = z.string().min(16, 'history role passwords must be at least 16 characters');

/** Roles to create or update, e.g. from a mounted Secret (`HISTORY_ROLES_FILE`). */
export const historyRolesSchema = z
  .object({
    readers: z.array(z.object({ role: roleName, password }).strict()).default([]),
    floors: z.array(z.object({ floor: floorIdSchema, role: roleName, password }).strict()).default([]),
  })
  .strict();
export type HistoryRoles = z.infer<typeof historyRolesSchema>;

/** The readable tables and the view over them. */
const READABLE = [...HISTORY_TABLES, 'samples'];

/** Default role name of a floor's tenant: `history_floor_3` for `floor-3`. */
export function tenantRoleOf(floor: string): string {
  return `history_${floor.replace(/-/g, '_')}`;
}

async function execFormatted(tx: SqlExecutor, template: string, args: string[]): Promise<void> {
  // format() quotes identifiers (%I) and literals (%L) server-side: no hand-made escaping.
  const { rows } = await tx.query<{ sql: string }>(`SELECT format($1::text, VARIADIC $2::text[]) AS sql`, [template, args]);
  await tx.query(rows[0]!.sql);
}

async function ensureRole(tx: SqlExecutor, role: string, login: { password: string } | undefined): Promise<void> {
  const { rows } = await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_roles WHERE rolname = $1`, [role]);
  const verb = rows[0]?.n ? 'ALTER' : 'CREATE';
  if (login) await execFormatted(tx, `${verb} ROLE %I LOGIN NOINHERIT PASSWORD %L`, [role, login.password]);
  else if (verb === 'CREATE') await execFormatted(tx, 'CREATE ROLE %I NOLOGIN', [role]);
}

/**
 * Enables row-level security, creates the reader group and grants it every floor; then creates
 * (or updates the passwords of) the given reader and floor-tenant login roles. Idempotent; needs
 * the connected role to own the tables and hold CREATEROLE.
 */
export async function installTenancy(db: SqlClient, roles: HistoryRoles = { readers: [], floors: [] }): Promise<void> {
  if (db.dialect !== 'postgres') throw new Error('row-level security and roles need PostgreSQL (not PGlite)');
  await db.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(7310003)`);
    await ensureRole(tx, READER_ROLE, undefined);
    await execFormatted(tx, 'GRANT USAGE ON SCHEMA %I TO %I', [HISTORY_SCHEMA, READER_ROLE]);
    for (const t of HISTORY_TABLES) {
      await tx.query(`ALTER TABLE ${HISTORY_SCHEMA}.${t} ENABLE ROW LEVEL SECURITY`);
      await tx.query(`DROP POLICY IF EXISTS all_floors ON ${HISTORY_SCHEMA}.${t}`);
      await tx.query(`CREATE POLICY all_floors ON ${HISTORY_SCHEMA}.${t} FOR SELECT TO ${READER_ROLE} USING (true)`);
    }
    for (const t of READABLE) await tx.query(`GRANT SELECT ON ${HISTORY_SCHEMA}.${t} TO ${READER_ROLE}`);

    for (const r of roles.readers) {
      // Readers inherit the group's rights (INHERIT); tenants have nothing to inherit.
      await ensureRole(tx, r.role, { password: r.password });
      await execFormatted(tx, 'ALTER ROLE %I INHERIT', [r.role]);
      await execFormatted(tx, 'GRANT %I TO %I', [READER_ROLE, r.role]);
    }
    for (const f of roles.floors) await grantFloor(tx, f.role, f.floor, f.password);
  });
}

/** A login role that reads exactly one floor's rows. */
async function grantFloor(tx: SqlExecutor, role: string, floor: string, pw: string): Promise<void> {
  await ensureRole(tx, role, { password: pw });
  await execFormatted(tx, 'GRANT USAGE ON SCHEMA %I TO %I', [HISTORY_SCHEMA, role]);
  for (const t of HISTORY_TABLES) {
    const policy = `floor_${role}`.slice(0, 63);
    await execFormatted(tx, `DROP POLICY IF EXISTS %I ON ${HISTORY_SCHEMA}.${t}`, [policy]);
    await execFormatted(tx, `CREATE POLICY %I ON ${HISTORY_SCHEMA}.${t} FOR SELECT TO %I USING (floor = %L)`, [policy, role, floor]);
  }
  for (const t of READABLE) await execFormatted(tx, `GRANT SELECT ON ${HISTORY_SCHEMA}.${t} TO %I`, [role]);
}
