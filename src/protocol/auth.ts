// Login, token and user-account messages. Tokens follow OAuth2's shapes: the password grant
// returns a short-lived access token and a long-lived refresh token; the refresh_token grant
// trades a refresh token for a new access token; /oauth2/revoke ends a refresh token.
import { z } from 'zod';

/**
 * CodaLab's client id of workers: tokens asked for with it are worker tokens, accepted only on
 * worker routes (and user tokens only on the others), so a leaked worker credential is no session.
 */
export const WORKER_CLIENT_ID = 'codalab_worker_client';

/**
 * The refusal of an access token past its lifetime. A client that just got the token tries once
 * more with a new one: a short lifetime can run out while a request waits on a busy server.
 */
export const ACCESS_TOKEN_EXPIRED = 'Access token expired: log in again.';

/** Omitted: a user session (CodaLab's `codalab_cli_client`). */
const ClientId = z.string().max(100).optional();

export const PasswordGrant = z.object({
  grant_type: z.literal('password'),
  client_id: ClientId,
  username: z.string().min(1),
  password: z.string(),
});
export type PasswordGrant = z.infer<typeof PasswordGrant>;

export const RefreshGrant = z.object({
  grant_type: z.literal('refresh_token'),
  refresh_token: z.string().min(1),
  client_id: ClientId,
});
export type RefreshGrant = z.infer<typeof RefreshGrant>;

export const TokenRequest = z.discriminatedUnion('grant_type', [PasswordGrant, RefreshGrant]);
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
  /** Seconds until the access token expires. */
  expires_in: z.number().int().positive(),
  /** Trades for a new access token (grant_type=refresh_token); absent from older servers. */
  refresh_token: z.string().optional(),
  /** Seconds until the refresh token expires. */
  refresh_expires_in: z.number().int().positive().optional(),
  user: User,
});
export type TokenResponse = z.infer<typeof TokenResponse>;

export const RevokeRequest = z.object({ token: z.string().min(1) });
export type RevokeRequest = z.infer<typeof RevokeRequest>;

/** An account as `cl uls` and `cl uinfo` show it; only root and the user themselves see one. */
export const UserAccount = User.extend({
  email: z.string().nullable(),
  /** Epoch milliseconds. */
  date_joined: z.number(),
  /** Epoch milliseconds of the last password login; null when never. */
  last_login: z.number().nullable(),
});
export type UserAccount = z.infer<typeof UserAccount>;

export const CreateUserRequest = z.object({
  user_name: z.string(),
  password: z.string(),
  email: z.string().min(3).max(254).optional(),
});
export type CreateUserRequest = z.infer<typeof CreateUserRequest>;

export const SignupRequest = z.object({ user_name: z.string(), password: z.string() });
export type SignupRequest = z.infer<typeof SignupRequest>;

/** A user changes their own password with the old one; root resets another's without it. */
export const ChangePasswordRequest = z.object({
  old_password: z.string().optional(),
  new_password: z.string(),
});
export type ChangePasswordRequest = z.infer<typeof ChangePasswordRequest>;

export const SIGNUP_OFF_MESSAGE = 'Sign-up is off on this server; ask its administrator for an account.';

export const ROOT_USER_NAME = 'codalab';

/** The shortest password accepted, for root and for every other user. */
export const MIN_PASSWORD_LENGTH = 8;

/** Why `password` is too weak ("too short (2 characters): use at least 8 characters"), or null. */
export function passwordProblem(password: string): string | null {
  return password.length < MIN_PASSWORD_LENGTH
    ? `too short (${password.length} characters): use at least ${MIN_PASSWORD_LENGTH} characters`
    : null;
}
