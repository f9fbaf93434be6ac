// Login and identity messages.
import { z } from 'zod';

export const TokenRequest = z.object({
  grant_type: z.literal('password'),
  username: z.string().min(1),
  password: z.string(),
});
export type TokenRequest = z.infer<typeof TokenRequest>;

export const User = z.object({
  id: z.string(),
  user_name: z.string(),
  is_root: z.boolean(),
});
export type User = z.infer<typeof User>;

export const TokenResponse = z.object({
  access_token: z.string(),
  token_type: z.literal('Bearer'),
  /** Seconds until the token expires. */
  expires_in: z.number().int().positive(),
  user: User,
});
export type TokenResponse = z.infer<typeof TokenResponse>;

export const ROOT_USER_NAME = 'codalab';

/** The shortest password accepted, for root and for every other user. */
export const MIN_PASSWORD_LENGTH = 8;

/** Why `password` is too weak ("too short (2 characters): use at least 8 characters"), or null. */
export function passwordProblem(password: string): string | null {
  return password.length < MIN_PASSWORD_LENGTH
    ? `too short (${password.length} characters): use at least ${MIN_PASSWORD_LENGTH} characters`
    : null;
}
