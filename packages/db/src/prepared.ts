import type { Compilable, CompiledQuery, Kysely } from 'kysely';

/** Stands in for a parameter while the query is compiled; found again by identity in the compiled parameters. */
class Slot {
  constructor(readonly name: string) {}
}

interface Compiled {
  /** The compiled query with the stand-ins as its parameters; its node names the statement's kind in metrics. */
  query: CompiledQuery;
  /** For each SQL parameter: the name of the value to put there, or the constant the query was built with. */
  slots: (Slot | unknown)[];
}

/**
 * A query built and compiled once per database and per set of values present, then run with new values. kysely
 * builds and compiles the same SQL again on every call, which cost a GET by id on SQLite about a sixth of its
 * time (bench/README.md). The builder gets a stand-in for each value; values left undefined get undefined, so
 * it may leave out the clauses they drive (each combination is compiled once, when first used). Stand-ins
 * only travel as values: compute anything derived (`limit + 1`, `flag ? 1 : 0`) before the call.
 * Written here because kysely-params, the library that does this, requires kysely ^0.24.
 */
export function prepared<DB, Params extends Record<string, unknown>, Row>(
  build: (db: Kysely<DB>, values: Params) => Compilable<Row>,
): (db: Kysely<DB>, values: Params) => Promise<Row[]> {
  const byDatabase = new WeakMap<Kysely<DB>, Map<string, Compiled>>();
  const compile = (db: Kysely<DB>, values: Params): Compiled => {
    const standIns = Object.fromEntries(
      Object.keys(values)
        .filter((name) => values[name] !== undefined)
        .map((name) => [name, new Slot(name)]),
    );
    // Each stand-in is typed as its value for the builder only; it never reaches a database (each call swaps it for its value).
    const query = build(db, standIns as Params).compile();
    return { query, slots: [...query.parameters] };
  };
  return async (db, values) => {
    // The names of the values given: which compiled form this call needs.
    let key = '';
    for (const name in values) if (values[name] !== undefined) key += `${name},`;
    let queries = byDatabase.get(db);
    if (queries === undefined) {
      queries = new Map();
      byDatabase.set(db, queries);
    }
    let compiled = queries.get(key);
    if (compiled === undefined) {
      compiled = compile(db, values);
      queries.set(key, compiled);
    }
    const { slots } = compiled;
    const parameters = new Array<unknown>(slots.length);
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i];
      parameters[i] = slot instanceof Slot ? values[slot.name] : slot;
    }
    const query: CompiledQuery<Row> = { ...compiled.query, parameters };
    const { rows } = await db.executeQuery<Row>(query);
    return rows;
  };
}
