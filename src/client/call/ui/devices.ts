// The Camera and Microphone selects: filled from the device list, switching devices live. During
// a call the same two fields move into a dialog opened from the control bar.
import { listDevices, type LocalMedia } from '../lib/media.js';
import { h } from '../../shared/ui/dom.js';

/** DevicePicker — owns select#camera-select and select#mic-select. */
export class DevicePicker {
  private readonly fields: HTMLElement[];
  private readonly home: { parent: Node; next: Node | null }[];

  constructor(private readonly camera: HTMLSelectElement, private readonly mic: HTMLSelectElement, private readonly media: LocalMedia, onError: (msg: string) => void) {
    this.fields = [camera, mic].map((s) => s.closest<HTMLElement>('.field') ?? s);
    this.home = this.fields.map((f) => ({ parent: f.parentNode!, next: f.nextSibling }));
    for (const [select, kind] of [[camera, 'video'], [mic, 'audio']] as const) {
      select.addEventListener('change', () => {
        if (select.value) media.useDevice(kind, select.value).catch((err: Error) => onError(err.message));
      });
    }
    navigator.mediaDevices?.addEventListener?.('devicechange', () => void this.refresh());
    media.on('change', () => void this.refresh());
  }

  /** refresh — re-lists devices (labels appear once permission is granted) and selects the ones in use. */
  async refresh(): Promise<void> {
    const { cameras, microphones } = await listDevices();
    fill(this.camera, cameras, this.media.deviceId('video'), 'Camera', 'No camera found');
    fill(this.mic, microphones, this.media.deviceId('audio'), 'Microphone', 'No microphone found');
  }

  /** moveInto — puts both fields into `container` (the in-call dialog). */
  moveInto(container: HTMLElement): void {
    container.append(...this.fields);
  }

  /** restore — puts the fields back where the page had them (pre-join). */
  restore(): void {
    this.fields.forEach((f, i) => {
      const { parent, next } = this.home[i]!;
      parent.insertBefore(f, next && next.parentNode === parent ? next : null);
    });
  }
}

function fill(select: HTMLSelectElement, devices: MediaDeviceInfo[], current: string | undefined, noun: string, none: string): void {
  const usable = devices.filter((d) => d.deviceId);
  const options = usable.map((d, i) => h('option', { value: d.deviceId }, d.label || `${noun} ${i + 1}`));
  if (options.length === 0) options.push(h('option', { value: '' }, devices.length ? `${noun} (allow access to choose)` : none));
  const same = select.options.length === options.length && options.every((o, i) => select.options[i]!.value === o.value && select.options[i]!.text === o.text);
  if (!same) select.replaceChildren(...options);
  select.disabled = usable.length === 0;
  if (current && usable.some((d) => d.deviceId === current)) select.value = current;
}

/** DeviceDialog — a modal with the two selects, for switching devices mid-call. */
export class DeviceDialog {
  private dialog: HTMLDialogElement | null = null;
  private readonly body = h('div', { class: 'device-dialog__fields' });

  constructor(private readonly picker: DevicePicker) {}

  open(): void {
    if (!this.dialog) {
      const done = h('button', { type: 'submit', class: 'btn btn--primary' }, 'Done');
      this.dialog = h('dialog', { class: 'modal device-dialog', 'aria-labelledby': 'device-dialog-title' },
        h('form', { method: 'dialog' },
          h('h2', { id: 'device-dialog-title', class: 'modal__title' }, 'Camera and microphone'),
          this.body,
          h('div', { class: 'modal__actions' }, done)));
      document.body.append(this.dialog);
    }
    this.picker.moveInto(this.body);
    void this.picker.refresh();
    this.dialog.showModal();
  }

  /** close — closes it and gives the fields back to the pre-join panel. */
  close(): void {
    if (this.dialog?.open) this.dialog.close();
    this.picker.restore();
  }
}
