/** What `GET /sandbox/tally` answers. */
export type TallySnapshot = {
  /** Accepted messages per tracking id, both providers together: a notification sent by each counts 2. */
  counts: Record<string, number>;
  /** Accepted messages that carried no tracking id. */
  untracked: number;
  /**
   * False once a message with an id not yet counted arrived while `maxTracked` ids were: that
   * message, and every later one of a new id, is missing from `counts`, so a check for missing or
   * repeated emails cannot rely on them.
   */
  complete: boolean;
  /** The messages left out of `counts` for that reason. */
  notCounted: number;
};

/**
 * About 100 bytes of memory per id (its text and its entry): a million ids, 100 MB. Enough for any
 * test and for a bench run; a soak sizes it to its run.
 */
export const DEFAULT_MAX_TALLIED = 1_000_000;

/**
 * How many times each tracking id reached the sandbox, over every message it accepted since the
 * start or the last clear, whatever the store kept: a test that counts missing or repeated emails
 * over hundreds of thousands of them reads these counts, and the store, bounded to what a person
 * reads in the inbox, keeps only the newest messages whole. Keeping every message whole to count
 * them cost the sandbox as much CPU again as answering the sends (bench/README.md).
 */
export class DeliveryTally {
  private readonly counts = new Map<string, number>();
  private untracked = 0;
  private notCounted = 0;

  constructor(readonly maxTracked = DEFAULT_MAX_TALLIED) {
    if (!Number.isSafeInteger(maxTracked) || maxTracked < 1) {
      throw new RangeError(`maxTracked must be a whole number of at least 1, got ${maxTracked}`);
    }
  }

  record(trackingId: string | undefined): void {
    if (trackingId === undefined) {
      this.untracked += 1;
      return;
    }
    const count = this.counts.get(trackingId);
    if (count !== undefined) this.counts.set(trackingId, count + 1);
    else if (this.counts.size < this.maxTracked) this.counts.set(trackingId, 1);
    else this.notCounted += 1;
  }

  snapshot(): TallySnapshot {
    return {
      // Own properties, so an id such as "__proto__" is a count like any other.
      counts: Object.fromEntries(this.counts),
      untracked: this.untracked,
      complete: this.notCounted === 0,
      notCounted: this.notCounted,
    };
  }

  clear(): void {
    this.counts.clear();
    this.untracked = 0;
    this.notCounted = 0;
  }
}
