// `cl mimic` and `cl macro`: re-run a part of the bundle graph with some inputs replaced. Planned
// and created by the client over the API (bundle reads, children, create); new runs pin the old
// run's recorded image digest, so the re-run uses exactly the same image.
import type { Command } from 'commander';
import { UserInputError } from '../../common/user-input-error.js';
import { Bundle, BundleList, bundleOpsRoutes, routes, type CreateBundleRequest, type Metadata } from '../../protocol/index.js';
import { fetchBundle } from '../bundle-watch.js';
import { terminalText } from '../format/terminal-text.js';
import { writeLine } from '../io.js';
import { resolveManyTargets } from '../resolve-many.js';
import { resolveTargetText, worksheetFor } from '../resolve.js';
import { createOrReuseRun } from '../run-memoize.js';
import type { CliContext, Session } from '../session.js';

export const MIMIC_EXAMPLES = `
Usage:
  cl mimic R                     re-run R (same command, same dependencies)
  cl mimic A B                   re-run everything downstream of A (up to --depth levels), with B for A
  cl mimic A1 A2 X B1 B2 -n Y    rebuild X and its ancestors that depend on A1/A2, with B1/B2 in
                                 their place; the new X is named Y, the others Y-<old name>
New bundles copy the old metadata (generated fields dropped), pin request_docker_image to the old
run's docker_image digest, and take -d/--tags/--allow-failed-dependencies from the command line. Datasets are never re-run.
stdout: with an output X (or R), only the new X's uuid; otherwise every new uuid, one a line.
Errors: an input that is not an ancestor of X.`;

export const MACRO_EXAMPLES = `
Usage:
  cl macro M A B                 same as: cl mimic M-in1 M-in2 M-out A B -n new
  cl macro M A name:C            same as: cl mimic M-in1 M-in-name M-out A C -n new
The macro's bundles are found by name (M-in1, M-in2, ..., M-in-KEY, M-out).`;

/** Metadata the system sets on a bundle; a re-run starts without them. */
const GENERATED = new Set([
  'created', 'data_size', 'docker_image', 'exitcode', 'started', 'time', 'time_user', 'time_system', 'time_preparing',
  'time_running', 'time_cleaning_up', 'time_uploading_results', 'remote', 'remote_history', 'run_status', 'staged_status',
  'actions', 'memory', 'memory_max', 'cpu_usage', 'memory_usage', 'failure_message', 'error_traceback', 'last_updated',
  'job_handle', 'on_preemptible_worker', 'frozen',
]);

interface MimicOptions {
  name?: string;
  description?: string;
  tags?: string[];
  allowFailedDependencies?: boolean;
  depth?: string;
  memoize?: boolean;
  dryRun?: boolean;
  worksheetSpec?: string;
}

function addMimicOptions(command: Command): Command {
  return command
    .option('-n, --name <name>', 'name of the new output bundle')
    .option('-d, --description <text>', 'description of the new bundles')
    .option('--tags <tags...>', 'tags of the new bundles')
    .option('--allow-failed-dependencies', 'let the new bundles run even if parents failed or were killed')
    .option('--depth <n>', 'how many levels downstream to re-run (no output given)', '10')
    .option('-m, --memoize', 'reuse your identical ready runs instead of re-running')
    .option('-i, --dry-run', 'print the plan (old -> new) without creating anything')
    .option('-w, --worksheet-spec <worksheet>', 'resolve specs on, and add new bundles to, this worksheet');
}

export function registerMimic(program: Command, ctx: CliContext): void {
  addMimicOptions(program.command('mimic').description('Re-run bundles with some inputs replaced.').argument('<specs...>', 'see usage'))
    .addHelpText('after', MIMIC_EXAMPLES)
    .action(async (specs: string[], options: MimicOptions) => {
      const session = await ctx.session();
      const uuids = (await resolveManyTargets(session, specs, options.worksheetSpec)).map((t) => t.uuid);
      const half = Math.floor(uuids.length / 2);
      const output = uuids.length % 2 === 1 ? uuids[half] : undefined;
      const oldInputs = uuids.slice(0, half);
      const newInputs = uuids.slice(uuids.length - half);
      await mimic(ctx, session, { oldInputs, newInputs, output, name: options.name }, options);
    });

  addMimicOptions(program.command('macro').description('Apply a macro (M-in*, M-out bundles) to new inputs.'))
    .argument('<macro>', 'macro name M')
    .argument('<inputs...>', 'new inputs, positional or KEY:SPEC')
    .addHelpText('after', MACRO_EXAMPLES)
    .action(async (macro: string, inputs: string[], options: MimicOptions) => {
      const session = await ctx.session();
      const oldInputs: string[] = [];
      const newInputs: string[] = [];
      let position = 0;
      for (const input of inputs) {
        const colon = input.indexOf(':');
        const key = colon > 0 && input[colon + 1] !== ':' ? input.slice(0, colon) : null;
        const oldName = key !== null ? `${macro}-in-${key}` : `${macro}-in${(position += 1)}`;
        oldInputs.push((await resolveTargetText(session, oldName, options.worksheetSpec)).uuid);
        newInputs.push((await resolveTargetText(session, key !== null ? input.slice(colon + 1) : input, options.worksheetSpec)).uuid);
      }
      const output = (await resolveTargetText(session, `${macro}-out`, options.worksheetSpec)).uuid;
      await mimic(ctx, session, { oldInputs, newInputs, output, name: options.name ?? 'new' }, options);
    });
}

interface MimicPlan {
  oldInputs: string[];
  newInputs: string[];
  output: string | undefined;
  name: string | undefined;
}

async function mimic(ctx: CliContext, session: Session, plan: MimicPlan, options: MimicOptions): Promise<void> {
  const depth = Number(options.depth ?? '10');
  if (!Number.isInteger(depth) || depth < 1) throw new UserInputError(`Invalid --depth '${options.depth}': expected a whole number from 1.`);
  const graph = new BundleGraph(session);
  const replace = new Map(plan.oldInputs.map((old, i) => [old, plan.newInputs[i] as string]));
  const rebuild = plan.output !== undefined ? await graph.between(plan.oldInputs, plan.output) : await graph.downstream(plan.oldInputs, depth);
  const worksheet = await worksheetFor(session, options.worksheetSpec);
  const created = new Map<string, string>(replace);
  const order = await graph.topological(rebuild);
  const printed: string[] = [];
  for (const old of order) {
    const bundle = await graph.get(old);
    if (bundle.bundle_type === 'dataset') continue;
    const isOutput = old === plan.output;
    const name = plan.name === undefined ? String(bundle.metadata.name) : isOutput || rebuild.size === 1 ? plan.name : `${plan.name}-${String(bundle.metadata.name)}`;
    const request = rebuildRequest(bundle, created, name, options);
    if (options.dryRun) {
      writeLine(ctx.io.stderr, terminalText(`would re-run ${String(bundle.metadata.name)} (${old}) as ${name}`));
      continue;
    }
    const made = request.bundle_type === 'run' && options.memoize
      ? await createOrReuseRun(session, worksheet, request, ctx.io)
      : await session.api.json(routes.createBundle(worksheet), Bundle, { method: 'POST', json: request });
    created.set(old, made.uuid);
    writeLine(ctx.io.stderr, terminalText(`${String(bundle.metadata.name)} (${old}) -> ${made.uuid}`));
    if (plan.output === undefined || isOutput) printed.push(made.uuid);
  }
  if (!options.dryRun && printed.length === 0) throw new UserInputError('Nothing to re-run: no run or make bundle is downstream of the inputs.');
  for (const uuid of printed) writeLine(ctx.io.stdout, uuid);
}

function rebuildRequest(bundle: Bundle, created: Map<string, string>, name: string, options: MimicOptions): CreateBundleRequest {
  const metadata: Metadata = {};
  for (const [key, value] of Object.entries(bundle.metadata)) if (!GENERATED.has(key)) metadata[key] = value;
  metadata.name = name;
  if (typeof bundle.metadata.docker_image === 'string' && bundle.metadata.docker_image !== '') {
    metadata.request_docker_image = bundle.metadata.docker_image;
  }
  if (options.description !== undefined) metadata.description = options.description;
  if (options.tags !== undefined) metadata.tags = options.tags;
  if (options.allowFailedDependencies) metadata.allow_failed_dependencies = true;
  return {
    bundle_type: bundle.bundle_type,
    ...(bundle.command !== null ? { command: bundle.command } : {}),
    metadata,
    dependencies: bundle.dependencies.map((d) => ({
      child_path: d.child_path,
      parent_uuid: created.get(d.parent_uuid) ?? d.parent_uuid,
      parent_path: d.parent_path,
    })),
  };
}

/** Bundles fetched once each, with the graph walks mimic needs. */
class BundleGraph {
  private readonly cache = new Map<string, Bundle>();

  constructor(private readonly session: Session) {}

  async get(uuid: string): Promise<Bundle> {
    let bundle = this.cache.get(uuid);
    if (!bundle) {
      bundle = await fetchBundle(this.session.api, uuid);
      this.cache.set(uuid, bundle);
    }
    return bundle;
  }

  /** The output plus each of its ancestors that has an input among its own ancestors. */
  async between(inputs: readonly string[], output: string): Promise<Set<string>> {
    const reaches = new Map<string, boolean>();
    const inputSet = new Set(inputs);
    const visit = async (uuid: string): Promise<boolean> => {
      const known = reaches.get(uuid);
      if (known !== undefined) return known;
      reaches.set(uuid, false);
      const bundle = await this.get(uuid);
      let found = false;
      for (const dep of bundle.dependencies) {
        if (inputSet.has(dep.parent_uuid) || (await visit(dep.parent_uuid))) found = true;
      }
      reaches.set(uuid, found);
      return found;
    };
    await visit(output);
    for (const input of inputs) {
      const isAncestor = [...reaches.keys()].some((u) => u !== input && (this.cache.get(u)?.dependencies ?? []).some((d) => d.parent_uuid === input));
      if (!isAncestor) {
        throw new UserInputError(`Cannot mimic: ${input} is not an ancestor of ${output}.`);
      }
    }
    const rebuild = new Set([...reaches].filter(([, r]) => r).map(([u]) => u));
    rebuild.add(output);
    return rebuild;
  }

  async downstream(inputs: readonly string[], depth: number): Promise<Set<string>> {
    const found = new Set<string>();
    let frontier = [...inputs];
    for (let level = 0; level < depth && frontier.length > 0; level += 1) {
      const next: string[] = [];
      for (const uuid of frontier) {
        const { bundles } = await this.session.api.json(bundleOpsRoutes.children(uuid), BundleList);
        for (const child of bundles) {
          this.cache.set(child.uuid, child);
          if (!found.has(child.uuid)) {
            found.add(child.uuid);
            next.push(child.uuid);
          }
        }
      }
      frontier = next;
    }
    return found;
  }

  /** Parents before children, restricted to `uuids`. */
  async topological(uuids: Set<string>): Promise<string[]> {
    const order: string[] = [];
    const done = new Set<string>();
    const visit = async (uuid: string): Promise<void> => {
      if (done.has(uuid)) return;
      done.add(uuid);
      for (const dep of (await this.get(uuid)).dependencies) if (uuids.has(dep.parent_uuid)) await visit(dep.parent_uuid);
      order.push(uuid);
    };
    for (const uuid of uuids) await visit(uuid);
    return order;
  }
}
