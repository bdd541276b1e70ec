/**
 * A room's own limit for a learned score (anomaly version 4, models/anomaly/README.md "Version 4").
 *
 * Version 1's score (a density's negative log-likelihood over absolute features) separates faults
 * from normal windows in the simulator, but a real office sits at a different place in that
 * density: its fault-free windows score ≈ 180 where the global threshold is 25.6. So each room
 * learns where its own normal windows score during its learning day, and its limit is
 *
 *   limit = max(floor, margin × quantile_q(the room's learning-day scores))
 *
 * (q 0.98, margin 1.3, floor = version 1's threshold: chosen on validation data only, see
 * models/anomaly/evaluate_room_threshold.py). While the room learns, the engine sends the model
 * `room_score_limit = floor` and no excess, so the model's score is max(0, nll / floor): the score
 * times the floor gives the learning-day score back. Those predictions are collected here, never
 * alerted on.
 */
import { quantileSorted } from './room-baseline';

/** model.json `roomLimit`: the feature the limit is fed as and the rule that sets it. */
export interface RoomLimitSpec {
  /** Input feature carrying the room's limit (`room_score_limit`). */
  feature: string;
  /** Quantile of the learning-day scores (numpy's default linear interpolation). */
  quantile: number;
  /** Factor on that quantile. */
  margin: number;
  /** Lowest limit, and the limit sent while learning (version 1's global threshold). */
  floor: number;
  /** Learning-day scores needed before the limit is set (capped at half the learning windows). */
  minScores: number;
}

/** What a room's score limit persists: the limit once set, else the scores collected so far. */
export interface RoomScoreLimitSnapshot {
  limit?: number;
  scores: number[];
}

/** max(floor, margin × q-quantile(scores)); the floor for no scores. */
export function roomLimitOf(scores: readonly number[], spec: Pick<RoomLimitSpec, 'quantile' | 'margin' | 'floor'>): number {
  if (scores.length === 0) return spec.floor;
  const sorted = [...scores].sort((a, b) => a - b);
  return Math.max(spec.floor, spec.margin * quantileSorted(sorted, spec.quantile));
}

export class RoomScoreLimit {
  private scores: number[] = [];
  private current: number | undefined;
  /** Window ends sent in learning mode whose prediction has not come back (insertion order). */
  private readonly pending = new Set<number>();
  private readonly needed: number;

  /**
   * @param learnWindows the room baseline's learning windows: the limit needs at least
   *   min(spec.minScores, ⌈learnWindows / 2⌉) scores, and at most 2 × learnWindows windows wait.
   */
  constructor(
    readonly spec: Readonly<RoomLimitSpec>,
    private readonly learnWindows: number,
  ) {
    this.needed = Math.max(1, Math.min(spec.minScores, Math.ceil(learnWindows / 2)));
  }

  /** The room's limit; undefined while it learns. */
  get limit(): number | undefined {
    return this.current;
  }

  get collected(): number {
    return this.scores.length;
  }

  /** A window went out in learning mode: its prediction's score is a learning-day score. */
  sentLearning(windowEnd: number): void {
    this.pending.add(windowEnd);
    // predictions that never come (inference down) must not grow this without bound
    while (this.pending.size > 2 * this.learnWindows) this.pending.delete(this.pending.values().next().value as number);
  }

  /**
   * A prediction's score: true when it belonged to a learning-mode window (collected, not to be
   * alerted on), false for a window scored against the room's limit.
   */
  takeScore(windowEnd: number, score: number | undefined): boolean {
    if (!this.pending.delete(windowEnd)) return false;
    // the first learning day's scores only, as the limit was chosen on (evaluate_room_threshold.py)
    if (this.current === undefined && score !== undefined && Number.isFinite(score) && this.scores.length < this.learnWindows) {
      this.scores.push(score * this.spec.floor);
    }
    return true;
  }

  /**
   * Sets the limit once the room's baseline is calibrated and its learning-day scores are in: every
   * learning-mode window answered (at least the minimum of scores), or a full learning day of
   * scores whatever is still missing (predictions lost while inference was down). True when it did now.
   */
  settle(baselineCalibrated: boolean): boolean {
    if (this.current !== undefined || !baselineCalibrated) return false;
    const answered = this.pending.size === 0 && this.scores.length >= this.needed;
    if (!answered && this.scores.length < this.learnWindows) return false;
    this.current = roomLimitOf(this.scores, this.spec);
    this.scores = [];
    return true;
  }

  snapshot(): RoomScoreLimitSnapshot {
    return this.current !== undefined ? { limit: this.current, scores: [] } : { scores: [...this.scores] };
  }

  restore(s: RoomScoreLimitSnapshot): void {
    if (s.limit !== undefined && Number.isFinite(s.limit) && s.limit >= this.spec.floor) {
      this.current = s.limit;
      this.scores = [];
      return;
    }
    this.scores = s.scores.filter((v) => Number.isFinite(v)).slice(0, this.learnWindows);
  }
}
