/**
 * Gathers concurrent writes of one kind into one statement. A write starts at once while fewer
 * than `statementsInFlight` statements of its kind are running; otherwise it waits, and the next
 * statement takes every write that waited, up to `maxPerStatement`. So an idle API writes each
 * command alone, as soon as it comes, and a busy one writes many per statement without ever waiting
 * on a timer: the statement's rows are what piled up while the last one ran. Per row, a statement
 * costs PostgreSQL about a third of a statement of its own (parsing, planning, the round trip and
 * the commit's flush are shared; bench/README.md, "What gathering commands could save").
 *
 * A write that the statement left unwritten (its cart changed meanwhile) answers undefined, as
 * its statement alone would have, and its caller reads again. A statement that fails as a whole
 * (a deadlock with another instance's, a constraint, a lost connection) fails every row of it,
 * though the fault may be one row's: each of its writes is then run alone, so that each gets its
 * own outcome, the error included.
 */
export type GatheredWrite<In, Out> = {
  maxPerStatement: number;
  statementsInFlight: number;
  /** What a statement may hold once: writes with a key already in it wait for the next one. */
  keyOf: (input: In) => string;
  /** The writes in one statement; what each wrote, by key (absent: unwritten). */
  writeMany: (inputs: readonly In[]) => Promise<ReadonlyMap<string, Out>>;
  /** One write alone, in its own statement: undefined when unwritten. */
  writeOne: (input: In) => Promise<Out | undefined>;
  /** After each statement: the writes it held, and whether it failed and they were run alone. */
  onStatement?: (writes: number, failed: boolean) => void;
};

type Waiting<In, Out> = { input: In; resolve: (out: Out | undefined) => void; reject: (error: unknown) => void };

export type WriteGatherer<In, Out> = {
  write: (input: In) => Promise<Out | undefined>;
  /** Writes waiting for a statement: requests that wait for the database, as much as a pool's. */
  waiting: () => number;
};

export function createWriteGatherer<In, Out>(kind: GatheredWrite<In, Out>): WriteGatherer<In, Out> {
  let queue: Waiting<In, Out>[] = [];
  let running = 0;

  const startStatements = () => {
    while (running < kind.statementsInFlight && queue.length > 0) {
      const statement = takeStatement();
      running++;
      void runStatement(statement).finally(() => {
        running--;
        startStatements();
      });
    }
  };

  // In arrival order; a write whose key the statement holds already keeps its place for the next.
  const takeStatement = (): Waiting<In, Out>[] => {
    const keys = new Set<string>();
    const taken: Waiting<In, Out>[] = [];
    const left: Waiting<In, Out>[] = [];
    for (const waiting of queue) {
      const key = kind.keyOf(waiting.input);
      if (taken.length < kind.maxPerStatement && !keys.has(key)) {
        keys.add(key);
        taken.push(waiting);
      } else {
        left.push(waiting);
      }
    }
    queue = left;
    return taken;
  };

  const runAlone = ({ input, resolve, reject }: Waiting<In, Out>) => kind.writeOne(input).then(resolve, reject);

  const runStatement = async (statement: Waiting<In, Out>[]) => {
    const [only] = statement;
    if (only && statement.length === 1) {
      kind.onStatement?.(1, false);
      return runAlone(only);
    }
    let written: ReadonlyMap<string, Out>;
    try {
      written = await kind.writeMany(statement.map((waiting) => waiting.input));
    } catch {
      kind.onStatement?.(statement.length, true);
      await Promise.all(statement.map(runAlone));
      return;
    }
    kind.onStatement?.(statement.length, false);
    for (const { input, resolve } of statement) resolve(written.get(kind.keyOf(input)));
  };

  return {
    write: (input) =>
      new Promise((resolve, reject) => {
        queue.push({ input, resolve, reject });
        startStatements();
      }),
    waiting: () => queue.length,
  };
}
