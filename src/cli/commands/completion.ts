// Shell completion: `cl completion bash|zsh` prints a script to source; the script asks the hidden
// `cl __complete INDEX WORDS...` for candidates: commands, a command's flags, and bundle names
// from the server (names on the current worksheet and recent ones; silent when it is unreachable).
import type { Command } from 'commander';
import { UserInputError } from '../../common/user-input-error.js';
import { bundleOpsRoutes, SearchResponse } from '../../protocol/index.js';
import { writeLine } from '../io.js';
import { worksheetFor } from '../resolve.js';
import type { CliContext } from '../session.js';

export const COMPLETION_EXAMPLES = `
Examples:
  source <(cl completion bash)           in ~/.bashrc
  source <(cl completion zsh)            in ~/.zshrc
Completes command names, flags, and bundle names from the current server.`;

const BASH = `# cl completion for bash
_cl_complete() {
  local IFS=$'\\n'
  COMPREPLY=($(cl __complete "$COMP_CWORD" "\${COMP_WORDS[@]}" 2>/dev/null))
}
complete -o default -F _cl_complete cl
`;

const ZSH = `#compdef cl
# cl completion for zsh
_cl() {
  local -a candidates
  candidates=("\${(@f)$(cl __complete $((CURRENT - 1)) "\${words[@]}" 2>/dev/null)}")
  compadd -a candidates
}
compdef _cl cl
`;

export function registerCompletion(program: Command, ctx: CliContext): void {
  program
    .command('completion')
    .description('Print a shell completion script (bash or zsh).')
    .argument('<shell>', 'bash or zsh')
    .addHelpText('after', COMPLETION_EXAMPLES)
    .action((shell: string) => {
      if (shell === 'bash') ctx.io.stdout.write(BASH);
      else if (shell === 'zsh') ctx.io.stdout.write(ZSH);
      else throw new UserInputError(`Unknown shell '${shell}': use bash or zsh.`);
    });

  program
    .command('__complete', { hidden: true })
    .argument('<index>', 'index of the word being completed')
    .argument('[words...]', 'the command line, starting with cl')
    .allowUnknownOption()
    .action(async (indexText: string, words: string[]) => {
      const index = Number(indexText);
      const current = words[index] ?? '';
      for (const candidate of await candidates(program, ctx, words, index, current)) {
        if (candidate.startsWith(current)) writeLine(ctx.io.stdout, candidate);
      }
    });
}

async function candidates(program: Command, ctx: CliContext, words: string[], index: number, current: string): Promise<string[]> {
  const visible = program.commands.filter((c) => !c.name().startsWith('__'));
  if (index <= 1) return visible.map((c) => c.name());
  const name = words[1] ?? '';
  const command = visible.find((c) => c.name() === name || c.aliases().includes(name));
  if (!command) return [];
  if (current.startsWith('-')) return command.options.flatMap((o) => [o.long, o.short].filter((f): f is string => f !== undefined));
  if (command.commands.length > 0) return index === 2 ? command.commands.map((c) => c.name()) : []; // e.g. cl local stop
  return bundleNames(ctx, current);
}

async function bundleNames(ctx: CliContext, prefix: string): Promise<string[]> {
  if (prefix.includes('/') || prefix.includes(':')) return [];
  try {
    const session = await ctx.session();
    const keywords = [`name=${prefix.replace(/[%_]/g, '')}%`, '.limit=50'];
    const request = { keywords, worksheet: await worksheetFor(session, undefined) };
    const answer = await session.api.json(bundleOpsRoutes.search(), SearchResponse, { method: 'POST', json: request });
    return [...new Set(answer.bundles.map((b) => String(b.metadata.name ?? '')).filter((n) => n !== ''))];
  } catch {
    // Completion must never print errors into the user's command line; no names is the safe answer.
    return [];
  }
}
