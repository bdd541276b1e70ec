import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';

/**
 * Paths that stay open with authentication on: Kubernetes probes (/health/*, KServe v2's
 * /v2/health/*) and Prometheus (/metrics). Network policy limits who reaches them.
 */
export const OPEN_PATHS = [/^\/health(\/|$)/, /^\/v2\/health(\/|$)/, /^\/metrics$/];

/** `HTTP_AUTH_TOKEN_FILE`: a mounted Secret with the token; unset = no authentication. */
export const httpAuthEnvShape = {
  HTTP_AUTH_TOKEN_FILE: z.string().min(1).optional(),
};

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * Accepts `Authorization: Bearer <token>` (API clients, the Triton client's headers) and
 * `Authorization: Basic <base64(any-user:token)>` (RFC 7617; browsers prompt for it and send it
 * with page loads and the dashboard's event stream, which cannot set headers). Compared in
 * constant time over SHA-256 digests, so neither content nor length leaks through timing.
 */
export function isAuthorized(header: string | undefined, token: string): boolean {
  if (!header) return false;
  const [scheme, value = ''] = header.trim().split(/\s+/, 2);
  let offered: string | undefined;
  if (scheme?.toLowerCase() === 'bearer') offered = value;
  else if (scheme?.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    offered = colon >= 0 ? decoded.slice(colon + 1) : undefined;
  }
  return offered !== undefined && timingSafeEqual(digest(offered), digest(token));
}

/** Reads the token once at start-up: a missing or empty file fails the start. */
export function readAuthToken(file: string): string {
  let token: string;
  try {
    token = readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new Error(`HTTP_AUTH_TOKEN_FILE: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (token.length < 16) throw new Error(`HTTP_AUTH_TOKEN_FILE: ${file} holds ${token.length ? 'a token shorter than 16 characters' : 'no token'}`);
  return token;
}

/** Express/Connect middleware answering 401 with both challenges for everything but OPEN_PATHS. */
export function httpAuthMiddleware(token: string, realm = 'aiot'): (req: IncomingMessage, res: ServerResponse, next: () => void) => void {
  return (req, res, next) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (OPEN_PATHS.some((p) => p.test(path)) || isAuthorized(req.headers.authorization, token)) {
      next();
      return;
    }
    res.statusCode = 401;
    res.setHeader('WWW-Authenticate', [`Basic realm="${realm}", charset="UTF-8"`, `Bearer realm="${realm}"`]);
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ error: 'authentication required: Authorization: Bearer <token>' }));
  };
}
