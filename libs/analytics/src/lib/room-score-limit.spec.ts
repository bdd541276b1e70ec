import { RoomScoreLimit, roomLimitOf, type RoomLimitSpec } from './room-score-limit';

const SPEC: RoomLimitSpec = { feature: 'room_score_limit', quantile: 0.98, margin: 1.3, floor: 25.607711, minScores: 720 };

describe('roomLimitOf', () => {
  it('is margin × the q-quantile (numpy linear) of the scores, never below the floor', () => {
    // 0 … 100: numpy.quantile(q=0.98) = 98
    const scores = Array.from({ length: 101 }, (_, i) => 100 - i);
    expect(roomLimitOf(scores, SPEC)).toBeCloseTo(1.3 * 98, 9);
    // a quiet room: its scores all below the floor, so the floor
    expect(roomLimitOf([1, 2, 3], SPEC)).toBe(SPEC.floor);
    expect(roomLimitOf([], SPEC)).toBe(SPEC.floor);
    // interpolates between neighbours: 4 values, q 0.5 → between the 2nd and 3rd
    expect(roomLimitOf([40, 10, 30, 20], { quantile: 0.5, margin: 1, floor: 1 })).toBe(25);
  });
});

describe('RoomScoreLimit', () => {
  it('collects the scores of learning-mode windows only (times the floor) and settles once calibrated with all of them in', () => {
    const l = new RoomScoreLimit(SPEC, 10); // needs min(720, 5) = 5 scores
    for (let w = 1; w <= 6; w++) l.sentLearning(w);
    expect(l.takeScore(99, 3)).toBe(false); // not a learning window: scored against the limit
    for (let w = 1; w <= 4; w++) expect(l.takeScore(w, w)).toBe(true);
    expect(l.takeScore(1, 1)).toBe(false); // a redelivered prediction counts once
    expect(l.takeScore(5, 10)).toBe(true);
    expect(l.settle(false)).toBe(false); // the baseline still learns
    expect(l.settle(true)).toBe(false); // window 6 has not answered yet
    expect(l.limit).toBeUndefined();
    expect(l.takeScore(6, 10)).toBe(true);
    expect(l.settle(true)).toBe(true);
    // scores 1, 2, 3, 4, 10, 10 (× floor): position 5 × 0.98 = 4.9 lies between 10 and 10
    expect(l.limit).toBeCloseTo(1.3 * 10 * SPEC.floor, 6);
    expect(l.settle(true)).toBe(false); // set once
    expect(l.takeScore(7, 1000)).toBe(false);
  });

  it('settles on a full learning day of scores even when some predictions never came back', () => {
    const l = new RoomScoreLimit(SPEC, 10);
    for (let w = 1; w <= 12; w++) l.sentLearning(w);
    for (let w = 3; w <= 11; w++) l.takeScore(w, 0.5);
    expect(l.settle(true)).toBe(false); // 9 scores, windows 1, 2, 12 outstanding
    l.takeScore(12, 0.5);
    expect(l.settle(true)).toBe(true);
    expect(l.limit).toBe(SPEC.floor); // all below the floor
  });

  it('bounds the windows waiting for their prediction (inference down) to twice the learning windows', () => {
    const l = new RoomScoreLimit(SPEC, 10);
    for (let w = 1; w <= 100; w++) l.sentLearning(w);
    expect(l.takeScore(1, 1)).toBe(false); // forgotten: the oldest went first
    expect(l.takeScore(100, 1)).toBe(true);
    expect(l.takeScore(81, 1)).toBe(true);
    expect(l.takeScore(80, 1)).toBe(false);
  });

  it('survives a snapshot: the limit once set, else the scores collected so far', () => {
    const a = new RoomScoreLimit(SPEC, 4);
    a.sentLearning(1);
    a.takeScore(1, 2);
    const b = new RoomScoreLimit(SPEC, 4);
    b.restore(a.snapshot());
    expect(b.collected).toBe(1);
    b.sentLearning(2);
    b.takeScore(2, 3);
    expect(b.settle(true)).toBe(true);
    const c = new RoomScoreLimit(SPEC, 4);
    c.restore(JSON.parse(JSON.stringify(b.snapshot())));
    expect(c.limit).toBe(b.limit);
    // a limit below the floor is not a limit this model could have set: learn again
    const d = new RoomScoreLimit(SPEC, 4);
    d.restore({ limit: 1, scores: [] });
    expect(d.limit).toBeUndefined();
  });
});
