// TEMPORARY: the FilesEngine API from the contract, until src/client/files/lib/files-engine.ts lands (then this file goes).
import type { MyShare, SharedItemView } from '../../../shared/protocol.js';

export type DownloadState = 'downloading' | 'paused' | 'verifying' | 'verified' | 'failed' | 'cancelled';
export interface DownloadView {
  id: string;
  name: string;
  kind: 'file' | 'folder';
  total: number;
  done: number;
  speed: number;
  eta: number | null;
  state: DownloadState;
  error: string | null;
  from: { userId: string; displayName: string; bytes: number }[];
}
export interface PreparingView { name: string; fraction: number }
export interface FilesEngine {
  on(name: 'changed', fn: () => void): () => void;
  start(): void;
  items(): SharedItemView[];
  mine(): MyShare[];
  downloads(): DownloadView[];
  preparing(): PreparingView[];
  shareFiles(files: File[]): Promise<void>;
  shareFolder(name: string, entries: { file: File; path: string }[], dirs: string[]): Promise<void>;
  shareAgain(id: string, files: File[] | { file: File; path: string }[]): Promise<boolean>;
  stopSharing(id: string): Promise<void>;
  download(id: string): void;
  cancelDownload(id: string): void;
  fileOf(sha256: string): Promise<File | null>;
  dispose(): void;
}
