/**
 * `npm run bench`: runs each benchmark in its own process (so one's heap and threads do not skew
 * the next) and prints their JSON. Select with BENCH=pipeline,inference.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const all = ['pipeline', 'inference', 'security-cost'];
const chosen = (process.env['BENCH'] ?? all.join(',')).split(',').map((s) => s.trim()).filter(Boolean);
for (const name of chosen) {
  const file = path.join(__dirname, `${name}.bench.js`);
  if (!existsSync(file)) {
    console.error(`bench: ${name} is not built (${file} missing)`);
    process.exitCode = 1;
    continue;
  }
  execFileSync(process.execPath, [file], { stdio: 'inherit' });
}
