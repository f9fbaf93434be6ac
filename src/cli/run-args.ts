// Everything `cl run` decides before talking to a server: which arguments are dependencies and
// which is the command (`---`, `%spec%` sugar), and the metadata from -n/-d/--tags and the
// --request-* flags (sizes in bytes, durations in seconds). Pure; errors are UserInputErrors.
import { expandCommandDependencies, formatTarget, parseDependencyArg, parseTarget, type DependencyArg } from '../common/bundle-spec.js';
import { defaultRunName, validateBundleName } from '../common/names.js';
import { parseDuration, parseSize } from '../common/sizes.js';
import { UserInputError } from '../common/user-input-error.js';
import { commandViolation, RunRequests, stripQueuePrefix, WORKER_TAG_PATTERN, WORKER_TAG_RULE, type Metadata } from '../protocol/index.js';

export const COMMAND_SEPARATOR = '---';

export interface RunFlags {
  name?: string;
  description?: string;
  tags?: string[];
  requestDockerImage?: string;
  requestMemory?: string;
  requestCpus?: string;
  requestGpus?: string;
  requestTime?: string;
  requestDisk?: string;
  requestQueue?: string;
  requestPriority?: string;
  requestNetwork?: string | boolean;
  excludePatterns?: string[];
  allowFailedDependencies?: boolean;
}

export interface RunPlan {
  command: string;
  dependencies: DependencyArg[];
  metadata: Metadata;
}

/** Splits argv at the first `---`: what follows is the command, word for word. */
export function splitAtSeparator(argv: readonly string[]): { options: string[]; commandWords: string[] | undefined } {
  const at = argv.indexOf(COMMAND_SEPARATOR);
  if (at < 0) return { options: [...argv], commandWords: undefined };
  return { options: argv.slice(0, at), commandWords: argv.slice(at + 1) };
}

const BOOLEAN_WORDS = new Map([
  ['true', true],
  ['yes', true],
  ['1', true],
  ['false', false],
  ['no', false],
  ['0', false],
]);

/** `--request-network` takes an optional value; a bare flag must not swallow the command after it. */
export function bindOptionalBooleans(argv: readonly string[], flags: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] ?? '';
    const next = argv[i + 1];
    if (flags.includes(arg) && (next === undefined || !BOOLEAN_WORDS.has(next.toLowerCase()))) out.push(`${arg}=true`);
    else out.push(arg);
  }
  return out;
}

export function parseBoolean(text: string, flag: string): boolean {
  const value = BOOLEAN_WORDS.get(text.trim().toLowerCase());
  if (value === undefined) throw new UserInputError(`Invalid value for ${flag} '${text}': expected true or false.`);
  return value;
}

/** POSIX shell quoting, so words after `---` reach the shell as they were typed. */
export function shellQuote(word: string): string {
  if (word !== '' && /^[A-Za-z0-9_\-+=.,/:@%^]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

export function planRun(positionals: readonly string[], commandWords: readonly string[] | undefined, flags: RunFlags): RunPlan {
  const targets = commandWords === undefined ? positionals.slice(0, -1) : [...positionals];
  const rawCommand = commandWords === undefined ? (positionals.at(-1) ?? '') : commandWords.map(shellQuote).join(' ');
  if (rawCommand.trim() === '') {
    throw new UserInputError("Missing command: usage is 'cl run [KEY:]TARGET... COMMAND' (or '... --- COMMAND WORDS').");
  }
  const expanded = expandCommandDependencies(rawCommand);
  // The server refuses it too; checking here names the limit before a megabyte travels.
  const tooLong = commandViolation(expanded.command);
  if (tooLong) throw new UserInputError(tooLong);
  const dependencies = mergeDependencies([...positionalDependencies(targets, expanded.dependencies), ...expanded.dependencies]);
  const metadata: Metadata = {
    name: flags.name !== undefined ? validateBundleName(flags.name) : defaultRunName(expanded.command),
    ...(flags.description !== undefined ? { description: flags.description } : {}),
    ...(flags.tags !== undefined ? { tags: flags.tags } : {}),
    ...parseRunRequests(flags),
  };
  return { command: expanded.command, dependencies, metadata };
}

/** `key:target` and `:target` as written; a bare target shares the key of an identical `%target%`, else gets bN. */
function positionalDependencies(args: readonly string[], fromCommand: readonly DependencyArg[]): DependencyArg[] {
  const taken = new Set(fromCommand.map((d) => d.key));
  let counter = 0;
  return args.map((arg) => {
    const keyed = parseDependencyArg(arg);
    if (keyed) return keyed;
    const target = parseTarget(arg);
    const same = fromCommand.find((d) => /^b\d+$/.test(d.key) && formatTarget(d.target) === formatTarget(target));
    if (same) return same;
    let key: string;
    do {
      counter += 1;
      key = `b${counter}`;
    } while (taken.has(key));
    taken.add(key);
    return { key, target };
  });
}

/** Drops exact repeats; the same key for different targets, or a key inside another key, is an error. */
export function mergeDependencies(dependencies: readonly DependencyArg[]): DependencyArg[] {
  const byKey = new Map<string, DependencyArg>();
  for (const dep of dependencies) {
    const known = byKey.get(dep.key);
    if (!known) byKey.set(dep.key, dep);
    else if (formatTarget(known.target) !== formatTarget(dep.target)) {
      throw new UserInputError(
        `Duplicate dependency key '${dep.key}': it names both '${formatTarget(known.target)}' and '${formatTarget(dep.target)}'.`,
      );
    }
  }
  const keys = [...byKey.keys()];
  for (const key of keys) {
    const inner = keys.find((other) => other.startsWith(`${key}/`));
    if (inner) throw new UserInputError(`Dependency key '${inner}' lies inside dependency key '${key}': use separate keys.`);
  }
  return [...byKey.values()];
}

export function parseRunRequests(flags: RunFlags): RunRequests {
  const requests: RunRequests = {};
  if (flags.requestDockerImage !== undefined) requests.request_docker_image = nonEmpty(flags.requestDockerImage, '--request-docker-image');
  if (flags.requestMemory !== undefined) requests.request_memory = parseSize(flags.requestMemory);
  if (flags.requestDisk !== undefined) requests.request_disk = parseSize(flags.requestDisk);
  if (flags.requestTime !== undefined) requests.request_time = parseDuration(flags.requestTime);
  if (flags.requestCpus !== undefined) requests.request_cpus = parseInteger(flags.requestCpus, '--request-cpus', 1);
  if (flags.requestGpus !== undefined) requests.request_gpus = parseInteger(flags.requestGpus, '--request-gpus', 0);
  if (flags.requestPriority !== undefined) requests.request_priority = parseInteger(flags.requestPriority, '--request-priority');
  if (flags.requestQueue !== undefined) {
    requests.request_queue = parseQueue(flags.requestQueue);
  }
  if (flags.requestNetwork !== undefined) {
    requests.request_network =
      typeof flags.requestNetwork === 'boolean' ? flags.requestNetwork : parseBoolean(flags.requestNetwork, '--request-network');
  }
  if (flags.excludePatterns !== undefined) requests.exclude_patterns = flags.excludePatterns;
  // Stored only when given, as CodaLab's default (false) needs no line in every `cl info`.
  if (flags.allowFailedDependencies === true) requests.allow_failed_dependencies = true;
  return RunRequests.parse(requests);
}

function parseInteger(text: string, flag: string, min?: number): number {
  const value = Number(text.trim());
  if (!/^[-+]?\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || (min !== undefined && value < min)) {
    const range = min === undefined ? 'a whole number' : `a whole number of at least ${min}`;
    throw new UserInputError(`Invalid value for ${flag} '${text}': expected ${range}.`);
  }
  return value;
}

/** `tag=NAME` or `NAME`, stored as NAME; refused unless a worker could be tagged NAME. */
function parseQueue(text: string): string {
  const queue = stripQueuePrefix(text.trim());
  if (!WORKER_TAG_PATTERN.test(queue)) throw new UserInputError(`Invalid value for --request-queue '${queue}': ${WORKER_TAG_RULE}.`);
  return queue;
}

function nonEmpty(text: string, flag: string): string {
  if (text.trim() === '') throw new UserInputError(`Invalid value for ${flag}: it must not be empty.`);
  return text.trim();
}
