// Aggregates the progress events of one `docker pull` over its layers into one percent: bytes
// downloaded of the layers whose size the engine has announced, a finished or already present
// layer counting as whole. Pure; it reads events and never talks to Docker.
import type { PullEvent } from '../docker/container-runtime.js';

interface Layer {
  current: number;
  total: number | null;
  done: boolean;
}

const DONE_STATUSES = new Set(['Download complete', 'Pull complete', 'Already exists', 'Extracting', 'Verifying Checksum']);

export class PullProgress {
  private readonly layers = new Map<string, Layer>();

  update(event: PullEvent): void {
    if (event.id === undefined || event.status === undefined) return;
    const layer = this.layers.get(event.id) ?? { current: 0, total: null, done: false };
    if (event.status === 'Downloading') {
      if (event.total !== undefined && event.total > 0) layer.total = event.total;
      if (event.current !== undefined) layer.current = event.current;
    } else if (DONE_STATUSES.has(event.status)) {
      layer.done = true;
    }
    this.layers.set(event.id, layer);
  }

  /** 0 to 100 over the layers with a known size (finished ones count whole), or null before any is known. */
  percent(): number | null {
    let current = 0;
    let total = 0;
    for (const layer of this.layers.values()) {
      if (layer.total === null) continue;
      total += layer.total;
      current += layer.done ? layer.total : Math.min(layer.current, layer.total);
    }
    if (total === 0) {
      const layers = [...this.layers.values()];
      return layers.length > 0 && layers.every((l) => l.done) ? 100 : null;
    }
    return (100 * current) / total;
  }
}
