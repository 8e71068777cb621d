// Choosing files: a file chooser opened from a button, and drag-and-drop onto a target (a person, the room).
import { h } from '../../shared/ui/dom.js';

/** chooseFiles — opens the browser's file chooser (call from a click); resolves with the chosen files, or none. */
export function chooseFiles(multiple = true): Promise<File[]> {
  return new Promise((resolve) => {
    const input = h('input', { type: 'file', multiple, hidden: true });
    input.addEventListener('change', () => {
      resolve([...(input.files ?? [])]);
      input.remove();
    }, { once: true });
    input.addEventListener('cancel', () => {
      resolve([]);
      input.remove();
    }, { once: true });
    document.body.append(input);
    input.click();
  });
}

/**
 * dropTarget — `el` accepts dropped files (not text or links) and highlights while files hover over
 * it. `onFiles` gets the files; `onDrop`, when given, gets the whole DataTransfer instead (folders).
 */
export function dropTarget(el: HTMLElement, onFiles: (files: File[]) => void, onDrop?: (data: DataTransfer) => void): () => void {
  let depth = 0;
  const hasFiles = (e: DragEvent) => !!e.dataTransfer && [...e.dataTransfer.types].includes('Files');
  const set = (on: boolean) => el.classList.toggle('transfer-drop--over', on);
  const enter = (e: DragEvent) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    depth++;
    set(true);
  };
  const over = (e: DragEvent) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    e.dataTransfer!.dropEffect = 'copy';
  };
  const leave = () => {
    depth = Math.max(0, depth - 1);
    if (!depth) set(false);
  };
  const drop = (e: DragEvent) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    e.stopPropagation();
    depth = 0;
    set(false);
    if (onDrop && e.dataTransfer) return onDrop(e.dataTransfer);
    const files = [...(e.dataTransfer?.files ?? [])];
    if (files.length) onFiles(files);
  };
  el.addEventListener('dragenter', enter);
  el.addEventListener('dragover', over);
  el.addEventListener('dragleave', leave);
  el.addEventListener('drop', drop);
  return () => {
    el.removeEventListener('dragenter', enter);
    el.removeEventListener('dragover', over);
    el.removeEventListener('dragleave', leave);
    el.removeEventListener('drop', drop);
  };
}
