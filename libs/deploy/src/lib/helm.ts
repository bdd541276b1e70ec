// Running helm. The runner is injected so that the CLI (execa) and the tests (a runner on
// child_process: execaRunner's dynamic import() of the ESM-only execa 9 needs
// --experimental-vm-modules under jest, and jest.config.js does not transform execa) share the same code.
import { existsSync } from 'node:fs';
import path from 'node:path';

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Called with each output line while the command runs (progress). */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  env?: Record<string, string>;
}

export type Runner = (command: string, args: string[], opts?: RunOptions) => Promise<RunResult>;

/** The default runner: execa 9, an ES module, loaded with a dynamic import() that SWC leaves alone. */
export const execaRunner: Runner = async (command, args, opts = {}) => {
  const { execa } = await import('execa');
  const child = execa(command, args, { reject: false, all: false, env: opts.env, stdin: 'ignore' });
  if (opts.onLine) {
    const onLine = opts.onLine;
    const lines = (stream: 'stdout' | 'stderr') => {
      let buf = '';
      return (chunk: Buffer) => {
        buf += chunk.toString();
        const parts = buf.split('\n');
        buf = parts.pop() ?? '';
        for (const l of parts) onLine(l, stream);
      };
    };
    child.stdout?.on('data', lines('stdout'));
    child.stderr?.on('data', lines('stderr'));
  }
  const r = await child;
  if (r.failed && r.exitCode === undefined) {
    // Not started at all (e.g. ENOENT): say which binary is missing.
    const cause = (r as { cause?: { code?: string } }).cause;
    const code = cause?.code ?? (r as { code?: string }).code;
    throw new HelmError(
      code === 'ENOENT' ? `${command} not found: install it (bash test/infra/install.sh tools builds helm into .infra/bin) or pass --helm <path>` : `${command} could not be started: ${r.shortMessage}`,
      `${command} ${args.join(' ')}`,
      '',
    );
  }
  return { exitCode: r.exitCode ?? 1, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
};

export class HelmError extends Error {
  constructor(
    message: string,
    readonly command: string,
    readonly stderr: string,
  ) {
    super(message);
  }
}

/** Finds helm: explicit path, $HELM, <repo>/.infra/bin/helm, else `helm` on PATH. */
export function findHelm(repoRoot: string, explicit?: string): string {
  if (explicit) return explicit;
  if (process.env['HELM']) return process.env['HELM'];
  const local = path.join(repoRoot, '.infra', 'bin', 'helm');
  return existsSync(local) ? local : 'helm';
}

/** Runs helm and turns a non-zero exit into a HelmError that carries helm's own message. */
export async function helm(run: Runner, helmBin: string, args: string[], opts?: RunOptions): Promise<RunResult> {
  const r = await run(helmBin, args, opts);
  if (r.exitCode !== 0) {
    const msg = (r.stderr || r.stdout).trim().split('\n').filter(Boolean);
    throw new HelmError(`helm ${args[0]} failed (exit ${r.exitCode}):\n  ${msg.join('\n  ') || '(no output)'}`, `${helmBin} ${args.join(' ')}`, r.stderr);
  }
  return r;
}
