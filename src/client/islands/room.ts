// Room page island: wires signaling, the call and its views, the members list, chat, ringing and
// file transfer together. The one place that connects them; each part only knows its own job.
import { LocalMedia } from '../call/lib/media.js';
import { Mesh } from '../call/lib/mesh.js';
import { RoomCall } from '../call/lib/room-call.js';
import { SeatWatcher } from '../call/lib/seat-watcher.js';
import { MicLevel } from '../call/lib/speaker.js';
import { CallView } from '../call/ui/call-view.js';
import { DevicePicker } from '../call/ui/devices.js';
import { MemberList } from '../call/ui/members.js';
import { removeButton, RoomHead } from '../call/ui/moderation.js';
import { Prejoin } from '../call/ui/prejoin.js';
import type { FilmSource } from '../call/ui/sharing.js';
import { mountShareRoom } from '../call/ui/share-room.js';
import { RoomStage, waitForSeat, waitOutRemoval } from '../call/ui/room-stage.js';
import { ChatPanel } from '../chat/ui/chat-panel.js';
import { mountRoomFiles } from '../files/ui/room-files.js';
import { mountInvite } from '../ringing/ui/invite.js';
import { mountRinging, type RingingUi } from '../ringing/ui/ringing.js';
import { followLobby } from '../shared/lib/lobby-feed.js';
import type { SignalingClient } from '../shared/lib/signaling-client.js';
import { watchConnection } from '../shared/ui/connection-status.js';
import { h } from '../shared/ui/dom.js';
import { expose, pageSignaling, selfUserId } from '../shared/ui/page.js';
import { toast } from '../shared/ui/toasts.js';
import { mountRoomTransfers } from '../transfer/ui/room-transfers.js';

declare global {
  interface HearthHandle {
    call?: RoomCall;
    mesh?: Mesh;
    media?: LocalMedia;
    ringing?: RingingUi;
  }
}

// Refusals nobody waits for that are not worth a word: a candidate for someone who just left.
const QUIET_ERRORS = new Set(['peer-not-found', 'not-in-room']);

/** mount — attaches the room page (div.room-page inside `root`); returns the teardown. */
export function mount(root: HTMLElement): () => void {
  const page = root.querySelector<HTMLElement>('.room-page');
  // Removed from the room: Join comes back on when they may join again (it reloads the page).
  const removedJoin = page?.dataset.state === 'banned' ? page.querySelector<HTMLButtonElement>('#removed-join') : null;
  if (removedJoin) waitOutRemoval(removedJoin, Number(removedJoin.dataset.wait) || 60);
  // Behind a passcode, a lock or a removal the page is a notice or a form: nothing else to attach.
  if (!page || page.dataset.state === 'passcode' || page.dataset.state === 'locked' || page.dataset.state === 'banned') return () => {};
  const slug = page.dataset.slug!;
  const userId = selfUserId();
  const { signaling, dispose } = pageSignaling();
  const offs: (() => void)[] = [watchConnection(signaling), signaling.on('error', (m) => {
    if (!QUIET_ERRORS.has(m.code)) toast(m.message, 'error');
  })];
  const seats = new SeatWatcher(signaling, slug, Number(page.dataset.capacity) || 0);
  // The owner and admins get Remove from room on everyone else's row (the server decides who may remove whom).
  const moderator = page.dataset.moderator === 'true';
  const members = new MemberList(page.querySelector<HTMLElement>('#room-members')!, page.querySelector<HTMLElement>('#members-empty'), userId,
    moderator ? removeButton(signaling, slug, userId) : undefined);
  const head = new RoomHead(page, signaling, slug);
  offs.push(mountShareRoom(page));
  const mounted = page.dataset.state === 'full' ? null : mountCall(page, slug, signaling, seats, members);
  const call = mounted?.call ?? null;
  if (mounted) offs.push(mounted.dispose);
  // Lock and capacity: the room tells those in its call at once, the lobby feed everyone on the page.
  offs.push(signaling.on('room-updated', (m) => {
    if (m.room === slug) head.show(m);
  }));
  // A full room's page has no call to end: it shows the removal when it comes back.
  if (!call) offs.push(signaling.on('removed', (m) => m.room === slug && location.reload()));

  // Before joining (and after leaving) the lobby feed keeps "In the room now" live.
  offs.push(followLobby(signaling, (lobby) => {
    const live = lobby.rooms.find((r) => r.slug === slug);
    if (live) head.show({ locked: live.locked, capacity: live.capacity });
    if (call?.phase !== 'in-call' && seats.members) members.show(seats.members);
  }));

  const chatRoot = document.getElementById('chat');
  if (chatRoot) {
    const chat = new ChatPanel(chatRoot, {
      selfUserId: userId,
      // Over the socket while in the call; otherwise the form posts (the no-JavaScript path).
      send: (text) => call?.phase === 'in-call' && signaling.isOpen && signaling.sendChat(text, (err) => {
        // Refused (too fast, say): the text goes back into the box, and the reason is shown.
        chat.restore(text);
        toast(err.message, 'error');
      }),
    });
    offs.push(signaling.on('chat', (m) => {
      if (m.room === slug) chat.append(m.message);
    }));
  }

  const wait = document.getElementById('wait-seat') as HTMLButtonElement | null;
  if (wait) waitForSeat(wait, seats);

  // Ringing works on every page: incoming calls, Do not disturb, and ringing people into this room.
  const ringing = mountRinging(signaling, { currentRoom: () => (call?.phase === 'in-call' ? slug : null) });
  if (mounted) {
    const { call } = mounted;
    const side = page.querySelector<HTMLElement>('.room-side');
    if (side) offs.push(mountInvite(side.appendChild(h('div', { class: 'room-invite' })), { signaling, slug, selfUserId: userId, ring: (user) => ringing.call(user, slug) }));
    const transfers = mountRoomTransfers(page.querySelector<HTMLElement>('#call') ?? page, { signaling, slug, connections: call.mesh });
    offs.push(call.on('roster-changed', (roster) => transfers.members(roster)), () => transfers.dispose());
    offs.push(mountRoomFiles(page, { signaling, slug, call, selfUserId: userId, playToRoom: mounted.playToRoom }));
  }
  expose({ signaling, ringing, ...(call ? { call, mesh: call.mesh } : {}) });
  signaling.connect();
  return () => {
    for (const off of offs) off();
    ringing.teardown();
    dispose();
  };
}

/** mountCall — the call with its pre-join panel and view; joins by itself when the page came from an accepted ring. */
function mountCall(page: HTMLElement, slug: string, signaling: SignalingClient, seats: SeatWatcher, members: MemberList): { call: RoomCall; playToRoom(source: FilmSource): void; dispose(): void } {
  const media = new LocalMedia();
  const prejoin = new Prejoin(page, media, new MicLevel());
  const picker = new DevicePicker(page.querySelector('#camera-select')!, page.querySelector('#mic-select')!, media, (msg) => toast(msg, 'error'));
  const call = new RoomCall({ slug, signaling, media });
  const view = new CallView(page.querySelector<HTMLElement>('#call')!, call, media, picker);
  new RoomStage(page, call, prejoin, seats);
  // In the call, "In the room now" is the call's own roster; outside it, the lobby's view of the room.
  call.on('roster-changed', (roster) => members.show([...(call.self ? [call.self] : []), ...roster]));
  call.on('phase-changed', ({ phase }) => {
    if (phase === 'idle' && seats.members) members.show(seats.members);
    else if (phase === 'ended') members.show([]);
  });
  expose({ media });

  Mesh.warmUp();
  prejoin.show('Starting your camera and microphone…');
  void media.start().then(() => {
    if (call.phase === 'idle') prejoin.setStatus(media.problem ?? 'Your camera and microphone are ready.');
    void picker.refresh();
  });
  // Arriving from an accepted ring: the server checked its one-time token and marked the page;
  // take the seat as soon as the camera is settled. A plain link never joins by itself.
  if (location.search) history.replaceState(null, '', location.pathname);
  if (page.dataset.autoJoin === 'true') {
    void media.start().then(() => {
      if (call.phase === 'idle') void call.join();
    });
  }
  return {
    call,
    playToRoom: (source) => view.playShared(source),
    dispose() {
      call.leave();
      view.dispose();
      prejoin.dispose();
      media.stop();
    },
  };
}

const root = document.querySelector<HTMLElement>('[data-island="room"]');
if (root) mount(root);
