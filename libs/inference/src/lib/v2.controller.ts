import { Body, Controller, Get, HttpCode, Inject, Param, Post, Res } from '@nestjs/common';
import { ModelNotFoundError } from './errors';
import type { EngineStatus, InferenceEngine } from './inference.engine';
import { modelMetadata, serverMetadata, v2Infer, type V2InferResponse, type V2ModelMetadata } from './v2.protocol';

/** The part of Express' response used here (passthrough mode: Nest still writes the body). */
interface Response {
  status(code: number): unknown;
}

/** Nest injection token of the {@link InferenceEngine} the HTTP layer serves. */
export const INFERENCE_ENGINE = Symbol.for('aiot.InferenceEngine');

/**
 * Open Inference Protocol v2 REST endpoints (what KServe and Triton serve), JSON tensors only.
 * Errors are `{"error": "..."}` (see {@link V2ErrorFilter}): 400 bad input, 404 unknown model or
 * version, 503 not ready or queue full (with Retry-After).
 */
@Controller('v2')
export class V2Controller {
  constructor(@Inject(INFERENCE_ENGINE) private readonly engine: InferenceEngine) {}

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
  @HttpCode(200)
  infer(@Param('name') name: string, @Body() body: unknown): Promise<V2InferResponse> {
    return v2Infer(this.engine, name, undefined, body);
  }

  @Post('models/:name/versions/:version/infer')
  @HttpCode(200)
  inferVersion(@Param('name') name: string, @Param('version') version: string, @Body() body: unknown): Promise<V2InferResponse> {
    return v2Infer(this.engine, name, version, body);
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
