// What a bench reads off a running cl-server from outside: its CPU time (/proc/PID/stat) and the
// scheduling passes it logs at debug level (`--verbose --log-format json`, one line per pass that
// placed runs). Linux only, as the benches' machines are.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

let ticksPerSecond;

/** User plus system CPU seconds the process has used so far. */
export function readCpuSeconds(pid) {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at field 3; utime and stime are 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

/**
 * Reads the server's JSON log lines from `stream`: keeps each 'scheduling pass' line (with the
 * time it arrived) and passes warnings, errors and anything not JSON on to stderr.
 * Returns `since(epochMs)`, the passes logged from then on.
 */
export function watchSchedulingPasses(stream) {
  const passes = [];
  createInterface({ input: stream }).on('line', (line) => {
    let entry;
    try {
      entry = JSON.parse(line);
    } catch {
      entry = null;
    }
    if (entry?.msg === 'scheduling pass') passes.push({ at: Date.now(), ...entry });
    else if (entry?.level !== 'info' && entry?.level !== 'debug') process.stderr.write(`${line}\n`);
  });
  return { since: (time) => passes.filter((p) => p.at >= time) };
}
