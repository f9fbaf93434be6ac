// Password and user-name rules and scrypt hashing, shared by root's start-up, account creation,
// sign-up and password changes. Pure apart from the hashing; knows nothing of the store.
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { ApiError, passwordProblem } from '../../protocol/index.js';

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keylen: number) => Promise<Buffer>;
const USER_NAME = /^[a-zA-Z0-9_.-]{1,64}$/;

/** Throws `bad_request` naming the rule a new user name or password breaks. */
export function checkNewAccount(userName: string, password: string): void {
  if (!USER_NAME.test(userName)) {
    throw new ApiError('bad_request', `Invalid user name '${userName}': use 1 to 64 letters, digits, '_', '.' and '-'.`);
  }
  checkNewPassword(password);
}

export function checkNewPassword(password: string): void {
  const problem = passwordProblem(password);
  if (problem) throw new ApiError('bad_request', `Password ${problem}.`);
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, 32);
  return `scrypt:${salt.toString('hex')}:${key.toString('hex')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, saltHex, keyHex] = stored.split(':');
  if (scheme !== 'scrypt' || !saltHex || !keyHex) return false;
  const expected = Buffer.from(keyHex, 'hex');
  const actual = await scryptAsync(password, Buffer.from(saltHex, 'hex'), expected.length);
  return timingSafeEqual(actual, expected);
}
