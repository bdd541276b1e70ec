import { Controller, Get, HttpCode, Inject, Optional, Param, Post, Req, Res } from '@nestjs/common';
import { ModelNotFoundError } from './errors';
import type { EngineStatus, InferenceEngine } from './inference.engine';
import { readV2Body, V2_MAX_REQUEST_BYTES, type V2HttpRequest } from './v2-body.reader';
import { modelMetadata, RESPONSE_HEADER_LENGTH_HEADER, serializeV2Reply, serverMetadata, v2Infer, type V2ModelMetadata } from './v2.protocol';

/** The part of Express' response used here. */
interface Response {
  status(code: number): unknown;
  setHeader(name: string, value: string | number): unknown;
  end(body: Buffer): unknown;
}

/** Nest injection token of the {@link InferenceEngine} the HTTP layer serves. */
export const INFERENCE_ENGINE = Symbol.for('aiot.InferenceEngine');

/** Nest injection token of the v2 HTTP options ({@link V2HttpOptions}). */
export const V2_HTTP_OPTIONS = Symbol.for('aiot.V2HttpOptions');

export interface V2HttpOptions {
  /** Largest infer request body, raw and after decompression. Default {@link V2_MAX_REQUEST_BYTES}. */
  maxRequestBytes?: number;
}

/**
 * Open Inference Protocol v2 REST endpoints (what KServe and Triton serve), with JSON tensors and
 * the binary tensor data extension. Infer bodies are read whatever their Content-Type (the Triton
 * client sends none). Errors are `{"error": "..."}` (see {@link V2ErrorFilter}): 400 bad input,
 * 404 unknown model or version, 413 too large, 503 not ready or queue full (with Retry-After).
 */
@Controller('v2')
export class V2Controller {
  private readonly maxRequestBytes: number;

  constructor(
    @Inject(INFERENCE_ENGINE) private readonly engine: InferenceEngine,
    @Optional() @Inject(V2_HTTP_OPTIONS) options?: V2HttpOptions,
  ) {
    this.maxRequestBytes = options?.maxRequestBytes ?? V2_MAX_REQUEST_BYTES;
  }

  @Get()
  server() {
    return serverMetadata();
  }

  @Get('health/live')
  live() {
    return { live: true };
  }

  @Get('health/ready')
  ready(@Res({ passthrough: true }) res: Response) {
    const ready = this.engine.isReady();
    res.status(ready ? 200 : 503);
    return { ready };
  }

  @Get('models/:name')
  model(@Param('name') name: string): V2ModelMetadata {
    return this.metadata(name);
  }

  @Get('models/:name/versions/:version')
  modelVersion(@Param('name') name: string, @Param('version') version: string): V2ModelMetadata {
    return this.metadata(name, version);
  }

  @Get('models/:name/ready')
  modelReady(@Param('name') name: string, @Res({ passthrough: true }) res: Response) {
    return this.readiness(res, name);
  }

  @Get('models/:name/versions/:version/ready')
  modelVersionReady(@Param('name') name: string, @Param('version') version: string, @Res({ passthrough: true }) res: Response) {
    return this.readiness(res, name, version);
  }

  @Post('models/:name/infer')
  infer(@Param('name') name: string, @Req() req: V2HttpRequest, @Res() res: Response): Promise<void> {
    return this.handleInfer(name, undefined, req, res);
  }

  @Post('models/:name/versions/:version/infer')
  inferVersion(@Param('name') name: string, @Param('version') version: string, @Req() req: V2HttpRequest, @Res() res: Response): Promise<void> {
    return this.handleInfer(name, version, req, res);
  }

  /** Triton's model repository extension: every model with its state and, if unavailable, why. */
  @Post('repository/index')
  @HttpCode(200)
  repositoryIndex() {
    return this.engine.status().models.map((m) => ({
      name: m.name,
      ...(m.version !== undefined ? { version: m.version } : {}),
      state: m.ready ? 'READY' : 'UNAVAILABLE',
      reason: m.lastError ? `${m.lastError.reason}${m.lastError.version ? ` (version ${m.lastError.version})` : ''}: ${m.lastError.message}` : '',
    }));
  }

  /** Errors thrown here reach {@link V2ErrorFilter}, which writes the v2 error body. */
  private async handleInfer(name: string, version: string | undefined, req: V2HttpRequest, res: Response): Promise<void> {
    const { json, binary } = await readV2Body(req, this.maxRequestBytes);
    const { body, contentType, headerLength } = serializeV2Reply(await v2Infer(this.engine, name, version, json, binary));
    res.status(200);
    res.setHeader('Content-Type', contentType);
    if (headerLength !== undefined) res.setHeader(RESPONSE_HEADER_LENGTH_HEADER, headerLength);
    res.end(body);
  }

  private metadata(name: string, version?: string): V2ModelMetadata {
    const { version: served, meta } = this.engine.metadata(name, version);
    return modelMetadata(name, served, meta, this.engine.registry.active(name)!.sha256);
  }

  private readiness(res: Response, name: string, version?: string) {
    if (!this.engine.models.includes(name)) throw new ModelNotFoundError(`unknown model "${name}"`);
    const active = this.engine.registry.active(name);
    const ready = active !== undefined && (version === undefined || version === active.version);
    if (version !== undefined && active !== undefined && version !== active.version) {
      throw new ModelNotFoundError(`model "${name}" version "${version}" is not available (serving version ${active.version})`);
    }
    res.status(ready ? 200 : 503);
    return { name, ...(version !== undefined ? { version } : {}), ready };
  }
}

/** Service status (not part of v2): per model the served version, sha256, last refusal, queue depth. */
@Controller()
export class InferenceStatusController {
  constructor(@Inject(INFERENCE_ENGINE) private readonly engine: InferenceEngine) {}

  @Get('status')
  status(): EngineStatus {
    return this.engine.status();
  }
}
