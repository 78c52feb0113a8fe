/**
 * The simulator's agenda: a binary min-heap ordered by (time, insertion sequence), so
 * events at the same virtual time run in the order they were scheduled (determinism).
 */
import { MinHeap } from '../../protocols/min-heap.js'

export interface Scheduled {
  at: number
  seq: number
}

export class EventQueue<T extends Scheduled> extends MinHeap<T> {
  constructor () {
    super(before)
  }
}

function before (x: Scheduled, y: Scheduled): boolean {
  return x.at < y.at || (x.at === y.at && x.seq < y.seq)
}
