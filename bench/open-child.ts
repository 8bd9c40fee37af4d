/**
 * One cold start, in a fresh process (run.ts spawns it under `node --expose-gc`): opens the log at
 * argv[2] and answers one query, or reads it raw (argv[3] = 'iterator'). Prints one JSON line.
 *
 * Memory: heap used after a full gc, before the open and after it (with the state held), divided by
 * the change sources; and the peak heap used while replaying, sampled every 2 ms between chunks.
 */
import { getHeapStatistics } from 'node:v8'
import { rawIteratorRead } from './baselines.js'
import { gc, nowNs, usSince } from './util.js'

const [location, mode, optionsJson] = process.argv.slice(2) as [string, string, string | undefined]

if (mode === 'iterator') {
  const result = await rawIteratorRead(location)
  process.stdout.write(JSON.stringify(result) + '\n')
} else {
  const { ChangeSources } = await import('../src/index.js')
  const extra = optionsJson === undefined ? {} : (JSON.parse(optionsJson) as Record<string, unknown>)
  gc()
  const heapBefore = getHeapStatistics().used_heap_size
  let peak = heapBefore
  const sampler = setInterval(() => {
    const used = getHeapStatistics().used_heap_size
    if (used > peak) peak = used
  }, 2)
  const start = nowNs()
  const cs = await ChangeSources.open({ location, sync: false, ...extra } as Parameters<typeof ChangeSources.open>[0])
  const first = await cs.getChangeSource(1)
  const openMs = usSince(start) / 1000
  clearInterval(sampler)
  const used = getHeapStatistics().used_heap_size
  if (used > peak) peak = used
  if (first === null) throw new Error('change source 1 is missing')
  const count = (await cs.getChangeSources()).length
  gc()
  const heapAfter = getHeapStatistics().used_heap_size
  process.stdout.write(
    JSON.stringify({
      openMs,
      head: cs.head,
      changeSources: count,
      heapBefore,
      heapAfter,
      bytesPerChangeSource: (heapAfter - heapBefore) / count,
      peakHeap: peak,
      peakAboveBefore: peak - heapBefore,
    }) + '\n',
  )
  await cs.close()
}
