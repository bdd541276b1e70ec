// edgectl: operator CLI for the AIoT stack on K3s (logic in libs/deploy).
import { runCli } from '@aiot/deploy';

runCli(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`edgectl: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
