import { BadRequestException, Body, Controller, Delete, Get, HttpCode, Inject, Post } from '@nestjs/common';
import { faultSpecSchema } from '@aiot/simulator';
import { EdgeRuntime, type EdgeStatus } from './edge.runtime';

/** `/api/status` for people and scripts, and fault injection into the simulated building. */
@Controller('api')
export class StatusController {
  constructor(@Inject(EdgeRuntime) private readonly runtime: EdgeRuntime) {}

  @Get('status')
  status(): Promise<EdgeStatus> {
    return this.runtime.status();
  }

  @Get('simulator/faults')
  faults(): unknown {
    return this.runtime.simulator?.listFaults() ?? [];
  }

  @Post('simulator/faults')
  @HttpCode(201)
  inject(@Body() body: unknown): unknown {
    const spec = faultSpecSchema.safeParse(body);
    if (!spec.success) throw new BadRequestException(spec.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    try {
      return this.runtime.injectFault(spec.data);
    } catch (err) {
      throw new BadRequestException((err as Error).message);
    }
  }

  @Delete('simulator/faults')
  clear(): { cleared: number } {
    return { cleared: this.runtime.clearFaults() };
  }
}
