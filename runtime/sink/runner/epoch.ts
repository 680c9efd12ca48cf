/** A moment of an Epoch: valid until the next change begins or ends. */
export type EpochToken = number;

/**
 * Tells whether anything a batch plan depends on besides its entries (quarantined keys, dead
 * letters, owned partitions, reader schemas, a failed batch) changed since the plan was made. A
 * batch is planned and prepared ahead while the one before is applied, and used only if its
 * token is still current. A change that takes several round trips moves the epoch when it
 * begins and again when it ends: a read ahead can land between two of them and see the change
 * half done (a key being quarantined not yet marked), and such a plan must not survive it.
 */
export class Epoch {
  private value = 0;

  /** The token of now, to check later with `isCurrent`. */
  token(): EpochToken {
    return this.value;
  }

  /** Whether nothing changed since `token` was taken. */
  isCurrent(token: EpochToken): boolean {
    return token === this.value;
  }

  /** A change begins: plans made from now until it ends are stale. */
  begin(): void {
    this.value++;
  }

  /** The change ended: plans made from now on see it whole. */
  end(): void {
    this.value++;
  }

  /** A change that happened at once (a partition lost, a batch failed). */
  changed(): void {
    this.value++;
  }

  /** Runs a change between `begin` and `end`, ending it however it ends. */
  async during<T>(change: () => Promise<T>): Promise<T> {
    this.begin();
    try {
      return await change();
    } finally {
      this.end();
    }
  }
}
