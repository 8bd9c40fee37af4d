/**
 * Our write figures and their raw baselines, measured in pairs. The machine's speed drifts by
 * ±30% over seconds to minutes, so a baseline measured a minute before the figure it divides
 * compares two states of the machine, not two pieces of code. Each run here measures the raw
 * baseline and ours back to back, the order alternating from run to run so that neither side
 * always gets the fresher machine; a ratio is the median of the runs' own ratios.
 */
import type { Rate } from './baselines.js'
import { median } from './util.js'

export interface Pairs<F, R = Rate> {
  readonly raw: readonly R[]
  readonly ours: readonly F[]
}

/** `runs` runs of `raw` and `ours` back to back, raw first in the even runs. */
export async function inPairs<F, R = Rate>(runs: number, raw: () => Promise<R>, ours: () => Promise<F>): Promise<Pairs<F, R>> {
  const raws: R[] = []
  const ourFigures: F[] = []
  for (let run = 0; run < runs; run++) {
    if (run % 2 === 0) {
      raws.push(await raw())
      ourFigures.push(await ours())
    } else {
      ourFigures.push(await ours())
      raws.push(await raw())
    }
  }
  return { raw: raws, ours: ourFigures }
}

/** Each run's `ours(run) / raw(run).perSecond`. */
export function ratiosOf<F>(pairs: Pairs<F>, ours: (figure: F) => number): number[] {
  return pairs.ours.map((figure, run) => ours(figure) / pairs.raw[run]!.perSecond)
}

/** The median of the runs' own ratios (ratiosOf). */
export function pairedRatio<F>(pairs: Pairs<F>, ours: (figure: F) => number): number {
  return median(ratiosOf(pairs, ours))
}

/** The run whose `key` is the median (the lower middle one for an even count), carrying its other figures (p50, p99) with it, and every run's `key`. */
export function medianRun<T>(results: readonly T[], key: (result: T) => number): T & { runs: number[] } {
  const keys = results.map(key)
  const middle = [...keys].sort((a, b) => a - b)[(keys.length - 1) >> 1]!
  return { ...results[keys.indexOf(middle)]!, runs: keys }
}
