import { describe, expect, it } from 'vitest';
import { IncomingMessagesResponse } from './workers.js';

const UUID = `0x${'b'.repeat(32)}`;

describe('IncomingMessages', () => {
  it('keeps the messages a worker knows and sets the others aside, described', () => {
    const kill = { type: 'kill', uuid: UUID, assignment_id: 'a1', message: 'stop' };
    const parsed = IncomingMessagesResponse.parse({ messages: [{ type: 'teleport', uuid: UUID }, kill, 42, { type: 'kill' }] });
    expect(parsed.messages.messages).toEqual([kill]);
    expect(parsed.messages.unknown).toEqual(["a 'teleport' message", 'a message without a type', "a 'kill' message"]);
  });

  it('still refuses an answer that is not a list of messages at all', () => {
    expect(IncomingMessagesResponse.safeParse({ messages: 'none' }).success).toBe(false);
  });
});
