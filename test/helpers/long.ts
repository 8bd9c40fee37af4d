/**
 * Run sizes for the reliability suites: modest by default, much larger with CHANGESOURCES_LONG=1.
 * `runs(ci, long)` picks one; the seed of a failing fast-check property is printed by fast-check.
 */
export const LONG = process.env.CHANGESOURCES_LONG === '1'

export function runs(ci: number, long: number): number {
  return LONG ? long : ci
}
