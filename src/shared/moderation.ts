// What a person removed from a room is told, in the same words by the server (a refused join, the room page) and the browser.

/** minutesLeft — a removal's time left in whole minutes, rounded up (never 0 while it lasts). */
export function minutesLeft(ms: number): number {
  return Math.max(1, Math.ceil(ms / 60_000));
}

/** comeBackIn — "You can join again in 10 minutes." */
export function comeBackIn(minutes: number): string {
  return `You can join again in ${minutes === 1 ? '1 minute' : `${minutes} minutes`}.`;
}

/** REMOVED_TITLE — the heading of the removed notice. */
export const REMOVED_TITLE = 'You were removed from this room';

/** removedMessage — the whole sentence a refused join answers with. */
export function removedMessage(minutes: number): string {
  return `${REMOVED_TITLE}. ${comeBackIn(minutes)}`;
}
