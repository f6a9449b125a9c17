// Where the in-tab training run is kept between page loads: one IndexedDB record holding the three
// checkpoint blobs and the plot history. One record, written by one `put`, so a save is atomic: a
// reload finds either the previous checkpoint or the new one, never half of each.

import type { TrainEvalPoint, TrainProgress } from './protocol';

export interface SavedRun {
  version: 1;
  /** model.safetensors, train_state.safetensors, train_state.json (TrainState::to_files). */
  model: Uint8Array;
  state: Uint8Array;
  meta: string;
  /** The backend it trained on (a reload resumes there; the tensors are the same f32 on both). */
  backend?: 'cpu' | 'webgpu';
  step: number;
  history: TrainProgress[];
  evals: TrainEvalPoint[];
  savedAt: number;
}

export interface RunStore {
  load(): Promise<SavedRun | null>;
  save(run: SavedRun): Promise<void>;
  clear(): Promise<void>;
}

/** For tests, and where IndexedDB is missing (then a reload starts over, and the page says so). */
export class MemoryStore implements RunStore {
  saved: SavedRun | null = null;
  saves = 0;
  async load(): Promise<SavedRun | null> {
    return this.saved;
  }
  async save(run: SavedRun): Promise<void> {
    this.saves++;
    this.saved = run;
  }
  async clear(): Promise<void> {
    this.saved = null;
  }
}

const DB = 'hrm-training';
const STORE = 'runs';
const KEY = 'current';

const req = <T>(r: IDBRequest<T>): Promise<T> =>
  new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error ?? new Error('IndexedDB request failed'));
  });

export class IndexedDbStore implements RunStore {
  private db: Promise<IDBDatabase> | null = null;

  constructor(private readonly factory: IDBFactory) {}

  private open(): Promise<IDBDatabase> {
    this.db ??= new Promise((resolve, reject) => {
      const r = this.factory.open(DB, 1);
      r.onupgradeneeded = () => r.result.createObjectStore(STORE);
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error ?? new Error('could not open IndexedDB'));
    });
    return this.db;
  }

  private async tx<T>(mode: IDBTransactionMode, f: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
    const db = await this.open();
    const t = db.transaction(STORE, mode);
    const result = req(f(t.objectStore(STORE)));
    await new Promise<void>((resolve, reject) => {
      t.oncomplete = () => resolve();
      t.onerror = () => reject(t.error ?? new Error('IndexedDB transaction failed'));
      t.onabort = () => reject(t.error ?? new Error('IndexedDB transaction aborted'));
    });
    return result;
  }

  async load(): Promise<SavedRun | null> {
    const v = (await this.tx('readonly', (s) => s.get(KEY))) as SavedRun | undefined;
    return v && v.version === 1 ? v : null;
  }
  async save(run: SavedRun): Promise<void> {
    await this.tx('readwrite', (s) => s.put(run, KEY));
  }
  async clear(): Promise<void> {
    await this.tx('readwrite', (s) => s.delete(KEY));
  }
}

/** The store a worker or page can use here. */
export function defaultStore(scope: { indexedDB?: IDBFactory }): RunStore {
  return scope.indexedDB ? new IndexedDbStore(scope.indexedDB) : new MemoryStore();
}
