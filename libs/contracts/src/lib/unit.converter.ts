import type { UcumLhcUtils } from '@lhncbc/ucum-lhc';

/**
 * @lhncbc/ucum-lhc is loaded on the first conversion, not when @aiot/contracts is imported: only
 * the services that build a SensorCatalog (sensor-ingest, edge-local) convert units, and loading
 * it cost every service ≈ 5 MB of resident memory on import (≈ 14 MB once its definitions are built).
 */
let ucum: UcumLhcUtils | undefined;
function ucumUtils(): UcumLhcUtils {
  ucum ??= (require('@lhncbc/ucum-lhc') as typeof import('@lhncbc/ucum-lhc')).UcumLhcUtils.getInstance();
  return ucum;
}

/** `canonical = value * scale + offset`: every conversion between building units is affine. */
export interface AffineConversion {
  scale: number;
  offset: number;
}

/** Relative tolerance when checking that a conversion is affine (floating-point noise only). */
const AFFINE_TOLERANCE = 1e-9;

/**
 * The conversion from one UCUM code to another, worked out once from the UCUM definitions
 * (@lhncbc/ucum-lhc, the US National Library of Medicine's implementation) so that the hot path
 * is a multiply-add. Throws with the library's words when a code is not UCUM or the units are not
 * commensurable, and refuses conversions that are not affine (logarithmic units such as dB to Pa).
 */
export function affineConversion(fromUcum: string, toUcum: string): AffineConversion {
  const utils = ucumUtils();
  for (const code of new Set([fromUcum, toUcum])) {
    const valid = utils.validateUnitString(code);
    if (valid.status !== 'valid') throw new Error(`"${code}" is not a UCUM code: ${valid.msg.join('; ') || valid.status}`);
  }
  // Same code: identity, also for the units UCUM cannot convert arithmetically (dB[SPL]).
  if (fromUcum === toUcum) return { scale: 1, offset: 0 };
  const at = (x: number): number => {
    const r = utils.convertUnitTo(fromUcum, x, toUcum);
    if (r.status !== 'succeeded' || r.toVal === null || !Number.isFinite(r.toVal)) {
      throw new Error(`cannot convert ${fromUcum} to ${toUcum}: ${r.msg.join('; ') || r.status}`);
    }
    return r.toVal;
  };
  const offset = at(0);
  const scale = at(1) - offset;
  const probe = at(1000);
  const expected = 1000 * scale + offset;
  if (!(scale !== 0 && Math.abs(probe - expected) <= AFFINE_TOLERANCE * Math.max(1, Math.abs(expected)))) {
    throw new Error(`the conversion from ${fromUcum} to ${toUcum} is not affine`);
  }
  return { scale, offset };
}
