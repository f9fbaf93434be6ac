// Copies the files tsc does not emit (SQL migrations) next to the compiled code in dist/.
import { cpSync } from 'node:fs';

cpSync('src/server/store/migrations', 'dist/server/store/migrations', { recursive: true });
