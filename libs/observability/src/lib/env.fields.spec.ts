import { z } from 'zod';
import { envList, serviceEnvShape } from './env.fields';

describe('env fields', () => {
  const schema = z.object({ ...serviceEnvShape, FLOORS: envList(z.string().regex(/^floor-\d+$/)) });

  it('splits comma lists, trims entries and drops empty ones; unset is the empty list', () => {
    expect(schema.parse({ FLOORS: ' floor-1, floor-2,,floor-3 ' }).FLOORS).toEqual(['floor-1', 'floor-2', 'floor-3']);
    expect(schema.parse({}).FLOORS).toEqual([]);
  });

  it('validates each entry and names the one that is wrong', () => {
    const r = schema.safeParse({ FLOORS: 'floor-1,lobby' });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.path.join('.'))).toEqual(['FLOORS.1']);
  });

  it('defaults HTTP_PORT to 8080 and LOG_LEVEL to info, and refuses what is out of range', () => {
    expect(schema.parse({})).toMatchObject({ HTTP_PORT: 8080, LOG_LEVEL: 'info' });
    expect(schema.safeParse({ HTTP_PORT: '70000' }).success).toBe(false);
    expect(schema.safeParse({ LOG_LEVEL: 'verbose' }).success).toBe(false);
  });
});
