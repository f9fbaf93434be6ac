// Requests and answers of the researcher-facing bundle and worksheet operations beyond create/read:
// search, edit, delete, children (for mimic), memoize lookups, worksheet management and items.
// Routes are listed in BUNDLE_OPS_ROUTES below; no I/O here.
import { z } from 'zod';
import { Bundle, Dependency, MetadataInput, Uuid } from './bundles.js';
import { NAME_MAX_CHARS, textViolation, WORKSHEET_TEXT_MAX_CHARS, WORKSHEET_TITLE_MAX_CHARS } from './limits.js';
import { Worksheet } from './worksheets.js';
import { REST } from './routes.js';

/** `cl search KEYWORD...`: keywords as typed; the worksheet is the base for `worksheet=` and specs. */
export const SearchRequest = z.object({
  keywords: z.array(z.string()),
  worksheet: Uuid.optional(),
});
export type SearchRequest = z.infer<typeof SearchRequest>;

/**
 * Bundles newest first (unless sorted otherwise). `result` holds the number of `.count` or
 * `FIELD=.sum` (then `bundles` is empty); `more` says the limit cut the list.
 */
export const SearchResponse = z.object({
  bundles: z.array(Bundle),
  result: z.number().nullable(),
  limit: z.number().nullable(),
  more: z.boolean(),
});
export type SearchResponse = z.infer<typeof SearchResponse>;

/**
 * Metadata key that holds when a bundle was frozen (epoch seconds); absent when it is not. A
 * frozen bundle's metadata cannot be edited and it cannot be deleted until it is unfrozen. Only
 * `frozen` in an edit request sets or clears it.
 */
export const FROZEN_KEY = 'frozen';

/** `cl edit`: metadata to merge (null removes a key), and optionally freeze (true) or unfreeze (false). */
export const UpdateBundleRequest = z.object({ metadata: MetadataInput.default({}), frozen: z.boolean().optional() });
export type UpdateBundleRequest = z.infer<typeof UpdateBundleRequest>;

export const DeleteBundlesRequest = z.object({
  uuids: z.array(Uuid).min(1),
  force: z.boolean().default(false),
  recursive: z.boolean().default(false),
  data_only: z.boolean().default(false),
  dry_run: z.boolean().default(false),
});
export type DeleteBundlesRequest = z.infer<typeof DeleteBundlesRequest>;

/** The uuids deleted (or, for a dry run, that would be), dependents first. */
export const DeleteBundlesResponse = z.object({ uuids: z.array(Uuid) });
export type DeleteBundlesResponse = z.infer<typeof DeleteBundlesResponse>;

export const BundleList = z.object({ bundles: z.array(Bundle) });
export type BundleList = z.infer<typeof BundleList>;

/** What the caller may do with a bundle: `read` (see, use as a dependency) or `all` (also edit, delete, kill). */
export const Permission = z.enum(['none', 'read', 'all']);
export type Permission = z.infer<typeof Permission>;

/** One group's level on a bundle or worksheet (no entry: none). */
export const GroupPermission = z.object({ group_uuid: z.string(), group_name: z.string(), permission: Permission });
export type GroupPermission = z.infer<typeof GroupPermission>;

/**
 * `cl info --verbose`: the worksheets that hold the bundle (those the caller may read), the
 * caller's permission on it, and the groups it is shared with.
 */
export const BundleVerboseInfo = z.object({
  host_worksheets: z.array(Worksheet.pick({ uuid: true, name: true })),
  permission: Permission,
  group_permissions: z.array(GroupPermission).default([]),
});
export type BundleVerboseInfo = z.infer<typeof BundleVerboseInfo>;

/** `run --memoize`: the caller's newest ready run with this command and exactly these dependencies. */
export const MemoRequest = z.object({
  command: z.string(),
  dependencies: z.array(Dependency.pick({ child_path: true, parent_uuid: true })),
});
export type MemoRequest = z.infer<typeof MemoRequest>;
export const MemoResponse = z.object({ uuid: Uuid.nullable() });
export type MemoResponse = z.infer<typeof MemoResponse>;

/** A string of at most `limit` characters, refused with a message naming `what`. */
function boundedText(what: string, limit: number): z.ZodType<string> {
  return z.string().superRefine((text, ctx) => {
    const violation = textViolation(what, text, limit);
    if (violation) ctx.addIssue({ code: 'custom', message: violation });
  });
}

export const CreateWorksheetRequest = z.object({
  name: boundedText('Worksheet name', NAME_MAX_CHARS),
  title: boundedText('Worksheet title', WORKSHEET_TITLE_MAX_CHARS).optional(),
});
export type CreateWorksheetRequest = z.infer<typeof CreateWorksheetRequest>;

export const WorksheetSearchRequest = z.object({ keywords: z.array(z.string()) });
export type WorksheetSearchRequest = z.infer<typeof WorksheetSearchRequest>;
export const WorksheetList = z.object({ worksheets: z.array(Worksheet), more: z.boolean() });
export type WorksheetList = z.infer<typeof WorksheetList>;

export const AddItemRequest = z.discriminatedUnion('type', [
  z.object({ type: z.literal('bundle'), bundle_uuid: Uuid }),
  z.object({ type: z.literal('markup'), value: boundedText('Worksheet text', WORKSHEET_TEXT_MAX_CHARS) }),
]);
export type AddItemRequest = z.infer<typeof AddItemRequest>;

export const WorksheetItem = z.discriminatedUnion('type', [
  z.object({ type: z.literal('bundle'), bundle: Bundle }),
  /** A bundle the caller may not read: its place on the worksheet and its uuid, nothing else. */
  z.object({ type: z.literal('private_bundle'), uuid: Uuid }),
  z.object({ type: z.literal('markup'), value: z.string() }),
]);
export type WorksheetItem = z.infer<typeof WorksheetItem>;

/** Every item of a worksheet in order (oldest first): bundles and text. */
export const WorksheetItems = z.object({ worksheet: Worksheet, items: z.array(WorksheetItem) });
export type WorksheetItems = z.infer<typeof WorksheetItems>;

export const DetachResponse = z.object({ removed: z.number().int() });
export type DetachResponse = z.infer<typeof DetachResponse>;

//   POST   /rest/bundles/search                  SearchRequest -> SearchResponse
//   POST   /rest/bundles/delete                  DeleteBundlesRequest -> DeleteBundlesResponse
//   PATCH  /rest/bundles/:uuid                   UpdateBundleRequest -> Bundle
//   GET    /rest/bundles/:uuid/children          -> BundleList (bundles that depend on it)
//   GET    /rest/bundles/:uuid/verbose-info      -> BundleVerboseInfo
//   POST   /rest/bundles/memo                    MemoRequest -> MemoResponse
//   POST   /rest/worksheets                      CreateWorksheetRequest -> Worksheet
//   POST   /rest/worksheets/search               WorksheetSearchRequest -> WorksheetList
//   DELETE /rest/worksheets/:uuid?force=0|1      -> Worksheet (the one removed)
//   GET    /rest/worksheets/:uuid/items          -> WorksheetItems
//   POST   /rest/worksheets/:uuid/items          AddItemRequest -> WorksheetItems
//   DELETE /rest/worksheets/:uuid/items/:bundle?index=N  -> DetachResponse
export const bundleOpsRoutes = {
  search: () => `${REST}/bundles/search`,
  deleteBundles: () => `${REST}/bundles/delete`,
  updateBundle: (uuid: string) => `${REST}/bundles/${uuid}`,
  children: (uuid: string) => `${REST}/bundles/${uuid}/children`,
  verboseInfo: (uuid: string) => `${REST}/bundles/${uuid}/verbose-info`,
  memo: () => `${REST}/bundles/memo`,
  createWorksheet: () => `${REST}/worksheets`,
  searchWorksheets: () => `${REST}/worksheets/search`,
  deleteWorksheet: (uuid: string, force: boolean) => `${REST}/worksheets/${uuid}?force=${force ? 1 : 0}`,
  worksheetItems: (uuid: string) => `${REST}/worksheets/${uuid}/items`,
  detach: (worksheet: string, bundle: string, index?: number) =>
    `${REST}/worksheets/${worksheet}/items/${bundle}${index !== undefined ? `?index=${index}` : ''}`,
} as const;
