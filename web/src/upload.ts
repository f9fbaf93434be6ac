// Uploads as `cl upload` makes them: create a dataset on the worksheet, then PUT the file's bytes
// as its contents. XMLHttpRequest rather than fetch, because only it reports upload progress.
import { stripArchiveSuffix, toDefaultName } from '../../src/common/names.js';
import { Bundle, routes, type CreateBundleRequest } from '../../src/protocol/index.js';
import { messageOf, refusedToken, RequestError, requireToken, sendJson } from './api.js';

/** `.zip`, `.tar.gz`, …: the server unpacks them, as it does for `cl upload`. */
export function isArchiveName(fileName: string): boolean {
  return stripArchiveSuffix(fileName) !== fileName;
}

export function defaultUploadName(fileName: string): string {
  return toDefaultName(stripArchiveSuffix(fileName));
}

/** Creates the dataset and sends `file`; `onProgress` gets the fraction sent (0 to 1). */
export async function uploadFile(worksheet: string, file: File, onProgress: (fraction: number) => void): Promise<Bundle> {
  const request: CreateBundleRequest = { bundle_type: 'dataset', metadata: { name: defaultUploadName(file.name) }, dependencies: [] };
  const bundle = await sendJson('POST', routes.createBundle(worksheet), Bundle, request);
  const path = routes.uploadContents(bundle.uuid, { unpack: isArchiveName(file.name), filename: file.name });
  try {
    return await putWithProgress(path, file, onProgress);
  } catch (error) {
    if (error instanceof RequestError) throw new RequestError(error.status, `Uploading ${file.name} failed: ${error.message}`);
    throw error;
  }
}

function putWithProgress(path: string, file: File, onProgress: (fraction: number) => void): Promise<Bundle> {
  const token = requireToken();
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', path);
    xhr.setRequestHeader('authorization', `Bearer ${token}`);
    xhr.setRequestHeader('content-type', 'application/octet-stream');
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable && event.total > 0) onProgress(event.loaded / event.total);
    };
    xhr.onerror = () => reject(new RequestError(0, 'The connection to the server failed; check that it is running and try again.'));
    xhr.onload = () => {
      if (xhr.status === 401) refusedToken();
      if (xhr.status < 200 || xhr.status >= 300) {
        reject(new RequestError(xhr.status, messageOf(xhr.status, xhr.responseText)));
        return;
      }
      try {
        onProgress(1);
        resolve(Bundle.parse(JSON.parse(xhr.responseText)));
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    };
    xhr.send(file);
  });
}
