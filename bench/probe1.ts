import { rawSequentialPut, rawChainedBatch } from './baselines.js'
import { sequentialWrites, concurrentWrites } from './writes.js'
console.log('raw put nosync', await rawSequentialPut(false, 3000, 3))
console.log('raw put sync', await rawSequentialPut(true, 500, 3))
console.log('relaxed', await sequentialWrites(false, 2000, 3))
console.log('durable', await sequentialWrites(true, 300, 3))
for (const c of [1, 8, 64, 256]) {
  console.log('raw batch', c, await rawChainedBatch(c, true, Math.max(20, Math.floor(2000 / c)), 3))
  console.log('conc', c, await concurrentWrites(c, Math.max(4, Math.floor(2000 / c)), 3))
}
