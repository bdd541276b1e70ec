/** Renders a benchmark run (bench/results/<date>.json) as Markdown tables, with the targets. */
import type { Summary } from './stats';

interface Doc {
  mode: string;
  reps: number;
  startedAt: string;
  seconds: number;
  machine: { before: Record<string, unknown>; after: Record<string, unknown> };
  versions: Record<string, string | undefined>;
  results: Record<string, unknown>;
}

type Sum = Summary | undefined;
interface RepeatedMs {
  p50: Summary;
  p95: Summary;
  max: Summary;
  runsPerRep: number;
  reps: number;
}

const n = (v: number, digits = 3) => {
  if (!Number.isFinite(v)) return '—';
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  return String(Number(v.toPrecision(digits)));
};
const fmt = (s: Sum, digits = 3) => (s && s.n > 0 ? `${n(s.median, digits)} (${n(s.min, digits)}–${n(s.max, digits)})` : '—');
const check = (ok: boolean | undefined) => (ok === undefined ? '—' : ok ? 'met' : '**missed**');

function target(label: string, s: Sum, limit: number, dir: '≥' | '≤'): string {
  const ok = s && s.n > 0 ? (dir === '≥' ? s.median >= limit : s.median <= limit) : undefined;
  return `| ${label} | ${fmt(s)} | ${dir} ${limit} | ${check(ok)} |`;
}

export function renderMarkdown(doc: Doc): string {
  const out: string[] = [];
  const m = doc.machine.before;
  const after = doc.machine.after;
  out.push(`## Benchmark ${doc.startedAt} (${doc.mode}, ${doc.reps} repetitions, ${doc.seconds} s)`);
  out.push('');
  out.push(
    `Machine: ${String(m['cpus'])} × ${String(m['cpuModel'])}, ${String(m['totalMemMiB'])} MiB; load average ${JSON.stringify(m['loadavg'])} before, ${JSON.stringify(after['loadavg'])} after. ` +
      `Versions: ${Object.entries(doc.versions)
        .filter(([, v]) => v)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}.`,
  );
  out.push('');
  out.push('Figures are medians of the repetitions with their range (min–max); ratios are taken within each repetition, then summarised.');
  const r = doc.results as Record<string, Record<string, unknown> | undefined>;
  const targets: string[] = [];

  const bridge = r['bridge'] as
    | { readings: number; recordBytes: number; paths: Record<string, { perSec: Sum; cpuSecPer10k: Sum; peakRssMB: Sum }>; ratios: Record<string, Sum>; error?: string }
    | undefined;
  if (bridge?.paths) {
    out.push('', `### Bridge: ${n(bridge.readings)} QoS 1 readings of ${bridge.recordBytes} bytes, 250 devices`, '');
    out.push('| path | readings/s | CPU s per 10k readings | peak RSS (MB) |', '| --- | --- | --- | --- |');
    const names: Record<string, string> = {
      broker: 'Mosquitto → counting mqtt.js subscriber (broker ceiling)',
      kafka: 'kafka-producer-perf-test, acks=all (Kafka ceiling)',
      bridge: 'message-broker-bridge process → Kafka (acks all)',
      telegraf: 'Telegraf mqtt_consumer → kafka (acks all)',
    };
    for (const [k, p] of Object.entries(bridge.paths)) out.push(`| ${names[k] ?? k} | ${fmt(p.perSec)} | ${k === 'kafka' ? '—' : fmt(p.cpuSecPer10k)} | ${k === 'kafka' ? '—' : fmt(p.peakRssMB)} |`);
    targets.push(
      target('bridge rate / Telegraf rate', bridge.ratios['bridge_vs_telegraf_rate'], 1, '≥'),
      target('bridge CPU per reading / Telegraf', bridge.ratios['bridge_vs_telegraf_cpu_per_reading'], 1, '≤'),
      target('bridge rate / min(broker, Kafka ceiling)', bridge.ratios['bridge_vs_min_ceiling'], 0.7, '≥'),
      target('bridge peak RSS (MB)', bridge.paths['bridge']?.peakRssMB, 80, '≤'),
    );
  } else if (bridge?.error) out.push('', `### Bridge: failed (${bridge.error})`);

  const e2e = r['e2e'] as
    | {
        building: { floors: number; rooms: number; sensors: number };
        stepSeconds: number;
        sustainedPerSec: number;
        steps: Array<{ offered: number; achievedPerSec: number; published: number; delivered: number; lost: number; clean: { p50: number; p99: number; max: number }; prediction: { p50: number; p99: number; max: number; n: number }; pass: boolean; why?: string; cpuSeconds: Record<string, number>; hops?: Record<string, { min: number; p50: number; p99: number }> }>;
        memory: { idleRssMB: Record<string, number>; peakRssUnderLoadMB: Record<string, number> };
        error?: string;
      }
    | undefined;
  if (e2e?.steps) {
    const b = e2e.building;
    out.push('', `### End to end: ${b.floors} floors × ${b.rooms} rooms × ${b.sensors} sensors, separate processes, ${e2e.stepSeconds} s per step`, '');
    out.push(
      '| offered/s | delivered/s | lost or late | publish → clean p50 / p99 / max (ms) | publish → prediction p50 / p99 / max (ms, from window end) | result | busiest processes (CPU s in the step) |',
      '| --- | --- | --- | --- | --- | --- | --- |',
    );
    for (const s of e2e.steps) {
      const busiest = Object.entries(s.cpuSeconds)
        .sort((a, b2) => b2[1] - a[1])
        .slice(0, 3)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
      const pred = s.prediction.n > 0 ? `${s.prediction.p50} / ${s.prediction.p99} / ${s.prediction.max}` : '—';
      out.push(`| ${n(s.offered)} | ${n(s.achievedPerSec)} | ${s.lost} | ${s.clean.p50} / ${s.clean.p99} / ${s.clean.max} | ${pred} | ${s.pass ? 'pass' : `fail: ${s.why}`} | ${busiest} |`);
    }
    const withHops = e2e.steps.filter((s) => s.hops);
    if (withHops.length > 0) {
      const hop = (h: { min: number; p50: number; p99: number } | undefined) => (h ? `${h.min} / ${h.p50} / ${h.p99}` : '—');
      out.push(
        '',
        'Publish → clean by hop, from the records\' own timestamps (min / p50 / p99, ms):',
        '',
        '| offered/s | publish → bridge receive | bridge receive → clean written | clean written → measured |',
        '| --- | --- | --- | --- |',
      );
      for (const s of withHops) out.push(`| ${n(s.offered)} | ${hop(s.hops!['publishToBridge'])} | ${hop(s.hops!['bridgeToCleanWritten'])} | ${hop(s.hops!['cleanWrittenToMeasured'])} |`);
    }
    const sustained = e2e.sustainedPerSec;
    targets.push(`| end to end sustained readings/s (p99 publish → clean ≤ 250 ms, nothing lost) | ${n(sustained)} | ≥ 20,000 | ${check(sustained >= 20_000)} |`);
    out.push('', '| service | RSS idle (MB) | peak RSS under load (MB) |', '| --- | --- | --- |');
    for (const [k, v] of Object.entries(e2e.memory.idleRssMB)) out.push(`| ${k} | ${v} | ${e2e.memory.peakRssUnderLoadMB[k] ?? '—'} |`);
    const worst = Math.max(...Object.values(e2e.memory.peakRssUnderLoadMB));
    targets.push(`| largest service RSS under load (MB) | ${worst} | ≤ 150 | ${check(worst <= 150)} |`);
  } else if (e2e?.error) out.push('', `### End to end: failed (${e2e.error})`);

  const inf = r['inference'] as
    | { model: string; engine: { workers: number; maxBatch: number }; results: Record<string, { rowsPerSec: Sum; p99Ms: Sum; cpuUsPerRow?: Sum; vsRaw?: Sum }>; error?: string }
    | undefined;
  if (inf?.results) {
    out.push('', `### Inference: ${inf.model}; engine ${inf.engine.workers} worker(s), max batch ${inf.engine.maxBatch}`, '');
    out.push('| batch | path | rows/s | p99 per call (ms) | server CPU µs per row | rows/s ÷ raw |', '| --- | --- | --- | --- | --- | --- |');
    for (const [k, v] of Object.entries(inf.results)) {
      const [mode, batch] = k.split('@');
      out.push(`| ${batch} | ${mode} | ${fmt(v.rowsPerSec)} | ${fmt(v.p99Ms)} | ${fmt(v.cpuUsPerRow)} | ${v.vsRaw ? fmt(v.vsRaw) : '1'} |`);
    }
    targets.push(target('inference engine / raw at batch 256', inf.results['engine@256']?.vsRaw, 0.8, '≥'), target('REST binary / raw at batch 256', inf.results['rest-binary@256']?.vsRaw, 0.5, '≥'));
  } else if (inf?.error) out.push('', `### Inference: failed (${inf.error})`);

  const mem = r['memory'] as { edgeLocal: { building: string; peakRssMB: Sum; finalRssMB: Sum; cpuShare: Sum }; error?: string } | undefined;
  if (mem?.edgeLocal) {
    out.push('', `### edge-local (${mem.edgeLocal.building})`, '', '| peak RSS (MB) | RSS at the end (MB) | CPU (cores) |', '| --- | --- | --- |');
    out.push(`| ${fmt(mem.edgeLocal.peakRssMB)} | ${fmt(mem.edgeLocal.finalRssMB)} | ${fmt(mem.edgeLocal.cpuShare)} |`);
    targets.push(target('edge-local peak RSS (MB)', mem.edgeLocal.peakRssMB, 250, '≤'));
  } else if (mem?.error) out.push('', `### edge-local: failed (${mem.error})`);

  const tr = r['transport'] as
    | { records: number; recordBytes: number; paths: { direct: { perSec: Sum }; transport: { perSec: Sum } }; ratios: { transportVsDirect: Sum }; error?: string }
    | undefined;
  if (tr?.paths) {
    out.push('', `### Event-bus transport: ${n(tr.records)} records of ${tr.recordBytes} bytes, in-process bus`, '', '| path | records/s |', '| --- | --- |');
    out.push(`| direct EventBus subscription (before) | ${fmt(tr.paths.direct.perSec)} |`, `| @EventPattern on EventBusServer (after) | ${fmt(tr.paths.transport.perSec)} |`);
    out.push('', `Ratio after/before (per repetition): ${fmt(tr.ratios.transportVsDirect)}.`);
  } else if (tr?.error) out.push('', `### Event-bus transport: failed (${tr.error})`);

  const hist = r['history'] as
    | {
        writer?: {
          building: string;
          e2eRate: { mustMatchPerSec: number; source: string; targetPerSec: number };
          stepSeconds: number;
          steps: Array<{ offeredPerSec: number; pipelinePerSec: number; rowsWritten: number; batches: number; meanBatchRows: number; meanLagMs: number | null; lagP99AtMostS?: number; batchesWithin1s: string; writerBusyShare: number; pass: boolean; why?: string }>;
          sustainedOfferedPerSec: number;
          atE2eRate: { offeredPerSec: number; meanLagMs: number | null; lagP99AtMostS?: number; pass: boolean } | null;
          ratioWriterToPlainInsert: number | null;
        };
        queries?: {
          building: string;
          loaded: Record<string, number>;
          loadSeconds: Record<string, number>;
          rollupJob: { days: number; buckets: number; seconds: number; bucketsPerSec: number };
          roomDay1m: { ms: RepeatedMs; points: number };
          roomDayFromRawBaseline: { ms: RepeatedMs };
          roomMonth1h: { ms: RepeatedMs; points: number };
          roomMonthFrom1mBaseline: { ms: RepeatedMs };
        };
        error?: string;
      }
    | undefined;
  if (hist?.writer) {
    const w = hist.writer;
    out.push(
      '',
      `### History writer: MQTT → bridge → Kafka → sensor-ingest → telemetry-history → PostgreSQL (each its own process), ${w.building}; ${w.stepSeconds} s per step`,
      '',
      `The end-to-end rate to keep up with: ${n(w.e2eRate.mustMatchPerSec)} readings/s (${w.e2eRate.source}; the end-to-end target is ${n(w.e2eRate.targetPerSec)}/s). Writer rows/s while busy ÷ plain INSERT into a keyless table: ${w.ratioWriterToPlainInsert ?? '—'}.`,
      '',
    );
    out.push('| offered/s | pipeline/s | rows written | batches | rows per batch | mean lag (ms) | p99 lag at most (s) | batches within 1 s | writer busy | result |', '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const st of w.steps) {
      out.push(`| ${n(st.offeredPerSec)} | ${n(st.pipelinePerSec)} | ${n(st.rowsWritten)} | ${st.batches} | ${st.meanBatchRows} | ${st.meanLagMs ?? '—'} | ${st.lagP99AtMostS ?? '—'} | ${st.batchesWithin1s} | ${Math.round(st.writerBusyShare * 100)} % | ${st.pass ? 'pass' : `fail: ${st.why ?? ''}`} |`);
    }
    const at = w.atE2eRate;
    targets.push(`| history writer lag p99 at the end-to-end rate (${n(w.e2eRate.mustMatchPerSec)}/s), s | ${at ? `≤ ${at.lagP99AtMostS ?? '—'} (mean ${at.meanLagMs ?? '—'} ms)` : 'not reached'} | ≤ 1 | ${check(at ? at.pass : false)} |`);
    targets.push(`| history writer: highest step with lag p99 ≤ 1 s (readings/s) | ${n(w.sustainedOfferedPerSec)} | ≥ ${n(w.e2eRate.targetPerSec)} (end-to-end target) | ${check(w.sustainedOfferedPerSec >= w.e2eRate.targetPerSec)} |`);
  }
  if (hist?.queries) {
    const q = hist.queries;
    out.push(
      '',
      `### History queries: ${q.building}; loaded (days) ${JSON.stringify(q.loaded)}`,
      '',
      `Loaded in ${q.loadSeconds['total'] ?? '—'} s (seconds per step: ${JSON.stringify(q.loadSeconds)}); the raw days rolled up by the service's rollup job: ${n(q.rollupJob.buckets)} buckets in ${q.rollupJob.seconds} s (${n(q.rollupJob.bucketsPerSec)}/s). Per repetition the p50, p95 and max of its queries; the table gives their median over the repetitions (min–max).`,
      '',
    );
    out.push('| query | p50 (ms) | p95 (ms) | max (ms) | queries × repetitions | points |', '| --- | --- | --- | --- | --- | --- |');
    const row = (label: string, ms: RepeatedMs, points?: number) => out.push(`| ${label} | ${fmt(ms.p50)} | ${fmt(ms.p95)} | ${fmt(ms.max)} | ${ms.runsPerRep} × ${ms.reps} | ${points ?? '—'} |`);
    row('room-day at 1 min (1-minute rollup)', q.roomDay1m.ms, q.roomDay1m.points);
    row('baseline: room-day from the raw rows', q.roomDayFromRawBaseline.ms);
    row('room-month at 1 h (1-hour rollup)', q.roomMonth1h.ms, q.roomMonth1h.points);
    row('baseline: room-month from the 1-minute rollup', q.roomMonthFrom1mBaseline.ms);
    targets.push(target('history room-day at 1 min, p95 (ms)', q.roomDay1m.ms.p95, 100, '≤'), target('history room-month at 1 h, p95 (ms)', q.roomMonth1h.ms.p95, 50, '≤'));
  }
  if (hist?.error) out.push('', `### History: failed (${hist.error})`);

  if (targets.length > 0) out.push('', '### Targets', '', '| target | measured | goal | status |', '| --- | --- | --- | --- |', ...targets);
  return `${out.join('\n')}\n`;
}
