// How the services' hot statements are planned, checked without running them: EXPLAIN of the
// statement as the service sends it (text, parameters, prepared or not). Nothing here imports
// vitest, so a script can use it too.

/** What a repository sent: the statement's text, its parameters, and its name if it is prepared. */
export type RecordedStatement = { label: string; name: string | undefined; text: string; values: unknown[] };

type QueryConfigLike = { text: string; values?: unknown[]; name?: string };

/**
 * A stand-in for a pool or client that records each statement and answers with no rows: call the
 * repositories with realistic arguments, then EXPLAIN exactly what they would have sent.
 */
export function statementRecorder() {
  const statements: RecordedStatement[] = [];
  let label = 'statement';
  const db = {
    query: async (config: string | QueryConfigLike, values?: unknown[]) => {
      const query = typeof config === 'string' ? { text: config, values } : config;
      statements.push({ label, name: query.name, text: query.text, values: query.values ?? values ?? [] });
      return { rows: [], rowCount: 0, command: '', oid: 0, fields: [] };
    },
  };
  return {
    /** Stands in for a pg.Pool or pg.PoolClient: the repositories only call `query`. */
    db: db as any,
    statements,
    /** Statements recorded while `work` runs are labelled `name` (a suffix tells several apart). */
    async record(name: string, work: () => Promise<unknown>): Promise<void> {
      const before = statements.length;
      label = name;
      // A repository may object to the empty answer (INSERT ... RETURNING with no row): the
      // statement was recorded before that, which is all that is wanted here.
      await work().catch((error: unknown) => {
        if (statements.length === before) throw error;
      });
      const added = statements.slice(before);
      if (added.length > 1) {
        for (const [index, statement] of added.entries()) statement.label = `${name} #${index + 1}`;
      }
    },
  };
}

type Queryable = { query: (text: string, values?: unknown[]) => Promise<{ rows: any[] }> };

/** A plan node as EXPLAIN (FORMAT JSON) gives it. */
export type PlanNode = Record<string, unknown> & { 'Node Type': string; Plans?: PlanNode[] };

/** Every index of these tables, with its table and the name of its leading column. */
export async function readIndexes(db: Queryable, tables: readonly string[]): Promise<Map<string, IndexInfo>> {
  const { rows } = await db.query(
    `SELECT c.relname AS index, t.relname AS "table", a.attname AS leading
       FROM pg_index i
       JOIN pg_class c ON c.oid = i.indexrelid
       JOIN pg_class t ON t.oid = i.indrelid
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
      WHERE i.indrelid = ANY($1::regclass[])`,
    [tables],
  );
  return new Map(
    rows.map((row) => [row.index as string, { table: row.table as string, leading: row.leading as string }]),
  );
}

export type IndexInfo = { table: string; leading: string };

/**
 * The nodes of a plan that read a hot table without an index leading them to the rows: a Seq Scan,
 * or an index scan whose condition leaves the index's leading column free (a walk of the whole
 * index). `tables` are bare table names (EXPLAIN without VERBOSE shows no schema).
 */
export function unindexedReads(plan: PlanNode, tables: readonly string[], indexes: Map<string, IndexInfo>): string[] {
  const problems: string[] = [];
  const visit = (node: PlanNode) => {
    const type = node['Node Type'];
    const relation = node['Relation Name'] as string | undefined;
    const indexName = node['Index Name'] as string | undefined;
    if (type === 'Seq Scan' && relation && tables.includes(relation)) problems.push(`Seq Scan on ${relation}`);
    const index = indexName ? indexes.get(indexName) : undefined;
    if (index && tables.includes(index.table)) {
      const condition = String(node['Index Cond'] ?? '');
      if (!new RegExp(`\\b${index.leading}\\b`).test(condition))
        problems.push(`${type} of ${indexName} without a condition on ${index.leading} (${condition || 'none'})`);
    }
    for (const child of node.Plans ?? []) visit(child);
  };
  visit(plan);
  return problems;
}

/** The plan PostgreSQL makes for this execution, parameters known (a custom plan). */
export async function explainCustom(db: Queryable, statement: RecordedStatement): Promise<PlanNode> {
  await db.query('SET plan_cache_mode = force_custom_plan');
  const { rows } = await db.query(`EXPLAIN (FORMAT JSON) ${statement.text}`, statement.values);
  return rows[0]['QUERY PLAN'][0].Plan as PlanNode;
}

/**
 * Prepares the statement under `name` in this session: the session keeps the plan made at its
 * first generic EXPLAIN, as a prepared statement of a long-lived connection keeps its generic plan.
 */
export async function prepare(db: Queryable, name: string, statement: RecordedStatement): Promise<void> {
  await db.query(`PREPARE ${name} AS ${statement.text}`);
}

/** The generic plan of a prepared statement (made now, or kept from an earlier call in this session). */
export async function explainGeneric(db: Queryable, name: string, statement: RecordedStatement): Promise<PlanNode> {
  await db.query('SET plan_cache_mode = force_generic_plan');
  const { rows } = await db.query(`EXPLAIN (FORMAT JSON) ${executeCall(name, statement)}`);
  return rows[0]['QUERY PLAN'][0].Plan as PlanNode;
}

/** `EXECUTE name(...)` with the statement's parameters written as literals. */
function executeCall(name: string, statement: RecordedStatement): string {
  const args = statement.values.map(toLiteral);
  return `EXECUTE ${name}${args.length > 0 ? `(${args.join(', ')})` : ''}`;
}

/** A parameter written as an SQL literal of unknown type: EXECUTE takes expressions, not bind values. */
function toLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  return `'${toText(value).replaceAll("'", "''")}'`;
}

function toText(value: unknown): string {
  if (Buffer.isBuffer(value)) return `\\x${value.toString('hex')}`;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value))
    return `{${value.map((item) => (item === null ? 'NULL' : `"${toText(item).replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`)).join(',')}}`;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

type Pool = Queryable & { connect: () => Promise<Queryable & { release: () => void }> };

/** Problems found in each situation, one line per plan node that reads a hot table without an index. */
export type PlanReport = {
  /** Prepared statements planned on the empty, analyzed tables, explained again once the tables are large. */
  keptFromEmpty: string[];
  /** Each statement planned now, on the large tables with statistics from when they were empty. */
  custom: string[];
  generic: string[];
  /**
   * Each statement planned on fresh statistics by a session without the services' `enable_seqscan =
   * off` (a connection pooler that drops startup options, a hand-run psql): what the statement's own
   * shape gives, not the session setting.
   */
  withoutSessionOptions: string[];
};

/**
 * The situations a long-running service meets with autovacuum off: its prepared statements keep the
 * generic plan they got on the (empty) tables at start-up, and statistics stay those of the empty
 * tables while the tables grow. `pool` must open sessions as the service does (same settings);
 * `fill` makes the tables large. Unnamed statements are planned at each execution, so only named
 * ones can keep a plan.
 */
export async function checkStatementPlans({
  pool,
  tables,
  statements,
  fill,
}: {
  pool: Pool;
  /** Schema-qualified. */
  tables: readonly string[];
  statements: readonly RecordedStatement[];
  fill: () => Promise<void>;
}): Promise<PlanReport> {
  const bare = tables.map((table) => table.split('.').at(-1) as string);
  await pool.query(`ANALYZE ${tables.join(', ')}`);
  const indexes = await readIndexes(pool, tables);
  const check = (statement: RecordedStatement, plan: PlanNode) =>
    unindexedReads(plan, bare, indexes).map((problem) => `${statement.label}: ${problem}`);
  const report: PlanReport = { keptFromEmpty: [], custom: [], generic: [], withoutSessionOptions: [] };

  const session = await pool.connect();
  try {
    const named = statements.filter((statement) => statement.name !== undefined);
    for (const [index, statement] of named.entries()) {
      await prepare(session, `kept_${index}`, statement);
      await explainGeneric(session, `kept_${index}`, statement);
    }
    await fill();
    for (const [index, statement] of named.entries())
      report.keptFromEmpty.push(...check(statement, await explainGeneric(session, `kept_${index}`, statement)));
    for (const [index, statement] of statements.entries()) {
      report.custom.push(...check(statement, await explainCustom(session, statement)));
      await prepare(session, `fresh_${index}`, statement);
      report.generic.push(...check(statement, await explainGeneric(session, `fresh_${index}`, statement)));
    }
    await session.query(`ANALYZE ${tables.join(', ')}`);
    await session.query('SET enable_seqscan = on');
    for (const statement of statements)
      report.withoutSessionOptions.push(...check(statement, await explainCustom(session, statement)));
  } finally {
    session.release();
  }
  return report;
}

/**
 * Runs the statement (EXPLAIN ANALYZE, BUFFERS) in a transaction that is rolled back, so that what
 * it read is counted and what it wrote is not kept. `generic`: as a prepared statement's generic plan.
 */
export async function explainRun(
  db: Queryable,
  statement: RecordedStatement,
  { generic }: { generic: boolean },
): Promise<PlanNode> {
  let prepared = false;
  await db.query('BEGIN');
  try {
    await db.query(`SET LOCAL plan_cache_mode = ${generic ? 'force_generic_plan' : 'force_custom_plan'}`);
    if (!generic) {
      const { rows } = await db.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${statement.text}`, statement.values);
      return rows[0]['QUERY PLAN'][0].Plan as PlanNode;
    }
    // PREPARE outlives the transaction: deallocated below, so that the name can be used again.
    await prepare(db, 'explain_run', statement);
    prepared = true;
    const { rows } = await db.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${executeCall('explain_run', statement)}`);
    return rows[0]['QUERY PLAN'][0].Plan as PlanNode;
  } finally {
    await db.query('ROLLBACK');
    if (prepared) await db.query('DEALLOCATE explain_run');
  }
}

/**
 * Pages (shared buffers, hit or read) that a plan's scans of `table` touched: each scan node with
 * what its own index scans read under it. Writes (the update's new row versions and their index
 * entries) are not counted: they are the rows' own, whatever the history.
 */
export function pagesScanned(plan: PlanNode, table: string): number {
  const SCANS = ['Seq Scan', 'Index Scan', 'Index Only Scan', 'Bitmap Heap Scan'];
  return pagesOf(plan, (node) => SCANS.includes(node['Node Type']) && node['Relation Name'] === table);
}

/** Pages (shared buffers, hit or read) of a plan's scans through `index`, their heap fetches included. */
export function pagesThroughIndex(plan: PlanNode, index: string): number {
  return pagesOf(plan, (node) => node['Index Name'] === index);
}

/** The buffers of the nodes `counted` picks, each with what ran under it; the others' children searched. */
function pagesOf(node: PlanNode, counted: (node: PlanNode) => boolean): number {
  if (counted(node)) return Number(node['Shared Hit Blocks'] ?? 0) + Number(node['Shared Read Blocks'] ?? 0);
  return (node.Plans ?? []).reduce((pages, child) => pages + pagesOf(child, counted), 0);
}
