// A clock tests move by hand (STYLE habit 7): the server's timeouts and leases are decided on it,
// while its timers still tick in real time, so a test advances it and then waits for the effect.
import type { Clock } from '../../src/common/clock.js';

export class FakeClock implements Clock {
  constructor(private time = Date.now()) {}

  now(): number {
    return this.time;
  }

  advance(ms: number): void {
    this.time += ms;
  }
}
