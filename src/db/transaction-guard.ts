import { AsyncLocalStorage } from 'node:async_hooks';

/** Set, in a transaction's async context, from its first statement until it ends. */
interface TransactionScope {
  open: boolean;
}

const transactionScope = new AsyncLocalStorage<TransactionScope>();

/**
 * A query made through the database handle (or a statement prepared on it) while the same code
 * path is inside one of its transactions. On PGlite, which has one connection, it would wait
 * forever for the transaction that is waiting for it; on Postgres it would take a second pooled
 * connection and not see the transaction's own writes.
 */
export class QueryInsideTransactionError extends Error {
  constructor(query: string) {
    const text = query.replace(/\s+/g, ' ').trim();
    super(
      `query through db inside a transaction: use the transaction handle (${text.length > 80 ? `${text.slice(0, 80)}…` : text})`,
    );
    this.name = 'QueryInsideTransactionError';
  }
}

/**
 * Called by the pool's query entry points, on every query: one `getStore()` and a property read
 * on the fast path.
 */
export function refuseInsideTransaction(query: string): void {
  if (transactionScope.getStore()?.open) throw new QueryInsideTransactionError(query);
}

/**
 * Runs a transaction's body in a scope of its own, closed when the body settles: a continuation
 * the body left running (a fire-and-forget write, a timer) may use the pool again once the
 * transaction is over.
 */
export async function inTransactionScope<T>(body: () => T | Promise<T>): Promise<T> {
  const scope: TransactionScope = { open: true };
  try {
    return await transactionScope.run(scope, body);
  } finally {
    scope.open = false;
  }
}
