import { readFile } from 'node:fs/promises';
import { silentLogger, type AiotMetrics, type Logger } from '@aiot/observability';
import { ModelNotFoundError, ModelNotReadyError } from './errors';
import type { SessionRef } from './micro-batcher';
import { ModelMetadataError, parseModelMetadata, type ModelMetadata } from './model-metadata';
import { candidateVersions, scanModelDir, sha256Hex, statVersion, type VersionFiles } from './model-files';
import { ModelLoadError } from './worker-pool';
import type { LoadInfo, WireTensorSpec } from './worker-protocol';
import { inferenceMetrics, type InferenceMetrics } from './inference.metrics';

/** What the registry needs from the worker pool. */
export interface SessionHost {
  load(key: string, bytes: Uint8Array, spec: { input: WireTensorSpec; features: number; outputs: WireTensorSpec[] }): Promise<LoadInfo>;
  unload(key: string): Promise<void>;
}

export interface ModelRegistryOptions {
  /** Directory holding `<name>/<version>/{model.onnx,model.json}` (the shared model volume). */
  root: string;
  /** Models to serve; a configured model without a loadable version is reported not ready. */
  models: string[];
  /** How often the root is scanned (polling: inotify does not cross NFS clients). */
  pollIntervalMs: number;
  /**
   * Load a new version only once its files looked the same on two consecutive scans, so a
   * version still being copied is not tried half-written. The first scan loads at once. Default true.
   */
  requireStableFiles?: boolean;
  metrics?: AiotMetrics;
  logger?: Logger;
}

/** Why a version was refused: the `reason` label of aiot_model_load_failures_total. */
export type RefusalReason =
  | 'invalid_metadata'
  | 'checksum_mismatch'
  | 'read_error'
  | 'load_error'
  | 'input_shape_mismatch'
  | 'output_mismatch'
  | 'warmup_failed'
  | 'invalid_current'
  | 'missing_version';

/**
 * Why a model is served degraded: still answering from the version in memory, but the model
 * volume no longer backs it or a version meant to replace it was refused. The `reason` label of
 * aiot_model_degraded.
 */
export type DegradedReason =
  /** The model root or `<name>/` cannot be listed (permissions, I/O error, stale NFS handle). */
  | 'model_dir_unreadable'
  /** `<name>/` is gone (volume unmounted, directory removed or replaced by a file). */
  | 'model_dir_missing'
  /** The serving version's directory or files are gone from the volume. */
  | 'serving_version_missing'
  /** A version that would replace the serving one (newer, or named by `current`) was refused. */
  | 'version_refused';

export interface DegradedState {
  reason: DegradedReason;
  message: string;
  /** When this condition was first seen (ISO 8601). */
  since: string;
}

/** One served model version: its session key in every worker, metadata and in-use count. */
export class LoadedModel implements SessionRef {
  refs = 0;
  retired = false;
  constructor(
    readonly key: string,
    readonly name: string,
    readonly version: string,
    readonly sha256: string,
    readonly meta: ModelMetadata,
    readonly dir: string,
    readonly signature: string,
    readonly loadedAt: Date,
    readonly info: LoadInfo,
  ) {}
}

export interface ModelStatus {
  name: string;
  ready: boolean;
  version?: string;
  sha256?: string;
  loadedAt?: string;
  path?: string;
  /** The newest refusal, kept after a later success so an operator can see what happened. */
  lastError?: { version?: string; reason: RefusalReason | 'no_model_dir' | 'no_versions'; message: string; at: string };
  /** Versions refused with their current files (they are retried only when the files change). */
  refusedVersions: string[];
  /** A version directory not complete yet (e.g. no model.json): waited for, not an error. */
  pending?: { version: string; missing: string[] };
  /** Set while the model is served degraded (see {@link DegradedReason}); absent when healthy. */
  degraded?: DegradedState;
}

interface ModelState {
  name: string;
  active?: LoadedModel;
  lastError?: ModelStatus['lastError'];
  /** version → signature of the refused files. */
  refused: Map<string, string>;
  /** version → signature seen on the previous scan (stability check). */
  seen: Map<string, string>;
  pending?: { version: string; missing: string[] };
  /** Messages already logged, so a steady problem is logged once, not on every poll. */
  reported: Set<string>;
  degraded?: DegradedState;
}

class Refusal extends Error {
  constructor(
    readonly reason: RefusalReason,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Serves, per configured model, the version `<name>/current` names or else the highest numeric
 * version directory. Polls the model root; a new or changed version is checked (model.json schema,
 * sha256 of model.onnx against `onnxSha256`), loaded into every worker, warmed up with a dummy
 * batch whose width must equal `features.length`, and only then swapped in atomically. The old
 * version's sessions are released once no queued or running request uses it. A bad version is
 * refused: the previous one keeps serving, aiot_model_load_failures_total counts it, and status()
 * shows the refusal. A refused version is retried only when its files change.
 */
export class ModelRegistry {
  private readonly states = new Map<string, ModelState>();
  private readonly logger: Logger;
  private timer: NodeJS.Timeout | undefined;
  private scanning: Promise<void> | undefined;
  private generation = 0;
  private scans = 0;
  private stopped = false;
  private readonly m: InferenceMetrics | undefined;

  constructor(
    private readonly host: SessionHost,
    private readonly options: ModelRegistryOptions,
  ) {
    this.logger = (options.logger ?? silentLogger).child({ component: 'model-registry' });
    this.m = options.metrics?.of(inferenceMetrics);
    for (const name of options.models) {
      this.states.set(name, { name, refused: new Map(), seen: new Map(), reported: new Set() });
    }
  }

  get models(): string[] {
    return [...this.states.keys()];
  }

  /** First scan (awaited: models are loaded when this resolves, as far as they can be), then polling. */
  async start(): Promise<void> {
    await this.scanNow();
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.scanning;
  }

  /** Scans now (tests and the poll timer); concurrent calls share one scan. */
  scanNow(): Promise<void> {
    this.scanning ??= (async () => {
      try {
        for (const state of this.states.values()) {
          let condition: Omit<DegradedState, 'since'> | undefined;
          try {
            condition = await this.scanModel(state);
          } catch (err) {
            const message = `cannot scan ${this.options.root}/${state.name}: ${(err as Error).message}`;
            condition = { reason: 'model_dir_unreadable', message };
            this.reportOnce(state, `scan:${(err as Error).message}`, () =>
              this.logger.error({ model: state.name, err: (err as Error).message }, 'cannot scan the model directory'),
            );
          }
          this.setDegraded(state, condition);
        }
        this.scans++;
      } finally {
        this.scanning = undefined;
      }
    })();
    return this.scanning;
  }

  /** The model version serving now, without taking a reference (metadata, status). */
  active(name: string): LoadedModel | undefined {
    return this.states.get(name)?.active;
  }

  isReady(name?: string): boolean {
    if (name !== undefined) return this.states.get(name)?.active !== undefined;
    return [...this.states.values()].every((s) => s.active !== undefined);
  }

  /**
   * Takes a reference on the serving version (or the named one, which must be the serving one);
   * the caller must {@link release} it when its request is done.
   */
  acquire(name: string, version?: string): LoadedModel {
    const state = this.states.get(name);
    if (!state) throw new ModelNotFoundError(`unknown model "${name}" (served: ${this.models.join(', ')})`);
    const active = state.active;
    if (!active) {
      const why = state.lastError ? `: ${state.lastError.message}` : state.pending ? `: version ${state.pending.version} is incomplete` : '';
      throw new ModelNotReadyError(`model "${name}" has no loaded version${why}`);
    }
    if (version !== undefined && version !== active.version) {
      throw new ModelNotFoundError(`model "${name}" version "${version}" is not available (serving version ${active.version})`);
    }
    active.refs++;
    return active;
  }

  release(model: LoadedModel): void {
    model.refs--;
    if (model.retired && model.refs === 0) this.unload(model);
  }

  status(): ModelStatus[] {
    return [...this.states.values()].map((s) => {
      const st: ModelStatus = { name: s.name, ready: s.active !== undefined, refusedVersions: [...s.refused.keys()] };
      if (s.active) {
        st.version = s.active.version;
        st.sha256 = s.active.sha256;
        st.loadedAt = s.active.loadedAt.toISOString();
        st.path = s.active.dir;
      }
      if (s.lastError) st.lastError = s.lastError;
      if (s.pending) st.pending = s.pending;
      if (s.degraded) st.degraded = s.degraded;
      return st;
    });
  }

  /** Completed scans (tests wait on it). */
  get scanCount(): number {
    return this.scans;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.scanNow().finally(() => this.schedule());
    }, this.options.pollIntervalMs);
    this.timer.unref();
  }

  /**
   * One look at the model's directory: loads a better version when there is one, and returns the
   * condition that makes the serving version degraded (undefined when healthy).
   */
  private async scanModel(state: ModelState): Promise<Omit<DegradedState, 'since'> | undefined> {
    const { root } = this.options;
    const scan = await scanModelDir(root, state.name);
    if (!scan.exists) {
      if (!state.active) state.lastError ??= { reason: 'no_model_dir', message: `no directory ${scan.dir}`, at: new Date().toISOString() };
      this.reportOnce(state, 'no-dir', () => this.logger.warn({ model: state.name, dir: scan.dir }, 'model directory does not exist'));
      return { reason: 'model_dir_missing', message: `${scan.dir} does not exist (volume unmounted or directory removed)` };
    }
    state.reported.delete('no-dir');
    if (scan.currentError !== undefined) {
      this.refuse(state, undefined, undefined, new Refusal('invalid_current', scan.currentError));
      return { reason: 'version_refused', message: scan.currentError };
    }
    const candidates = candidateVersions(scan);
    const servingGone = (active: LoadedModel | undefined) =>
      active && !scan.versions.includes(active.version)
        ? { reason: 'serving_version_missing' as const, message: `${scan.dir}/${active.version} is gone; serving version ${active.version} from memory` }
        : undefined;
    if (candidates.length === 0) {
      if (!state.active) state.lastError ??= { reason: 'no_versions', message: `no version directory in ${scan.dir}`, at: new Date().toISOString() };
      return servingGone(state.active);
    }
    if (scan.current !== undefined && !scan.versions.includes(scan.current)) {
      const message = `${state.name}/current names version ${scan.current}, which does not exist`;
      this.refuse(state, scan.current, undefined, new Refusal('missing_version', message));
      return { reason: 'version_refused', message };
    }
    const firstScan = this.scans === 0;
    let pending: ModelState['pending'];
    // A better version than the one serving that could not be used, best first.
    let refusedBetter: string | undefined;
    for (const version of candidates) {
      const files = await statVersion(root, state.name, version);
      const active = state.active;
      const isServing = active !== undefined && active.version === version;
      if (isServing && files.signature === active.signature) break; // serving the best version
      if (isServing && !files.signature) {
        state.pending = pending;
        return { reason: 'serving_version_missing', message: `${files.dir} lacks ${files.missing.join(', ')}; serving version ${version} from memory` };
      }
      if (!files.signature) {
        pending ??= { version, missing: files.missing };
        this.reportOnce(state, `incomplete:${version}:${files.missing.join()}`, () =>
          this.logger.info({ model: state.name, version, missing: files.missing }, 'version directory incomplete; waiting for it'),
        );
        state.seen.delete(version);
        continue;
      }
      // The serving version's files changed in place and could not be loaded: the copy in memory
      // is the last good one, so it keeps serving rather than falling back to an older version.
      if (state.refused.get(version) === files.signature) {
        refusedBetter ??= version; // refused before, files unchanged
        if (isServing) break;
        continue;
      }
      const stable = firstScan || this.options.requireStableFiles === false || state.seen.get(version) === files.signature;
      state.seen.set(version, files.signature);
      if (!stable) {
        pending ??= { version, missing: [] };
        break; // look again next scan; meanwhile keep what is served
      }
      if (await this.tryLoad(state, files)) break;
      refusedBetter ??= version;
      if (isServing) break;
    }
    state.pending = pending;
    const gone = servingGone(state.active);
    if (gone) return gone;
    const active = state.active;
    if (refusedBetter !== undefined && active) {
      const why = state.lastError?.version === refusedBetter ? `${state.lastError.reason}: ${state.lastError.message}` : 'refused';
      const what = refusedBetter === active.version ? `the files of version ${refusedBetter} changed and were refused (${why}); serving the loaded copy` : `version ${refusedBetter} was refused (${why}); serving version ${active.version}`;
      return { reason: 'version_refused', message: what };
    }
    return undefined;
  }

  /** Records the model's degraded condition; the metric and one log line follow each change. */
  private setDegraded(state: ModelState, condition: Omit<DegradedState, 'since'> | undefined): void {
    const before = state.degraded;
    if (before?.reason === condition?.reason && before?.message === condition?.message) return;
    const m = this.m;
    if (before) m?.modelDegraded.remove({ model: state.name, reason: before.reason });
    if (!condition) {
      state.degraded = undefined;
      if (before) this.logger.info({ model: state.name, was: before.reason, serving: state.active?.version ?? null }, 'model no longer degraded');
      return;
    }
    state.degraded = { ...condition, since: before?.reason === condition.reason ? before.since : new Date().toISOString() };
    m?.modelDegraded.set({ model: state.name, reason: condition.reason }, 1);
    this.logger.warn(
      { model: state.name, reason: condition.reason, detail: condition.message, serving: state.active?.version ?? null },
      state.active ? 'model degraded: the version in memory keeps serving' : 'model degraded and not loaded',
    );
  }

  /** Verifies, loads, warms up and swaps in one version; false when it was refused. */
  private async tryLoad(state: ModelState, files: VersionFiles): Promise<boolean> {
    const { name } = state;
    const { version } = files;
    let loaded: LoadedModel | undefined;
    try {
      let jsonText: string;
      let bytes: Buffer;
      try {
        [jsonText, bytes] = await Promise.all([readFile(files.jsonPath, 'utf8'), readFile(files.onnxPath)]);
      } catch (err) {
        throw new Refusal('read_error', `cannot read version ${version}: ${(err as Error).message}`);
      }
      let meta: ModelMetadata;
      try {
        meta = parseModelMetadata(jsonText, { name, version });
      } catch (err) {
        throw new Refusal('invalid_metadata', (err as ModelMetadataError).message);
      }
      const sha256 = sha256Hex(bytes);
      if (sha256 !== meta.onnxSha256) {
        throw new Refusal('checksum_mismatch', `model.onnx has sha256 ${sha256}, model.json expects ${meta.onnxSha256}`);
      }
      const key = `${name}@${version}#${++this.generation}`;
      let info: LoadInfo;
      try {
        info = await this.host.load(key, bytes, { input: meta.input, features: meta.features.length, outputs: meta.outputs });
      } catch (err) {
        if (err instanceof ModelLoadError) throw new Refusal(err.code, err.message);
        throw new Refusal('load_error', (err as Error).message);
      }
      loaded = new LoadedModel(key, name, version, sha256, meta, files.dir, files.signature!, new Date(), info);
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      this.refuse(state, version, files.signature, err);
      return false;
    }
    if (this.stopped) {
      await this.host.unload(loaded.key);
      return false;
    }
    this.swap(state, loaded);
    return true;
  }

  private swap(state: ModelState, next: LoadedModel): void {
    const previous = state.active;
    state.active = next; // atomic for every request that acquires from now on
    state.refused.delete(next.version);
    state.seen.delete(next.version);
    const m = this.m;
    if (previous) m?.modelVersionInfo.remove({ model: state.name, version: previous.version, sha256: previous.sha256 });
    m?.modelVersionInfo.set({ model: state.name, version: next.version, sha256: next.sha256 }, 1);
    this.logger.info(
      { model: state.name, version: next.version, previous: previous?.version, sha256: next.sha256, warmupMs: Math.round(next.info.warmupMs) },
      previous ? 'model version swapped in' : 'model version loaded',
    );
    if (previous) {
      previous.retired = true;
      if (previous.refs === 0) this.unload(previous);
    }
  }

  private refuse(state: ModelState, version: string | undefined, signature: string | undefined, err: Refusal): void {
    const key = `refused:${version}:${signature}:${err.reason}:${err.message}`;
    if (version !== undefined && signature !== undefined) state.refused.set(version, signature);
    state.lastError = { ...(version !== undefined ? { version } : {}), reason: err.reason, message: err.message, at: new Date().toISOString() };
    this.reportOnce(state, key, () => {
      this.m?.modelLoadFailures.inc({ model: state.name, reason: err.reason });
      this.logger.warn(
        { model: state.name, version, reason: err.reason, err: err.message, serving: state.active?.version ?? null },
        'model version refused; keeping the version in service',
      );
    });
  }

  private unload(model: LoadedModel): void {
    this.host.unload(model.key).then(
      () => this.logger.debug({ model: model.name, version: model.version, key: model.key }, 'old model version released'),
      (err: unknown) => this.logger.warn({ model: model.name, key: model.key, err: (err as Error).message }, 'releasing old model version failed'),
    );
  }

  private reportOnce(state: ModelState, key: string, report: () => void): void {
    if (state.reported.has(key)) return;
    if (state.reported.size > 200) state.reported.clear();
    state.reported.add(key);
    report();
  }
}
