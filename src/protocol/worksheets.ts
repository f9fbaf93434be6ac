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

/** A worksheet with its bundles, oldest first (so `^1` is the last element). */
export const WorksheetContents = z.object({
  worksheet: Worksheet,
  bundles: z.array(Bundle),
});
export type WorksheetContents = z.infer<typeof WorksheetContents>;

export function homeWorksheetName(userName: string): string {
  return `home-${userName}`;
}
