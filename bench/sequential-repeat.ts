/**
 * The relaxed sequential section alone, repeated, to show how far one machine's figure moves on the
 * same code: `npx tsc -p tsconfig.bench.json && node --expose-gc build-bench/bench/sequential-repeat.js [runs]`
 * (default 8). Each run is one pair of `npm run bench` (paired.ts): the raw put baseline and the
 * component's sequential writes back to back, in alternating order; it prints each run's ratios.
 */
import { rawSequentialPut } from './baselines.js'
import { inPairs } from './paired.js'
import { sequentialWrites } from './writes.js'

const runs = Number(process.argv[2] ?? 8)
const pairs = await inPairs(runs, () => rawSequentialPut(false, 3000), () => sequentialWrites(false, 3000))
pairs.ours.forEach((ours, index) => {
  const raw = pairs.raw[index]!
  const ratio = (recordsPerSecond: number): string => (recordsPerSecond / raw.perSecond).toFixed(2)
  console.log(
    `run ${index + 1} (${index % 2 === 0 ? 'raw first' : 'ours first'}): raw put ${raw.perSecond.toFixed(0)}/s; ` +
      `registrations ${ratio(ours.register.recordsPerSecond)}, claims ${ratio(ours.claim.recordsPerSecond)}, ` +
      `releases ${ratio(ours.release.recordsPerSecond)}, cycles ${ratio(ours.cycle.recordsPerSecond)} × raw put`,
  )
})
