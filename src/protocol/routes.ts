// REST paths, in one place so server routes and clients cannot drift apart.
// All paths are under /rest; every route but the token, revoke and signup routes needs `Authorization: Bearer`.
// The /workers/:id/... routes take only a worker token (client_id codalab_worker_client at
// /oauth2/token); every other route only a user session's token (403 for the wrong kind).
//
//   POST /rest/oauth2/token                        TokenRequest -> TokenResponse (no token needed; client_id picks user or worker)
//   POST /rest/oauth2/revoke                       RevokeRequest -> {} (no token needed; RFC 7009)
//   POST /rest/signup                              SignupRequest -> User (no token; only with --allow-signup)
//   GET  /rest/user                                -> User
//   GET  /rest/users/:name/info                    -> UserInfo (yourself; root: anyone)
//   PATCH /rest/users/:name/info                   EditUserRequest -> UserInfo (root only)
//   GET  /rest/users?keywords=K                    -> UserAccount[] (root)
//   POST /rest/users                               CreateUserRequest -> UserAccount (root)
//   GET  /rest/users/:name                         -> UserAccount (root, or the user themselves)
//   DELETE /rest/users/:name                       -> {} (root; refused while the user owns anything)
//   POST /rest/users/:name/password                ChangePasswordRequest -> {} (the user, or root)
//   GET  /rest/worksheets/home                     -> Worksheet (created on first use)
//   GET  /rest/worksheets?spec=NAME|UUID           -> Worksheet
//   GET  /rest/worksheets/:uuid/contents           -> WorksheetContents
//   POST /rest/bundles?worksheet=UUID              CreateBundleRequest -> Bundle
//   POST /rest/bundles/resolve                     ResolveRequest -> ResolveResponse
//   GET  /rest/bundles/:uuid                       -> Bundle
//   GET  /rest/bundles/:uuid/wait?seconds=N        -> Bundle once final, or as it is after N seconds (at most 60)
//   PUT  /rest/bundles/:uuid/contents?unpack=&filename=   raw body (file or archive) -> Bundle
//   GET  /rest/bundles/:uuid/contents/info/PATH    -> TargetInfo (one level of contents)
//   GET  /rest/bundles/:uuid/contents/blob/PATH?head=N&tail=N  -> file bytes, or a tar of a directory
//   POST /rest/bundle-actions                      BundleAction -> BundleActionResponse
//   GET  /rest/workers/info                        -> WorkerInfo[]
//   GET  /rest/runs/staged?queue=Q&user=NAME       -> StagedRunsResponse (root: all users; others: their own runs)
//   POST /rest/workers/:id/checkin                 WorkerCheckin -> CheckinResponse
//   GET  /rest/workers/:id/messages?wait=SECONDS   -> MessagesResponse (long poll)
//   POST /rest/workers/:id/runs/:uuid/start        StartRunRequest -> AcceptedResponse
//   PUT  /rest/workers/:id/runs/:uuid/contents?assignment_id=A   tar body -> AcceptedResponse
//   POST /rest/workers/:id/runs/:uuid/finish       FinishRunRequest -> AcceptedResponse
//   GET  /rest/workers/:id/bundles/:uuid/contents/blob/PATH   -> like contents/blob; only a dependency of a run the worker holds
//   (PUT /rest/workers/:id/replies/:request_id, live-runs.ts, is a worker route too)

export const REST = '/rest';

function segment(value: string): string {
  return encodeURIComponent(value);
}

function subPath(path: string): string {
  return path.split('/').filter(Boolean).map(segment).join('/');
}

export const routes = {
  token: () => `${REST}/oauth2/token`,
  revoke: () => `${REST}/oauth2/revoke`,
  signup: () => `${REST}/signup`,
  user: () => `${REST}/user`,
  userInfo: (name: string) => `${REST}/users/${segment(name)}/info`,
  users: (keywords: readonly string[] = []) =>
    keywords.length === 0 ? `${REST}/users` : `${REST}/users?keywords=${segment(keywords.join(' '))}`,
  userByName: (name: string) => `${REST}/users/${segment(name)}`,
  userPassword: (name: string) => `${REST}/users/${segment(name)}/password`,
  homeWorksheet: () => `${REST}/worksheets/home`,
  worksheetBySpec: (spec: string) => `${REST}/worksheets?spec=${segment(spec)}`,
  worksheetContents: (uuid: string) => `${REST}/worksheets/${uuid}/contents`,
  createBundle: (worksheet: string) => `${REST}/bundles?worksheet=${worksheet}`,
  resolveBundles: () => `${REST}/bundles/resolve`,
  bundle: (uuid: string) => `${REST}/bundles/${uuid}`,
  waitBundle: (uuid: string, seconds: number) => `${REST}/bundles/${uuid}/wait?seconds=${seconds}`,
  uploadContents: (uuid: string, opts: { unpack: boolean; filename: string }) =>
    `${REST}/bundles/${uuid}/contents?unpack=${opts.unpack ? 1 : 0}&filename=${segment(opts.filename)}`,
  contentsInfo: (uuid: string, path: string) => `${REST}/bundles/${uuid}/contents/info/${subPath(path)}`,
  contentsBlob: (uuid: string, path: string) => `${REST}/bundles/${uuid}/contents/blob/${subPath(path)}`,
  bundleActions: () => `${REST}/bundle-actions`,
  workersInfo: () => `${REST}/workers/info`,
  stagedRuns: (filter: { queue?: string | undefined; user?: string | undefined } = {}) => {
    const query = new URLSearchParams();
    if (filter.queue !== undefined) query.set('queue', filter.queue);
    if (filter.user !== undefined) query.set('user', filter.user);
    const text = query.toString();
    return text === '' ? `${REST}/runs/staged` : `${REST}/runs/staged?${text}`;
  },
  checkin: (workerId: string) => `${REST}/workers/${segment(workerId)}/checkin`,
  messages: (workerId: string, waitSeconds: number) =>
    `${REST}/workers/${segment(workerId)}/messages?wait=${waitSeconds}`,
  startRun: (workerId: string, uuid: string) => `${REST}/workers/${segment(workerId)}/runs/${uuid}/start`,
  runContents: (workerId: string, uuid: string, assignmentId: string) =>
    `${REST}/workers/${segment(workerId)}/runs/${uuid}/contents?assignment_id=${segment(assignmentId)}`,
  runContentsInPlace: (workerId: string, uuid: string, assignmentId: string) =>
    `${REST}/workers/${segment(workerId)}/runs/${uuid}/contents/in-place?assignment_id=${segment(assignmentId)}`,
  finishRun: (workerId: string, uuid: string) => `${REST}/workers/${segment(workerId)}/runs/${uuid}/finish`,
  dependencyBlob: (workerId: string, uuid: string, path: string) =>
    `${REST}/workers/${segment(workerId)}/bundles/${uuid}/contents/blob/${subPath(path)}`,
} as const;
