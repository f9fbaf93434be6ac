// The fault suite's scenario table: one row per scenario (how many runs, how many were lost or
// left stuck, and what the affected runs said), appended as a JSON line to the file named by
// FAULTS_TABLE_ENV and printed, aligned, once the suite ends. No Docker, no server here.
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { isFinalState, type Bundle, type BundleState } from '../../src/protocol/index.js';

/** Set by the faults config's global setup: where scenario rows are appended. */
export const FAULTS_TABLE_ENV = 'CL_FAULTS_TABLE';
const MESSAGE_MAX = 70;

export interface ScenarioRow {
  scenario: string;
  runs: number;
  /** Bundles that did not end in a state the scenario expects (including vanished ones). */
  lost: number;
  /** Bundles still in a non-final state at the end. */
  stuck: number;
  /**
   * Distinct failure_message / run_status texts of bundles that did not end `ready`, shortened
   * (or their state, when they have neither).
   */
  messages: string[];
}

/** One bundle of a scenario, as last seen (null when the server no longer knows it). */
export interface Outcome {
  uuid: string;
  expected: readonly BundleState[];
  bundle: Bundle | null;
}

export function computeRow(scenario: string, outcomes: readonly Outcome[]): ScenarioRow {
  const messages = new Set<string>();
  let lost = 0;
  let stuck = 0;
  for (const { expected, bundle } of outcomes) {
    if (bundle === null || !expected.includes(bundle.state)) lost += 1;
    if (bundle !== null && !isFinalState(bundle.state)) stuck += 1;
    if (bundle === null) messages.add('(vanished)');
    else if (bundle.state !== 'ready') {
      const texts = bundleMessages(bundle);
      // A bundle stuck without a word still gets a cell: the state it was left in.
      if (texts.length === 0) messages.add(`(${bundle.state}, no message)`);
      for (const text of texts) messages.add(shorten(text));
    }
  }
  return { scenario, runs: outcomes.length, lost, stuck, messages: [...messages] };
}

export function recordRow(row: ScenarioRow): void {
  const file = process.env[FAULTS_TABLE_ENV];
  if (file === undefined) return; // run outside the faults config: the test's own asserts still hold
  appendFileSync(file, JSON.stringify(row) + '\n');
}

export function readRows(file: string): ScenarioRow[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as ScenarioRow);
}

export function formatTable(rows: readonly ScenarioRow[]): string {
  const header = ['scenario', 'runs', 'lost', 'stuck', 'messages'];
  const cells = rows.map((r) => [r.scenario, String(r.runs), String(r.lost), String(r.stuck), r.messages.join(' | ') || '-']);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]?.length ?? 0)));
  const line = (values: string[]): string =>
    values.map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(header), ...cells.map(line)].join('\n');
}

function bundleMessages(bundle: Bundle): string[] {
  const texts: string[] = [];
  for (const key of ['failure_message', 'run_status']) {
    const value = bundle.metadata[key];
    if (typeof value === 'string' && value !== '') texts.push(value);
  }
  return texts;
}

function shorten(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length <= MESSAGE_MAX ? oneLine : `${oneLine.slice(0, MESSAGE_MAX - 1)}…`;
}
