/**
 * The worker thread behind chain-verifier.ts: checks stretches of the log's hash chain while the
 * main thread folds the same records. It answers each stretch with the index of its first break.
 */
import { parentPort } from 'node:worker_threads'
import { firstChainBreak } from './record-codec.js'
import type { StretchRequest, StretchAnswer } from './chain-verifier.js'

parentPort!.on('message', ({ stretch, previousHash, values }: StretchRequest) => {
  const answer: StretchAnswer = { stretch, breakIndex: firstChainBreak(previousHash, values) }
  parentPort!.postMessage(answer)
})
