// kafkajs vs @platformatic/kafka on the same broker in one run: CPU seconds per 10k records and
// rate, producing (batches of 500, acks=all, no compression, key and one header per record, as the
// bridge writes) and consuming (as ingest reads). Not part of `npm run bench`: @platformatic/kafka
// is not a dependency (the project keeps kafkajs, see README "Performance"). To re-run:
//   npm install --no-save @platformatic/kafka@1.35.0
//   node test/bench/kafka-clients.compare.mjs      (test brokers up: test/infra/up.sh kafka)
import { Producer, Consumer, stringSerializers, stringDeserializers, Admin } from '@platformatic/kafka';
import kafkajs from 'kafkajs';
const { Kafka, logLevel } = kafkajs;
const brokers = [`127.0.0.1:${process.env.AIOT_TEST_KAFKA_PORT ?? '19092'}`];
const N = 20000, B = 500;
const topic = 'pk-bench-' + Date.now().toString(36);
const kjs = new Kafka({ clientId: 'kjs', brokers, logLevel: logLevel.NOTHING });
const admin = kjs.admin(); await admin.connect();
await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 3, replicationFactor: 1 }] });
await new Promise(r => setTimeout(r, 1500));
const value = '{"deviceId":"bench-r01-temperature","ts":1764470000000,"seq":1700000000,"metrics":{"temperature":21.53}}';
const batch = (i) => Array.from({ length: B }, (_, k) => ({ key: 'dev-' + ((i + k) % 250), value, headers: { 'aiot-mqtt-topic': 'aiot/bench/f1/r01/dev-' + ((i + k) % 250) + '/telemetry' } }));
const kp = kjs.producer(); await kp.connect();
const pp = new Producer({ clientId: 'pk', bootstrapBrokers: brokers, serializers: stringSerializers, acks: -1 , autocreateTopics: false });
async function run(name, send) {
  const c0 = process.cpuUsage(); const t0 = performance.now();
  for (let i = 0; i < N; i += B) await send(batch(i));
  const c = process.cpuUsage(c0); const s = (performance.now() - t0) / 1000;
  return { name, perSec: Math.round(N / s), cpuPer10k: +(((c.user + c.system) / 1e6) / N * 1e4).toFixed(3) };
}
const res = [];
for (let rep = 0; rep < 3; rep++) {
  res.push(await run('kafkajs', (m) => kp.send({ topic, messages: m, acks: -1 })));
  res.push(await run('platformatic', (m) => pp.send({ messages: m.map((x) => ({ ...x, topic })), acks: -1 })));
}
console.log(JSON.stringify(res));
// consume
async function consumeKjs() {
  const c = kjs.consumer({ groupId: 'g-kjs-' + topic }); await c.connect(); await c.subscribe({ topics: [topic], fromBeginning: true });
  let n = 0; const c0 = process.cpuUsage(); const t0 = performance.now();
  await new Promise((resolve) => c.run({ eachBatch: async ({ batch }) => { for (const m of batch.messages) { m.value.toString(); n++; } if (n >= 3 * N * 2) resolve(); } }));
  const cu = process.cpuUsage(c0); const s = (performance.now() - t0) / 1000; await c.disconnect();
  return { name: 'kafkajs-consume', perSec: Math.round(n / s), cpuPer10k: +(((cu.user + cu.system) / 1e6) / n * 1e4).toFixed(3) };
}
async function consumePk() {
  const c = new Consumer({ groupId: 'g-pk-' + topic, clientId: 'pkc', bootstrapBrokers: brokers, deserializers: stringDeserializers });
  const stream = await c.consume({ autocommit: false, topics: [topic], mode: 'earliest' });
  let n = 0; const c0 = process.cpuUsage(); const t0 = performance.now();
  for await (const m of stream) { n++; if (n >= 3 * N * 2) break; }
  const cu = process.cpuUsage(c0); const s = (performance.now() - t0) / 1000; await stream.close(); await c.close();
  return { name: 'platformatic-consume', perSec: Math.round(n / s), cpuPer10k: +(((cu.user + cu.system) / 1e6) / n * 1e4).toFixed(3) };
}
console.log(JSON.stringify([await consumeKjs(), await consumePk()]));
await kp.disconnect(); await pp.close(); await admin.disconnect();
process.exit(0);
