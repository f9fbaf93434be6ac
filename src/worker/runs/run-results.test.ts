import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../common/clock.js';
import { countUpload } from './run-results.js';

describe('countUpload', () => {
  it('passes every byte through and shows how far it got', async () => {
    const texts: string[] = [];
    const counted = countUpload(Readable.from([Buffer.alloc(10), Buffer.alloc(5)]), 15, systemClock, (t) => texts.push(t));
    const chunks: Buffer[] = [];
    for await (const chunk of counted) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks)).toHaveLength(15);
    expect(texts.length).toBeGreaterThan(0);
  });

  it('closes the source when the upload stops early, so its open files are released', async () => {
    // A source that never ends on its own, like a tar of a large run dir.
    const source = new Readable({ read() { this.push(Buffer.alloc(1024)); } });
    const counted = countUpload(source, null, systemClock, () => {});
    const closed = new Promise((resolve) => source.once('close', resolve));
    counted.once('data', () => counted.destroy());
    await closed;
    expect(source.destroyed).toBe(true);
  });
});
