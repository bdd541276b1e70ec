import { BadRequestException, Body, Controller, Get, HttpCode, Inject, NotFoundException, Param, Post, Query, Req, Res } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { floorIdSchema, segmentSchema } from '@aiot/contracts';
import { BuildingStateService } from './building-state.service';
import type { AlertEntry, AlertFilter, BuildingSnapshot, ModelInfo, RoomDetail, ServiceHealth } from './dashboard.api';
import { SseHub } from './sse.hub';

const alertQuerySchema = z
  .object({
    floor: floorIdSchema.optional(),
    rule: z.string().min(1).max(64).optional(),
    room: segmentSchema.optional(),
    state: z.enum(['firing', 'resolved']).optional(),
    acked: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
    limit: z.coerce.number().int().min(1).max(10_000).optional(),
  })
  .strict();

const ackBodySchema = z.object({ by: z.string().trim().min(1).max(64).optional() }).strict();

const problem = (error: z.ZodError) => error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');

/** The dashboard's JSON API and its event stream. */
@Controller('api')
export class DashboardController {
  constructor(
    @Inject(BuildingStateService) private readonly state: BuildingStateService,
    @Inject(SseHub) private readonly hub: SseHub,
  ) {}

  @Get('building')
  building(): BuildingSnapshot {
    return this.state.snapshot();
  }

  @Get('rooms/:floor/:room')
  room(@Param('floor') floor: string, @Param('room') room: string): RoomDetail {
    const detail = this.state.room(floor, room);
    if (!detail) throw new NotFoundException(`no room ${floor}/${room} seen yet`);
    return detail;
  }

  @Get('alerts')
  alerts(@Query() query: Record<string, string>): AlertEntry[] {
    const parsed = alertQuerySchema.safeParse(query);
    if (!parsed.success) throw new BadRequestException(problem(parsed.error));
    const filter: AlertFilter = {};
    for (const [k, v] of Object.entries(parsed.data)) if (v !== undefined) Object.assign(filter, { [k]: v });
    return this.state.alerts(filter);
  }

  @Post('alerts/:id/ack')
  @HttpCode(200)
  async ack(@Param('id') id: string, @Body() body: unknown): Promise<AlertEntry> {
    const parsed = ackBodySchema.safeParse(body ?? {});
    if (!parsed.success) throw new BadRequestException(problem(parsed.error));
    const entry = await this.state.ack(id, parsed.data.by);
    if (!entry) throw new NotFoundException(`no alert ${id} in the feed`);
    return entry;
  }

  @Get('models')
  models(): ModelInfo[] {
    return this.state.models();
  }

  @Get('services')
  services(): ServiceHealth[] {
    return this.state.services();
  }

  /** Server-Sent Events: `snapshot` first, then coalesced `delta`s. */
  @Get('events')
  events(@Req() req: IncomingMessage, @Res() res: ServerResponse): void {
    this.hub.attach(req, res);
  }
}
