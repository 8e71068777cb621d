// Room page island: wires signaling, local media, pre-join, the call, members and chat together.
import type { ChatMessage } from '../../shared/protocol.js';
import { LocalMedia } from '../call/lib/media.js';
import { followLobby } from '../shared/lib/lobby-feed.js';
import { Mesh } from '../call/lib/mesh.js';
import type { SignalingClient } from '../shared/lib/signaling-client.js';
import { expose, pageSignaling, selfUserId as pageUserId } from '../shared/ui/page.js';
import { MicLevel } from '../call/lib/speaker.js';
import { CallSession, type Phase } from '../call/ui/call-session.js';
import { ChatPanel } from '../chat/ui/chat-panel.js';
import { DevicePicker } from '../call/ui/devices.js';
import { h } from '../shared/ui/dom.js';
import { renderMembers, type Member } from '../call/ui/members.js';
import { Prejoin } from '../call/ui/prejoin.js';
import { SeatWatcher } from '../call/lib/seat-watcher.js';
import { toast } from '../shared/ui/toasts.js';
import { mountInvite } from '../ringing/ui/invite.js';
import { mountRinging } from '../ringing/ui/ringing.js';
import { watchConnection } from '../shared/ui/connection-status.js';
import { mountRoomTransfers } from '../transfer/ui/mount.js';

declare global {
  interface HearthHandle {
    session?: CallSession | null;
    mesh?: CallSession['mesh'] | null;
    media?: LocalMedia | null;
    ringing?: unknown;
  }
}

// Refusals nobody waits for that are not worth a word: a candidate for someone who just left.
const QUIET_ERRORS = new Set(['peer-not-found', 'not-in-room']);

const page = document.querySelector<HTMLElement>('.room-page');
if (page && page.dataset.state !== 'passcode') mount(page);

function mount(page: HTMLElement): void {
  const slug = page.dataset.slug!;
  const { signaling } = pageSignaling();
  watchConnection(signaling);
  signaling.on('error', (m) => {
    if (!QUIET_ERRORS.has(m.code)) toast(m.message, 'error');
  });
  const seats = new SeatWatcher(signaling, slug, Number(page.dataset.capacity) || 0);
  const memberList = document.getElementById('room-members');
  const membersEmpty = document.getElementById('members-empty');
  let selfUserId: string | null = null;
  let session: CallSession | null = null;
  const showMembers = (members: Member[]) => memberList && renderMembers(memberList, membersEmpty, members, selfUserId);

  signaling.on('welcome', (m) => {
    selfUserId = m.user.userId;
    chat?.markSelf();
  });
  // Before joining (and after leaving) the lobby feed keeps "In the room now" live.
  followLobby(signaling, () => {
    if (session?.phase !== 'in-call' && seats.members) showMembers(seats.members);
  });

  // Chat goes over the socket while in the call; otherwise the form posts (the no-JS path).
  const chatRoot = document.getElementById('chat');
  const chat = chatRoot ? new ChatPanel(chatRoot, {
    selfUserId: () => selfUserId,
    send: (text) => {
      if (session?.phase !== 'in-call' || !signaling.isOpen) return false;
      // Refused (too fast, say): the text comes back into the box, and the reason is shown.
      return signaling.sendChat(text, (err) => {
        chat?.restore(text);
        toast(err.message, 'error');
      });
    },
  }) : null;
  signaling.on('chat', (m) => {
    if (m.room === slug) chat?.append(m.message as ChatMessage);
  });

  if (page.dataset.state === 'full') {
    const wait = document.getElementById('wait-seat') as HTMLButtonElement | null;
    wait?.addEventListener('click', () => {
      wait.disabled = true;
      wait.lastElementChild!.textContent = 'Waiting for a seat…';
      toast('You will be let in as soon as a seat frees up.');
      seats.wait(() => {
        toast('A seat is free.', 'success');
        location.reload();
      });
    });
  }
  let media: LocalMedia | null = null;
  if (page.dataset.state !== 'full') ({ session, media } = mountCall(page, slug, signaling, seats, showMembers));
  // Other features (file transfer) add their own entries to the same object.
  // Ringing works on every page: incoming calls, Do not disturb, and ringing people into this room.
  const ringing = mountRinging(signaling, { currentRoom: () => (session?.phase === 'in-call' ? slug : null) });
  const side = page.querySelector<HTMLElement>('.room-side');
  if (side && session) mountInvite(side.appendChild(h('div', { class: 'room-invite' })), { signaling, slug, selfUserId: pageUserId(), ring: (user) => ringing.call(user, slug) });
  if (session) {
    const call = session;
    mountRoomTransfers({
      signaling,
      slug,
      connections: { connection: (id) => call.mesh.connection(id), onConnection: (fn) => call.mesh.on('connection', fn) },
      members: () => [...call.roster.values()].map((p) => ({ peerId: p.peerId, userId: p.userId, displayName: p.displayName })),
      root: page.querySelector<HTMLElement>('#call') ?? page,
    });
    // Arriving from an accepted ring: the server checked its one-time token and marked the page;
    // take the seat as soon as the camera is settled. A plain link never joins by itself.
    if (location.search) history.replaceState(null, '', location.pathname);
    if (page.dataset.autoJoin === 'true') {
      void media?.start().then(() => {
        if (call.phase === 'idle') void call.join();
      });
    }
  }
  expose({ signaling, session, mesh: session?.mesh ?? null, media, ringing });
  signaling.connect();
}

function mountCall(page: HTMLElement, slug: string, signaling: SignalingClient, seats: SeatWatcher, showMembers: (m: Member[]) => void): { session: CallSession; media: LocalMedia } {
  const media = new LocalMedia();
  const prejoin = new Prejoin(page, media, new MicLevel());
  const picker = new DevicePicker(page.querySelector('#camera-select')!, page.querySelector('#mic-select')!, media, (msg) => toast(msg, 'error'));
  let waitButton: HTMLButtonElement | null = null;

  const onPhase = (phase: Phase, message?: string, code?: string) => {
    waitButton?.remove();
    waitButton = null;
    if (phase === 'joining') prejoin.setBusy(true, 'Joining…');
    else prejoin.setBusy(false);
    if (phase === 'in-call') {
      prejoin.hide();
      page.querySelector<HTMLButtonElement>('.call-controls button')?.focus();
    } else if (phase === 'idle') {
      prejoin.show(message);
      if (seats.members) showMembers(seats.members);
      if (code === 'room-full') waitButton = offerToWait();
    } else if (phase === 'ended') {
      prejoin.hide();
      showMembers([]);
      closed(page, message ?? 'The call has ended.');
    }
  };

  const offerToWait = () => {
    const btn = h('button', { type: 'button', class: 'btn btn--secondary btn--block' }, 'Wait for a seat');
    btn.addEventListener('click', () => {
      btn.disabled = true;
      btn.textContent = 'Waiting for a seat…';
      seats.wait(() => {
        toast('A seat is free: joining.', 'success');
        void session.join();
      });
    });
    prejoin.joinButton.after(btn);
    return btn;
  };

  const session: CallSession = new CallSession({
    slug, signaling, media, picker,
    call: page.querySelector<HTMLElement>('#call')!,
    onPhase,
    onRoster: () => {
      const self = session.self;
      showMembers([...(self ? [self] : []), ...session.roster.values()]);
    },
  });
  prejoin.joinButton.addEventListener('click', () => void session.join());
  Mesh.warmUp();
  prejoin.show('Starting your camera and microphone…');
  void media.start().then(() => {
    if (session.phase === 'idle') prejoin.setStatus(media.problem ?? 'Your camera and microphone are ready.');
    void picker.refresh();
  });
  return { session, media };
}

/** closed — the room is gone: say so, offer the way back, and stop the chat form. */
function closed(page: HTMLElement, message: string): void {
  page.dataset.state = 'closed';
  const stage = page.querySelector('.room-stage');
  stage?.querySelector('.room-closed')?.remove();
  stage?.prepend(h('section', { class: 'notice notice--warning room-closed', role: 'alert' },
    h('div', { class: 'room-closed__text' },
      h('h2', { class: 'room-closed__title' }, 'This call has ended'),
      h('p', {}, message),
      h('a', { class: 'btn btn--secondary', href: '/' }, 'Back to lobby'))));
  for (const el of page.querySelectorAll<HTMLTextAreaElement | HTMLButtonElement>('#chat-form textarea, #chat-form button')) el.disabled = true;
}
