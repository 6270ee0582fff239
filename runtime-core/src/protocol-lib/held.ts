/**
 * One channel's hold-back store, for generated protocols (the type of
 * `s.held[j]`, `Held<InMsg>`: block core/receive imports it from
 * `@egida/runtime-core/protocol-lib`): received, not yet delivered messages
 * of one source, by ssn, with the subset of the `Map` interface the blocks
 * use. Generic in the message type: nothing here reads a message.
 *
 * Why not a `Map`: on the live path a channel holds at most its next message
 * for a moment (set on receive, get + delete in the pump), so the Map went
 * 0 -> 1 -> 0 entries per message, and V8 reallocates an emptied Map's hash
 * table (`MapPrototypeDelete` -> `Runtime_MapShrink` -> `Rehash`): ~0.5 k
 * instructions per message on the overhead bench (docs/performance.md). Here
 * one message lives in a slot (two fields); a `Map` is created only when a
 * second message of the channel is held at the same time (out of order,
 * paused for a recovery round, replay waiting for a gap).
 *
 * Iteration (keys / values / entries) visits the slot first, then the Map in
 * insertion order, over a snapshot: deleting while iterating is safe, as with
 * a Map.
 */

/** Slot key when the slot is empty (ssns start at 1). */
const HELD_EMPTY = -1;

export class Held<M> {
  private slotKey: number = HELD_EMPTY;
  private slotMsg: M | undefined = undefined;
  private more: Map<number, M> | null = null;

  get size(): number {
    return (this.slotKey === HELD_EMPTY ? 0 : 1) + (this.more === null ? 0 : this.more.size);
  }

  get(k: number): M | undefined {
    if (k === this.slotKey) return this.slotMsg;
    return this.more === null ? undefined : this.more.get(k);
  }

  has(k: number): boolean {
    return k === this.slotKey || (this.more !== null && this.more.has(k));
  }

  set(k: number, m: M): this {
    if (k === this.slotKey) this.slotMsg = m;
    else if (this.slotKey === HELD_EMPTY && (this.more === null || !this.more.has(k))) {
      this.slotKey = k;
      this.slotMsg = m;
    } else (this.more ??= new Map()).set(k, m);
    return this;
  }

  delete(k: number): boolean {
    if (k === this.slotKey) {
      this.slotKey = HELD_EMPTY;
      this.slotMsg = undefined;
      return true;
    }
    return this.more !== null && this.more.delete(k);
  }

  clear(): void {
    this.slotKey = HELD_EMPTY;
    this.slotMsg = undefined;
    this.more = null;
  }

  entries(): IterableIterator<[number, M]> {
    const all: [number, M][] = [];
    if (this.slotKey !== HELD_EMPTY) all.push([this.slotKey, this.slotMsg!]);
    if (this.more !== null) for (const e of this.more) all.push(e);
    return all[Symbol.iterator]();
  }

  keys(): IterableIterator<number> {
    return Array.from(this.entries(), (e) => e[0])[Symbol.iterator]();
  }

  values(): IterableIterator<M> {
    return Array.from(this.entries(), (e) => e[1])[Symbol.iterator]();
  }

  [Symbol.iterator](): IterableIterator<[number, M]> {
    return this.entries();
  }
}
