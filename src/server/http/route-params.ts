// Path parameters that several route files share, validated the same way everywhere: a bundle or
// worksheet uuid, and a worker id. Route files import these rather than repeating the schemas.
import { z } from 'zod';
import { Uuid, WORKER_ID_PATTERN } from '../../protocol/index.js';

export const UuidParams = z.object({ uuid: Uuid });

export const WorkerParams = z.object({ id: z.string().regex(WORKER_ID_PATTERN, 'invalid worker id') });
