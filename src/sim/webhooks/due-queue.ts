/** Items waiting for a moment (epoch ms): a binary min-heap, so thousands of held-back events stay cheap. */
export function createDueQueue<T extends { dueAt: number }>() {
  const heap: T[] = [];

  const swap = (a: number, b: number) => {
    const held = heap[a] as T;
    heap[a] = heap[b] as T;
    heap[b] = held;
  };
  const dueAt = (index: number) => (heap[index] as T).dueAt;

  function up(index: number): void {
    let child = index;
    while (child > 0) {
      const parent = (child - 1) >> 1;
      if (dueAt(parent) <= dueAt(child)) return;
      swap(parent, child);
      child = parent;
    }
  }

  function down(index: number): void {
    let parent = index;
    for (;;) {
      const left = parent * 2 + 1;
      const right = left + 1;
      let smallest = parent;
      if (left < heap.length && dueAt(left) < dueAt(smallest)) smallest = left;
      if (right < heap.length && dueAt(right) < dueAt(smallest)) smallest = right;
      if (smallest === parent) return;
      swap(parent, smallest);
      parent = smallest;
    }
  }

  return {
    push(item: T): void {
      heap.push(item);
      up(heap.length - 1);
    },
    /** Removes and returns every item due at or before `now`, earliest first. */
    takeDue(now: number): T[] {
      const due: T[] = [];
      while (heap.length > 0 && dueAt(0) <= now) {
        due.push(heap[0] as T);
        const last = heap.pop() as T;
        if (heap.length > 0) {
          heap[0] = last;
          down(0);
        }
      }
      return due;
    },
    /** When the earliest item is due; undefined when none waits. */
    get nextDueAt(): number | undefined {
      return heap[0]?.dueAt;
    },
    get size(): number {
      return heap.length;
    },
    clear(): void {
      heap.length = 0;
    },
  };
}
