// Ids and tokens, injected so that domain code and tests can control them (STYLE habit 7).
import { randomBytes } from 'node:crypto';

export interface IdSource {
  uuid(): string;
  token(): string;
}

export const randomIds: IdSource = {
  uuid: () => `0x${randomBytes(16).toString('hex')}`,
  token: () => randomBytes(32).toString('base64url'),
};
