// A promise wrapper over one IndexedDB database whose object stores each hold one kind of record.

/**
 * IdbDatabase — `S` maps each store's name to its record type. Opening never throws: without
 * IndexedDB (or when the browser refuses it) callers get null and keep their state in memory.
 */
export class IdbDatabase<S extends Record<string, object>> {
  private constructor(private readonly db: IDBDatabase) {}

  /** open — creates the stores (by name, with their key paths) on first use. */
  static open<S extends Record<string, object>>(name: string, keyPaths: { [K in keyof S]: string }): Promise<IdbDatabase<S> | null> {
    if (typeof indexedDB === 'undefined') return Promise.resolve(null);
    return new Promise((resolve) => {
      const req = indexedDB.open(name, 1);
      req.onupgradeneeded = () => {
        for (const [store, keyPath] of Object.entries(keyPaths)) {
          if (!req.result.objectStoreNames.contains(store)) req.result.createObjectStore(store, { keyPath });
        }
      };
      req.onsuccess = () => resolve(new IdbDatabase<S>(req.result));
      req.onerror = () => resolve(null);
      req.onblocked = () => resolve(null);
    });
  }

  all<K extends keyof S & string>(store: K): Promise<S[K][]> {
    return this.run(store, 'readonly', (s) => s.getAll()) as Promise<S[K][]>;
  }

  get<K extends keyof S & string>(store: K, key: string): Promise<S[K] | undefined> {
    return this.run(store, 'readonly', (s) => s.get(key)) as Promise<S[K] | undefined>;
  }

  put<K extends keyof S & string>(store: K, rec: S[K]): Promise<void> {
    return this.run(store, 'readwrite', (s) => s.put(rec)).then(() => undefined);
  }

  delete(store: keyof S & string, key: string): Promise<void> {
    return this.run(store, 'readwrite', (s) => s.delete(key)).then(() => undefined);
  }

  private run(store: string, mode: IDBTransactionMode, fn: (s: IDBObjectStore) => IDBRequest): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const tx = this.db.transaction(store, mode);
      const req = fn(tx.objectStore(store));
      tx.oncomplete = () => resolve(req.result);
      tx.onerror = () => reject(tx.error ?? new Error('IndexedDB request failed'));
      tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
    });
  }
}
