// Plain-language wording of file-transfer ledger entries, shared by the server (stored text) and the browser.
import type { LedgerEntry } from './protocol.js';

/** formatBytes — 1,536 → "1.5 KB" (decimal units, as file managers show). */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = -1;
  do {
    v /= 1000;
    i++;
  } while (v >= 1000 && i < units.length - 1);
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

const VERBS: Record<LedgerEntry['state'], string> = {
  offered: 'offered',
  declined: 'declined',
  resumed: 'resumed',
  verified: 'delivered',
  failed: 'failed',
  cancelled: 'cancelled',
};

// What a receiver reports is its own check or its own decision.
const RECEIVER_VERBS: Partial<Record<LedgerEntry['state'], string>> = {
  verified: 'received and verified by',
  failed: 'failed the check of',
  declined: 'declined by',
  cancelled: 'cancelled by',
};

/**
 * describeTransfer — e.g. "Ada → Bob: report.pdf (1.2 MB) offered", or from the receiver's
 * own report "Ada → Bob: report.pdf (1.2 MB) received and verified by Bob, SHA-256 3f2a…".
 */
export function describeTransfer(t: LedgerEntry): string {
  const who = `${t.fromName} → ${t.toName ?? 'everyone'}`;
  const hash = t.sha256 ? `, SHA-256 ${t.sha256}` : '';
  const byReceiver = t.by === 'receiver' ? RECEIVER_VERBS[t.state] : undefined;
  const verb = byReceiver ? `${byReceiver} ${t.toName ?? 'the receiver'}` : VERBS[t.state];
  return `${who}: ${t.name} (${formatBytes(t.size)}) ${verb}${hash}`;
}
