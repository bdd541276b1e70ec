import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { platformAccessStep } from '../support/global-setup';

/**
 * The fault tests need the real brokers plus toxiproxy in front of them (test/infra/toxiproxy.sh),
 * and a Mosquitto that holds no sessions but their own: they read its queue depth and drop
 * counters from $SYS, which sessions other tests left behind would inflate. Nothing is skipped:
 * a component that cannot start fails the run. The brokers run with identities and ACLs as for the
 * integration tests (the same access step).
 */
export default function globalSetup(): void {
  const root = path.resolve(__dirname, '../..');
  const run = (script: string, ...args: string[]) =>
    execFileSync('bash', [path.join(root, 'test/infra', script), ...args], { stdio: 'inherit', cwd: root, timeout: 600_000 });
  try {
    run('up.sh', 'mosquitto', 'kafka', 'toxiproxy');
    run('mosquitto.sh', 'reset');
  } catch (err) {
    throw new Error(`fault-test infrastructure could not be started (${(err as Error).message}); see test/infra/README.md.`);
  }
  platformAccessStep(root);
}
