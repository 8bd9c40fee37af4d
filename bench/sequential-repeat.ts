/**
 * The relaxed sequential section alone, repeated, to show how far one machine's figure moves on the
 * same code: `npx tsc -p tsconfig.bench.json && node --expose-gc build-bench/bench/sequential-repeat.js [runs]`
 * (default 8). Each run measures the raw put baseline and then the component's sequential writes,
 * exactly as `npm run bench` does, and prints the ratios.
 */
import { rawSequentialPut } from './baselines.js'
import { sequentialWrites } from './writes.js'

const runs = Number(process.argv[2] ?? 8)
for (let run = 1; run <= runs; run++) {
  const raw = await rawSequentialPut(false, 3000, 3)
  const ours = await sequentialWrites(false, 3000, 3)
  const ratio = (callsPerSecond: number): string => (callsPerSecond / raw.perSecond).toFixed(2)
  console.log(
    `run ${run}: raw put ${raw.perSecond.toFixed(0)}/s; registrations ${ratio(ours.register.callsPerSecond)}, ` +
      `claims ${ratio(ours.claim.callsPerSecond)}, releases ${ratio(ours.release.callsPerSecond)}, ` +
      `cycles ${ratio(ours.cycle.recordsPerSecond)} × raw put`,
  )
}
