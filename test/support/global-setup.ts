import { execFileSync } from 'node:child_process';
import path from 'node:path';

/**
 * Starts the real brokers (Debian's Mosquitto and Apache Kafka in KRaft mode) before the
 * integration and e2e projects. The scripts are idempotent, so a second project reuses them.
 * A broker that cannot start fails the run: these tests are never skipped.
 */
export default function globalSetup(): void {
  const root = path.resolve(__dirname, '../..');
  try {
    execFileSync('bash', [path.join(root, 'test/infra/up.sh')], { stdio: 'inherit', cwd: root, timeout: 600_000 });
  } catch (err) {
    throw new Error(
      `real brokers could not be started (test/infra/up.sh failed: ${(err as Error).message}). ` +
        'Integration tests need Mosquitto and Kafka; see test/infra/README.md.',
    );
  }
}
