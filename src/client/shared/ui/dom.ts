// Tiny DOM helpers for islands: an element builder that never parses HTML, sprite icons, avatars.

export type Child = Node | string | null | undefined | false;
export type Attrs = Record<string, string | number | boolean | null | undefined>;

/**
 * h — builds an element. Attribute values go through setAttribute and children through
 * append (strings become text nodes), so user data can never become markup.
 * `true` sets an empty attribute; `false`, `null` and `undefined` leave it out.
 */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v === null || v === undefined) continue;
    el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

let iconsUrl: string | null = null;

/** iconsBase — the sprite's URL, read from an icon the server rendered (its name is content-hashed). */
function iconsBase(): string {
  if (iconsUrl === null) {
    const use = document.querySelector('svg use');
    iconsUrl = (use?.getAttribute('href') ?? '').split('#')[0] ?? '';
  }
  return iconsUrl;
}

/** icon — `<svg class="icon"><use href="sprite#name"/></svg>`, hidden from assistive technology. */
export function icon(name: string, cls = ''): SVGSVGElement {
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('class', `icon ${cls}`.trim());
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const use = document.createElementNS('http://www.w3.org/2000/svg', 'use');
  use.setAttribute('href', `${iconsBase()}#${name}`);
  svg.append(use);
  return svg;
}

/** setIcon — points an existing icon at another symbol (toggle buttons). */
export function setIcon(svg: SVGSVGElement, name: string): void {
  svg.querySelector('use')?.setAttribute('href', `${iconsBase()}#${name}`);
}

/** initials — 1–2 letters for an avatar, from any script (the same rule as the server's mixin). */
function initials(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean).slice(0, 2);
  const letters = words.map((w) => {
    const chars = Array.from(w);
    return (chars.find((c) => /[\p{L}\p{N}]/u.test(c)) ?? chars[0] ?? '').toUpperCase();
  });
  return letters.join('') || '?';
}

/** avatar — the initials circle. */
export function avatar(name: string, cls = ''): HTMLSpanElement {
  return h('span', { class: `avatar ${cls}`.trim(), 'aria-hidden': 'true' }, initials(name));
}

/** isTyping — true when keys belong to a text field, so page shortcuts must stay quiet. */
export function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName);
}
