import os from 'node:os';

/** The machine's conditions, printed with every benchmark so figures can be compared honestly. */
export function machineConditions(): Record<string, unknown> {
  return {
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100),
    totalMemMiB: Math.round(os.totalmem() / 2 ** 20),
    freeMemMiB: Math.round(os.freemem() / 2 ** 20),
    at: new Date().toISOString(),
  };
}
