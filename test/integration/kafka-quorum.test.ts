// A site grows Kafka from 1 to 3 nodes: the chart's own start script (ConfigMap start.sh) and
// server.properties, run on this machine's Kafka jars. The first install's node 0 formats a
// standalone quorum; after `helm upgrade --set kafka.replicas=3` node 0 restarts with the new
// config and nodes 1 and 2 format without voters and join the running quorum by themselves
// (controller.quorum.auto.join.enable), so the quorum ends with three voters. Only what cannot
// exist outside a pod is replaced: the pod DNS names and the shared ports become 127.0.0.1 and
// three ports per node, the data directory is a temp dir, and the TLS material and passwords come
// from the test PKI and a temp credentials dir. The chart's security stays as it is: every
// listener SASL_SSL (SCRAM-SHA-512 for clients and between brokers, PLAIN for the controllers),
// and the quorum is asked as the controller identity over TLS.
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { DEFAULT_KUBE_VERSION, findLayout, parseManifests } from '@aiot/deploy';
import { REPO_ROOT } from '../support/brokers';
import { freePort } from '../support/ports';

const layout = findLayout(REPO_ROOT);
const infra = process.env['AIOT_INFRA_DIR'] ?? path.join(REPO_ROOT, '.infra');
const libs = path.join(infra, 'kafka', 'libs');
const helmBin = path.join(infra, 'bin', 'helm');
const pki = path.join(infra, 'pki');
const javaOpts = ['-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Djava.awt.headless=true'];


/** The kafka ConfigMap's data as helm renders it for these values. */
function kafkaConfig(args: string[]): Record<string, string> {
  const r = spawnSync(helmBin, ['template', 'aiot-platform', layout.platformChart, '-n', 'aiot-system', '--kube-version', DEFAULT_KUBE_VERSION, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return parseManifests(r.stdout).find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'aiot-platform-kafka-config')!['data'] as Record<string, string>;
}

interface Node {
  ordinal: number;
  port: number;
  internal: number;
  controller: number;
  dir: string;
  proc?: ChildProcess;
  /** The last lines of its output. */
  out: string[];
  /** Whether its start formatted the storage (kafka-storage format's first line of output). */
  formatted: boolean;
}

describe('Kafka quorum grows from 1 to 3 nodes with the chart\'s start script', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'aiot-kraft-'));
  const home = path.join(root, 'kafka-home');
  // The chart generates the cluster id as 22 random letters and digits (randAlphaNum 22).
  const alnum = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const clusterId = Array.from({ length: 22 }, () => alnum[randomInt(alnum.length)]).join('');
  const nodes: Node[] = [];
  const log4j = path.join(root, 'log4j2.properties');
  const credentials = path.join(root, 'credentials');
  const controllerPassword = randomBytes(18).toString('base64url');
  const controllerClient = path.join(root, 'controller-client.properties');

  beforeAll(async () => {
    if (!existsSync(libs)) throw new Error(`Kafka jars missing in ${libs}: bash test/infra/install.sh kafka`);
    if (!existsSync(helmBin)) throw new Error(`helm missing in ${helmBin}: bash test/infra/install.sh tools`);
    if (!existsSync(path.join(pki, 'server.pem'))) throw new Error(`test PKI missing in ${pki}: bash test/infra/kafka.sh start`);
    // The credentials Secret's files that start.sh reads (the chart mounts them the same way).
    mkdirSync(credentials, { recursive: true, mode: 0o700 });
    for (const id of ['admin', 'aiot.bridge', 'aiot.inference', 'aiot.dashboard', 'aiot.history']) writeFileSync(path.join(credentials, `kafka-${id}`), randomBytes(18).toString('base64url'));
    writeFileSync(path.join(credentials, 'kafka-controller'), controllerPassword);
    writeFileSync(
      controllerClient,
      [
        'security.protocol=SASL_SSL',
        'sasl.mechanism=PLAIN',
        `sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="aiot.controller" password="${controllerPassword}";`,
        'ssl.truststore.type=PEM',
        `ssl.truststore.location=${path.join(pki, 'ca.crt')}`,
        '',
      ].join('\n'),
    );
    // The two scripts of the image's /opt/kafka/bin that start.sh calls, on the local jars.
    mkdirSync(path.join(home, 'bin'), { recursive: true });
    const java = `exec java ${javaOpts.join(' ')} -Dlog4j2.configurationFile=${log4j} -cp '${libs}/*'`;
    writeFileSync(path.join(home, 'bin', 'kafka-storage.sh'), `#!/bin/bash\n${java} kafka.tools.StorageTool "$@"\n`);
    writeFileSync(path.join(home, 'bin', 'kafka-server-start.sh'), `#!/bin/bash\n${java} kafka.Kafka "$@"\n`);
    for (const f of ['kafka-storage.sh', 'kafka-server-start.sh']) chmodSync(path.join(home, 'bin', f), 0o755);
    writeFileSync(log4j, 'status = warn\nappender.out.type = Console\nappender.out.name = out\nappender.out.layout.type = PatternLayout\nappender.out.layout.pattern = [%d] %p %m (%c)%n\nrootLogger.level = INFO\nrootLogger.appenderRef.out.ref = out\n');
    for (let i = 0; i < 3; i++) nodes.push({ ordinal: i, port: await freePort(), internal: await freePort(), controller: await freePort(), dir: path.join(root, `kafka-${i}`), out: [], formatted: false });
  });

  afterAll(async () => {
    await Promise.all(nodes.map((n) => stop(n)));
    rmSync(root, { recursive: true, force: true });
  }, 90_000);

  /** Writes the node's template dir: the chart's files with pod names and ports made local. */
  function template(n: Node, data: Record<string, string>): string {
    const dir = path.join(n.dir, 'template');
    mkdirSync(path.join(n.dir, 'work'), { recursive: true });
    mkdirSync(dir, { recursive: true });
    let props = data['server.properties'];
    for (const other of nodes) props = props.split(`aiot-platform-kafka-${other.ordinal}.aiot-platform-kafka-headless.aiot-system.svc.cluster.local:9093`).join(`127.0.0.1:${other.controller}`);
    const endpoints = `CLIENT://127.0.0.1:${n.port},INTERNAL://127.0.0.1:${n.internal},CONTROLLER://127.0.0.1:${n.controller}`;
    props = props
      .replace(/^listeners=.*$/m, `listeners=${endpoints}`)
      .replace(/^advertised\.listeners=.*$/m, `advertised.listeners=${endpoints}`)
      .replace(/^log\.dirs=.*$/m, `log.dirs=${path.join(n.dir, 'data', 'logs')}`)
      .split('/var/run/kafka/keystore/kafka.pem').join(path.join(pki, 'server.pem'))
      .split('/var/run/kafka/tls/ca.crt').join(path.join(pki, 'ca.crt'));
    expect(props).not.toMatch(/svc\.cluster\.local|__POD_NAME__|\/var\/run\/kafka/);
    expect(props).toMatch(/^listener\.security\.protocol\.map=CLIENT:SASL_SSL,INTERNAL:SASL_SSL,CONTROLLER:SASL_SSL$/m);
    expect(props).toMatch(/^authorizer\.class\.name=org\.apache\.kafka\.metadata\.authorizer\.StandardAuthorizer$/m);
    writeFileSync(path.join(dir, 'server.properties'), props);
    writeFileSync(path.join(dir, 'bootstrap-mode'), data['bootstrap-mode']);
    writeFileSync(path.join(dir, 'start.sh'), data['start.sh']);
    return dir;
  }

  function start(n: Node, data: Record<string, string>): void {
    const dir = template(n, data);
    n.proc = spawn('/bin/bash', [path.join(dir, 'start.sh')], {
      env: { PATH: process.env['PATH'] ?? '', POD_NAME: `aiot-platform-kafka-${n.ordinal}`, KAFKA_CLUSTER_ID: clusterId, KAFKA_HOME: home, KAFKA_TEMPLATE_DIR: dir, KAFKA_WORK_DIR: path.join(n.dir, 'work'), KAFKA_CREDENTIALS_DIR: credentials },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    n.formatted = false;
    // Whole lines only: a pipe chunk can end mid-line, which would hide the format line.
    const keep = (line: string) => {
      if (/^Formatting .* with metadata\.version/.test(line)) n.formatted = true;
      n.out.push(line);
      if (n.out.length > 400) n.out.splice(0, n.out.length - 400);
    };
    createInterface({ input: n.proc.stdout! }).on('line', keep);
    createInterface({ input: n.proc.stderr! }).on('line', keep);
  }

  async function stop(n: Node): Promise<void> {
    const p = n.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    const t = setTimeout(() => p.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(t);
  }

  /**
   * Voter node ids of the quorum, as the controllers report them (undefined while unreachable).
   * Asynchronous on purpose: a synchronous spawn would block the event loop, so the nodes' output
   * (the format line) could still sit unread in the pipe when the voters already answer.
   */
  async function voters(): Promise<number[] | undefined> {
    const args = [...javaOpts, `-Dlog4j2.configurationFile=${log4j}`, '-cp', `${libs}/*`, 'org.apache.kafka.tools.MetadataQuorumCommand', '--bootstrap-controller', nodes.map((n) => `127.0.0.1:${n.controller}`).join(','), '--command-config', controllerClient, 'describe', '--status'];
    const stdout = await new Promise<string | undefined>((resolve) => {
      execFile('java', args, { encoding: 'utf8', timeout: 30_000 }, (err, out) => resolve(err ? undefined : out));
    });
    const m = stdout === undefined ? null : /CurrentVoters:\s*(\[.*\])/.exec(stdout);
    if (!m) return undefined;
    return (JSON.parse(m[1]) as { id: number }[]).map((v) => v.id).sort();
  }

  async function waitVoters(want: number[], timeoutMs: number): Promise<number[] | undefined> {
    const deadline = Date.now() + timeoutMs;
    let last: number[] | undefined;
    while (Date.now() < deadline) {
      for (const n of nodes) if (n.proc && n.proc.exitCode !== null) throw new Error(`kafka-${n.ordinal} exited ${n.proc.exitCode}:\n${n.out.slice(-30).join('\n')}`);
      last = await voters();
      if (JSON.stringify(last) === JSON.stringify(want)) return last;
      await new Promise((r) => setTimeout(r, 4000)); // each check starts a JVM: poll gently
    }
    return last;
  }

  it('first install, one node: node 0 formats a standalone quorum of itself', async () => {
    const first = kafkaConfig(['--set', 'kafka.replicas=1']);
    expect(first['bootstrap-mode']).toBe('standalone');
    start(nodes[0], first);
    expect(await waitVoters([0], 120_000)).toEqual([0]);
    expect(nodes[0].formatted).toBe(true);
  }, 150_000);

  it('upgrade to three nodes: the new nodes join as voters, node 0 keeps its data', async () => {
    // The cluster-id Secret exists now, so the chart renders join mode; replicas=3 changes the
    // pod template, so the StatefulSet restarts node 0 while it creates nodes 1 and 2.
    const grown = kafkaConfig(['--set', 'kafka.replicas=3', '--set', 'kafka.quorum.bootstrap=join']);
    expect(grown['bootstrap-mode']).toBe('join');
    await stop(nodes[0]);
    for (const n of nodes) start(n, grown);
    expect(await waitVoters([0, 1, 2], 240_000)).toEqual([0, 1, 2]);
    expect(nodes.map((n) => n.formatted)).toEqual([false, true, true]); // node 0 kept its storage
  }, 300_000);
});
