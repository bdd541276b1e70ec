/** The part of @lhncbc/ucum-lhc (the NLM's UCUM implementation, no types of its own) ingest uses. */
declare module '@lhncbc/ucum-lhc' {
  interface UcumConversion {
    status: 'succeeded' | 'failed' | 'error';
    toVal: number | null;
    msg: string[];
  }
  interface UcumValidation {
    status: 'valid' | 'invalid' | 'error';
    msg: string[];
  }
  interface UcumLhcUtils {
    validateUnitString(uStr: string): UcumValidation;
    convertUnitTo(fromUnitCode: string, fromVal: number, toUnitCode: string): UcumConversion;
  }
  export const UcumLhcUtils: { getInstance(): UcumLhcUtils };
}
