// `cl logout`: end the login to the current instance: the server revokes its refresh and access
// tokens, and the client forgets them (the next command logs in again).
import type { Command } from 'commander';
import { z } from 'zod';
import { HttpClient } from '../../common/http-client.js';
import { routes } from '../../protocol/index.js';
import { findLocalInstance } from '../local-instance.js';
import { writeLine } from '../io.js';
import type { CliContext } from '../session.js';
import { LOCAL_INSTANCE, type CachedToken } from '../state-store.js';

export const LOGOUT_EXAMPLES = `
Example:
  cl logout          end the login to the current server (its tokens are revoked there)`;

export function registerLogout(program: Command, ctx: CliContext): void {
  program
    .command('logout')
    .description('Log out of the current server: revoke and forget its tokens.')
    .addHelpText('after', LOGOUT_EXAMPLES)
    .action(async () => {
      const instance = ctx.state.currentInstance();
      const cached = ctx.state.token(instance);
      if (cached) await revoke(ctx, instance, cached);
      const had = ctx.state.forgetToken(instance);
      writeLine(ctx.io.stderr, had ? `Logged out of ${instance}.` : `Not logged in to ${instance}.`);
    });
}

/** Asks the server to revoke the tokens; an unreachable server only gets a note (they expire anyway). */
async function revoke(ctx: CliContext, instance: string, cached: CachedToken): Promise<void> {
  // The local instance is not started just to log out of it.
  const url = instance === LOCAL_INSTANCE ? (await findLocalInstance(ctx.config.home))?.url : instance;
  if (url === undefined) return;
  const http = new HttpClient({ baseUrl: url });
  try {
    for (const token of [cached.refresh_token, cached.token]) {
      if (token !== undefined) await http.json(routes.revoke(), z.object({}), { method: 'POST', json: { token } });
    }
  } catch (error) {
    writeLine(ctx.io.stderr, `Could not revoke the tokens on ${url} (${(error as Error).message}); they expire on their own.`);
  }
}
