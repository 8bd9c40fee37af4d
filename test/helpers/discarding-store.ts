/**
 * A store that takes every append and keeps nothing but its head: for driving the writer alone,
 * with no I/O, where nothing reads the log back.
 */
import type { LogStore } from '../../src/stores/log-store.js'

export function discardingStore(head = 0): LogStore {
  return {
    writers: 'single',
    async head() {
      return head
    },
    async append(entries) {
      head = entries[entries.length - 1]!.seq
      return { appended: true }
    },
    async writeSnapshot() {},
    async *read() {},
    async *readSnapshot() {},
    async close() {},
  }
}
