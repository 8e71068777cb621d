// A list whose rows are keyed and rebuilt only when what they show changed, so focus and hover survive live updates.

/** KeyedList — `render` puts one row per entry in order; a row is rebuilt only when its signature changed. */
export class KeyedList<T> {
  private readonly rows = new Map<string, { sig: string; li: HTMLLIElement }>();

  constructor(
    private readonly list: HTMLElement,
    private readonly key: (t: T) => string,
    private readonly sig: (t: T) => string,
    private readonly build: (t: T) => HTMLLIElement,
  ) {}

  private first = true;

  render(entries: readonly T[]): void {
    // Rows the server rendered stay until the first render replaces them (they carry no actions).
    if (this.first) {
      this.first = false;
      this.list.replaceChildren();
    }
    const seen = new Set<string>();
    let before: ChildNode | null = this.list.firstChild;
    for (const t of entries) {
      const k = this.key(t);
      seen.add(k);
      const s = this.sig(t);
      let row = this.rows.get(k);
      if (!row || row.sig !== s) {
        const li = this.build(t);
        if (row) {
          if (row.li === before) before = li;
          row.li.replaceWith(li);
        }
        row = { sig: s, li };
        this.rows.set(k, row);
      }
      if (row.li !== before) this.list.insertBefore(row.li, before);
      before = row.li.nextSibling;
    }
    for (const [k, row] of this.rows) {
      if (seen.has(k)) continue;
      row.li.remove();
      this.rows.delete(k);
    }
  }

  /** row — the row of `key`, if shown. */
  row(key: string): HTMLLIElement | undefined {
    return this.rows.get(key)?.li;
  }

  get size(): number {
    return this.rows.size;
  }
}
