// REST paths, in one place so server routes and clients cannot drift apart.
// All paths are under /rest; every route but the token route needs `Authorization: Bearer`.
//
//   POST /rest/oauth2/token                        TokenRequest -> TokenResponse
//   GET  /rest/user                                -> User
//   GET  /rest/users/:name/info                    -> UserInfo (yourself; root: anyone)
//   PATCH /rest/users/:name/info                   EditUserRequest -> UserInfo (root only)
//   GET  /rest/worksheets/home                     -> Worksheet (created on first use)
//   GET  /rest/worksheets?spec=NAME|UUID           -> Worksheet
//   GET  /rest/worksheets/:uuid/contents           -> WorksheetContents
//   POST /rest/bundles?worksheet=UUID              CreateBundleRequest -> Bundle
//   POST /rest/bundles/resolve                     ResolveRequest -> ResolveResponse
//   GET  /rest/bundles/:uuid                       -> Bundle
//   PUT  /rest/bundles/:uuid/contents?unpack=&filename=   raw body (file or archive) -> Bundle
//   GET  /rest/bundles/:uuid/contents/info/PATH    -> TargetInfo (one level of contents)
//   GET  /rest/bundles/:uuid/contents/blob/PATH?head=N&tail=N  -> file bytes, or a tar of a directory
//   POST /rest/bundle-actions                      BundleAction -> BundleActionResponse
//   GET  /rest/workers/info                        -> WorkerInfo[]
//   POST /rest/workers/:id/checkin                 WorkerCheckin -> CheckinResponse
//   GET  /rest/workers/:id/messages?wait=SECONDS   -> MessagesResponse (long poll)
//   POST /rest/workers/:id/runs/:uuid/start        StartRunRequest -> AcceptedResponse
//   PUT  /rest/workers/:id/runs/:uuid/contents?assignment_id=A   tar body -> AcceptedResponse
//   POST /rest/workers/:id/runs/:uuid/finish       FinishRunRequest -> AcceptedResponse

export const REST = '/rest';

function segment(value: string): string {
  return encodeURIComponent(value);
}

function subPath(path: string): string {
  return path.split('/').filter(Boolean).map(segment).join('/');
}

export const routes = {
  token: () => `${REST}/oauth2/token`,
  user: () => `${REST}/user`,
  userInfo: (name: string) => `${REST}/users/${segment(name)}/info`,
  homeWorksheet: () => `${REST}/worksheets/home`,
  worksheetBySpec: (spec: string) => `${REST}/worksheets?spec=${segment(spec)}`,
  worksheetContents: (uuid: string) => `${REST}/worksheets/${uuid}/contents`,
  createBundle: (worksheet: string) => `${REST}/bundles?worksheet=${worksheet}`,
  resolveBundles: () => `${REST}/bundles/resolve`,
  bundle: (uuid: string) => `${REST}/bundles/${uuid}`,
  uploadContents: (uuid: string, opts: { unpack: boolean; filename: string }) =>
    `${REST}/bundles/${uuid}/contents?unpack=${opts.unpack ? 1 : 0}&filename=${segment(opts.filename)}`,
  contentsInfo: (uuid: string, path: string) => `${REST}/bundles/${uuid}/contents/info/${subPath(path)}`,
  contentsBlob: (uuid: string, path: string) => `${REST}/bundles/${uuid}/contents/blob/${subPath(path)}`,
  bundleActions: () => `${REST}/bundle-actions`,
  workersInfo: () => `${REST}/workers/info`,
  checkin: (workerId: string) => `${REST}/workers/${segment(workerId)}/checkin`,
  messages: (workerId: string, waitSeconds: number) =>
    `${REST}/workers/${segment(workerId)}/messages?wait=${waitSeconds}`,
  startRun: (workerId: string, uuid: string) => `${REST}/workers/${segment(workerId)}/runs/${uuid}/start`,
  runContents: (workerId: string, uuid: string, assignmentId: string) =>
    `${REST}/workers/${segment(workerId)}/runs/${uuid}/contents?assignment_id=${segment(assignmentId)}`,
  finishRun: (workerId: string, uuid: string) => `${REST}/workers/${segment(workerId)}/runs/${uuid}/finish`,
} as const;
