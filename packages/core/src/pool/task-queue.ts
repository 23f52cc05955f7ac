/** What the queue needs to know of a task. */
export interface Queued {
  readonly priority: number;
  /** Submission order; a requeued task keeps its own, so it goes back to its place. */
  readonly seq: number;
  /** False once the task left the queue some other way (aborted): it is skipped when reached. */
  queued: boolean;
}

/**
 * Binary max-heap on (priority, then earliest submission). Removal from the middle is lazy:
 * the caller clears `queued` and the entry is dropped when it surfaces, so abort is O(1).
 */
export class TaskQueue<T extends Queued> {
  private readonly heap: T[] = [];
  private live = 0;

  /** Tasks still waiting (excludes lazily removed ones). */
  get size(): number {
    return this.live;
  }

  push(task: T): void {
    task.queued = true;
    this.live++;
    const heap = this.heap;
    heap.push(task);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(task, heap[parent]!)) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = task;
  }

  /** The next task to run, without removing it. */
  peek(): T | undefined {
    this.dropRemoved();
    return this.heap[0];
  }

  shift(): T | undefined {
    this.dropRemoved();
    const top = this.heap[0];
    if (!top) return undefined;
    this.popTop();
    top.queued = false;
    this.live--;
    return top;
  }

  /** Marks a task as gone; O(1). */
  remove(task: T): boolean {
    if (!task.queued) return false;
    task.queued = false;
    this.live--;
    return true;
  }

  /** Removes and returns every waiting task. */
  drain(): T[] {
    const out = this.heap.filter((t) => t.queued);
    for (const t of out) t.queued = false;
    this.heap.length = 0;
    this.live = 0;
    return out;
  }

  private dropRemoved(): void {
    while (this.heap.length > 0 && !this.heap[0]!.queued) this.popTop();
  }

  private popTop(): void {
    const heap = this.heap;
    const last = heap.pop()!;
    if (heap.length === 0) return;
    let i = 0;
    const n = heap.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const child = r < n && before(heap[r]!, heap[l]!) ? r : l;
      if (!before(heap[child]!, last)) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
  }
}

function before(a: Queued, b: Queued): boolean {
  return a.priority > b.priority || (a.priority === b.priority && a.seq < b.seq);
}
