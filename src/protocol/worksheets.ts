// Worksheets: ordered lists of bundles, one home worksheet per user (`home-<user>`).
import { z } from 'zod';
import { Bundle, Uuid } from './bundles.js';

export const WORKSHEET_NAME_PATTERN = /^[a-zA-Z_][a-zA-Z0-9_.-]*$/;

export const Worksheet = z.object({
  uuid: Uuid,
  name: z.string(),
  title: z.string().nullable(),
  owner_id: z.string(),
  owner_name: z.string(),
});
export type Worksheet = z.infer<typeof Worksheet>;

/** The name listings show for a bundle the caller may not read. */
export const PRIVATE_BUNDLE_NAME = '<private>';

/** A bundle the caller may not read, as listings show it: its uuid and nothing else. */
export const PrivateBundle = z.object({ uuid: Uuid, private: z.literal(true) });
export type PrivateBundle = z.infer<typeof PrivateBundle>;

export function isPrivateBundle(bundle: Bundle | PrivateBundle): bundle is PrivateBundle {
  return 'private' in bundle;
}

/** A worksheet with its bundles, oldest first (so `^1` is the last element). */
export const WorksheetContents = z.object({
  worksheet: Worksheet,
  bundles: z.array(z.union([Bundle, PrivateBundle])),
});
export type WorksheetContents = z.infer<typeof WorksheetContents>;

export function homeWorksheetName(userName: string): string {
  return `home-${userName}`;
}
