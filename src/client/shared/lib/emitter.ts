// A typed event emitter for the client libraries: a map of named listeners, not a global string bus.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type EventMap = Record<string, (...args: any[]) => void>;

/** Emitter — `on(name, fn)` returns the function that removes the listener. */
export class Emitter<E extends EventMap> {
  private readonly listeners = new Map<keyof E, Set<E[keyof E]>>();

  on<K extends keyof E>(name: K, fn: E[K]): () => void {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(fn);
    return () => set.delete(fn);
  }

  protected emit<K extends keyof E>(name: K, ...args: Parameters<E[K]>): void {
    for (const fn of this.listeners.get(name) ?? []) {
      try {
        fn(...args);
      } catch (err) {
        // One broken listener must not stop the others (or the call machinery that emitted).
        console.error(`listener for "${String(name)}" failed`, err);
      }
    }
  }
}
