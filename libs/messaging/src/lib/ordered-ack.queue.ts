/**
 * Keeps acknowledgements in receive order. MQTT 3.1.1 §4.6 and MQTT 5 §4.6 require a client to
 * send PUBACKs in the order it received the PUBLISH packets, yet the bridge finishes messages in
 * batches; this queue releases an acknowledgement only when it and every earlier one are done.
 */
export class OrderedAckQueue<T> {
  private readonly slots: Array<{ ack: T | undefined; done: boolean; generation: number }> = [];
  private head = 0;

  /** Adds a slot at the tail; returns its ticket. */
  push(generation: number): number {
    this.slots.push({ ack: undefined, done: false, generation });
    return this.head + this.slots.length - 1;
  }

  /** Attaches the acknowledgement to send for a ticket (it may arrive after the slot was pushed). */
  setAck(ticket: number, ack: T): void {
    const slot = this.slots[ticket - this.head];
    if (slot) slot.ack = ack;
  }

  /** Marks tickets done. */
  complete(tickets: readonly number[]): void {
    for (const t of tickets) {
      const slot = this.slots[t - this.head];
      if (slot) slot.done = true;
    }
  }

  /**
   * Removes the done prefix and returns its acknowledgements in receive order. Slots from another
   * connection `generation` are dropped whatever their state: a PUBACK must go on the connection
   * that received the PUBLISH, and the broker redelivers the rest after reconnecting.
   */
  release(currentGeneration: number): T[] {
    const out: T[] = [];
    while (this.slots.length > 0) {
      const slot = this.slots[0]!;
      const stale = slot.generation !== currentGeneration;
      // A done slot of the live connection whose acknowledgement is not attached yet holds the
      // line: releasing later ones first would break receive order.
      if (!stale && (!slot.done || slot.ack === undefined)) break;
      this.slots.shift();
      this.head++;
      if (!stale) out.push(slot.ack as T);
    }
    return out;
  }

  /** Slots not yet released. */
  get size(): number {
    return this.slots.length;
  }
}
