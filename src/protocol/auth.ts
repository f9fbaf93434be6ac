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
