// A user's account as root and its owner see it: usage and quotas (`cl uinfo`), and what root may
// change (`cl uedit`). A null quota means no limit (root has none).
import { z } from 'zod';
import { User } from './auth.js';

export const UserInfo = User.extend({
  email: z.string().nullable(),
  /** Epoch ms; last_login is null when the user never logged in with a password. */
  date_joined: z.number(),
  last_login: z.number().nullable(),
  /** False when root removed the user's access. */
  has_access: z.boolean(),
  bundles: z.number().int().nonnegative(),
  disk_used: z.number().nonnegative(),
  disk_quota: z.number().nullable(),
  /** Run-seconds on shared (root-owned) workers. */
  time_used: z.number().nonnegative(),
  time_quota: z.number().nullable(),
  /** Runs now on shared workers. */
  parallel_runs: z.number().int().nonnegative(),
  parallel_run_quota: z.number().nullable(),
});
export type UserInfo = z.infer<typeof UserInfo>;

export const EditUserRequest = z
  .object({
    disk_quota: z.number().int().nonnegative(),
    time_quota: z.number().nonnegative(),
    parallel_run_quota: z.number().int().nonnegative(),
    has_access: z.boolean(),
  })
  .partial()
  .strict();
export type EditUserRequest = z.infer<typeof EditUserRequest>;
