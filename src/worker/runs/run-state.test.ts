import { describe, expect, it } from 'vitest';
import {
  diskExceededMessage,
  finishRequest,
  initialRunState,
  memoryExceededMessage,
  reportedState,
  runProgress,
  timeExceededMessage,
  transition,
  type RunEvent,
  type RunState,
} from './run-state.js';

const G = 1024 ** 3;

function play(events: Array<[RunEvent, number]>): { state: RunState; effects: string[] } {
  let state = initialRunState({ uuid: '0x' + 'a'.repeat(32), assignmentId: 'A', memoryLimitBytes: 2 * G }, 1_000);
  const effects: string[] = [];
  for (const [event, now] of events) {
    const t = transition(state, event, now);
    state = t.state;
    effects.push(...t.effects.map((e) => e.type));
  }
  return { state, effects };
}

describe('run state transitions', () => {
  it('goes preparing -> running -> finalizing -> finished, timing each stage', () => {
    const { state, effects } = play([
      [{ type: 'container_started', dockerImage: 'img@sha256:1' }, 3_000],
      [{ type: 'container_exited', exitCode: 0, oomKilled: false }, 13_000],
      [{ type: 'finished' }, 14_500],
    ]);
    expect(state.stage).toBe('finished');
    expect(effects).toEqual(['report', 'report', 'report']);
    expect(state).toMatchObject({ exitcode: 0, failureMessage: null, killed: false, dockerImage: 'img@sha256:1' });
    expect(finishRequest(state, 14_500, 'host').progress).toMatchObject({
      time_preparing: 2,
      time_running: 10,
      time: 10,
      time_uploading_results: 1.5,
      started: 1,
      remote: 'host',
      docker_image: 'img@sha256:1',
    });
  });

  it('fails with the exit code, and reports OOM even when the exit code is 0', () => {
    expect(play([[{ type: 'container_started', dockerImage: 'i' }, 1], [{ type: 'container_exited', exitCode: 2, oomKilled: false }, 2]]).state.failureMessage).toBe('Exit code 2');
    const oom = play([[{ type: 'container_started', dockerImage: 'i' }, 1], [{ type: 'container_exited', exitCode: 0, oomKilled: true }, 2]]).state;
    expect(oom.failureMessage).toBe('Memory limit 2g exceeded (peak 2.0g). Raise --request-memory.');
    expect(oom.exitcode).toBe(0);
    expect(oom.memoryMax).toBe(2 * 1024 ** 3);
  });

  it('writes the limit messages with the limit, the measurement and the fix', () => {
    expect(memoryExceededMessage(2 * 1024 ** 3, 2 * 1024 ** 3 - 4096)).toBe('Memory limit 2g exceeded (peak 2.0g). Raise --request-memory.');
    expect(memoryExceededMessage(512 * 1024 ** 2, 600 * 1024 ** 2)).toBe('Memory limit 512m exceeded (peak 600m). Raise --request-memory.');
    expect(timeExceededMessage(600, 600)).toBe('Time limit 10m exceeded (ran 10m0s). Raise --request-time.');
    expect(timeExceededMessage(2, 2.04)).toBe('Time limit 2s exceeded (ran 2s). Raise --request-time.');
    expect(diskExceededMessage(1024 ** 3, 1.1 * 1024 ** 3)).toBe('Disk limit 1g exceeded (wrote 1.1g). Raise --request-disk.');
  });

  it('records the cores and GPUs the run was given', () => {
    const state = initialRunState({ uuid: 'u', assignmentId: 'a', memoryLimitBytes: 1, cpuset: '0,1', gpuset: 'GPU-1' }, 0);
    expect(runProgress(state, 0, 'h')).toMatchObject({ cpuset: '0,1', gpuset: 'GPU-1' });
  });

  it('kills a running run: stop the container, then finish killed with the message', () => {
    const { state, effects } = play([
      [{ type: 'container_started', dockerImage: 'i' }, 1],
      [{ type: 'kill', message: 'Kill requested' }, 2],
      [{ type: 'kill', message: 'Kill requested' }, 3],
      [{ type: 'container_exited', exitCode: 143, oomKilled: false }, 4],
    ]);
    expect(effects).toEqual(['report', 'stop_container', 'report']);
    expect(state).toMatchObject({ stage: 'finalizing', killed: true, failureMessage: 'Kill requested', exitcode: 143 });
  });

  it('kills a preparing run at once, cancelling the preparation', () => {
    const { state, effects } = play([[{ type: 'kill', message: '' }, 5]]);
    expect(effects).toEqual(['cancel_preparation', 'report']);
    expect(state).toMatchObject({ stage: 'finalizing', killed: true, failureMessage: 'Kill requested' });
    expect(reportedState(state)).toBe('finalizing');
  });

  it('a hand-back stops a running container once, and cancels a preparation', () => {
    const running = play([
      [{ type: 'container_started', dockerImage: 'i' }, 1],
      [{ type: 'hand_back', message: 'Shutting down' }, 2],
      [{ type: 'hand_back', message: 'Shutting down' }, 3],
      [{ type: 'container_exited', exitCode: 143, oomKilled: false }, 4],
    ]);
    expect(running.effects).toEqual(['report', 'stop_container', 'report']);
    expect(running.state).toMatchObject({ stage: 'finalizing', killed: false, failureMessage: 'Shutting down' });
    const preparing = play([[{ type: 'hand_back', message: 'Shutting down' }, 2]]);
    expect(preparing.effects).toEqual(['cancel_preparation', 'report']);
    expect(preparing.state).toMatchObject({ stage: 'finalizing', failureMessage: 'Shutting down' });
  });

  it('a limit stops the container once and fails the run (not killed); a later kill wins', () => {
    const limited = play([
      [{ type: 'container_started', dockerImage: 'i' }, 1],
      [{ type: 'limit_exceeded', message: 'Time limit 1s exceeded (ran 1s). Raise --request-time.' }, 2],
      [{ type: 'limit_exceeded', message: 'Disk limit' }, 3],
      [{ type: 'container_exited', exitCode: 137, oomKilled: false }, 4],
    ]);
    expect(limited.effects).toEqual(['report', 'stop_container', 'report']);
    expect(limited.state).toMatchObject({ killed: false, failureMessage: 'Time limit 1s exceeded (ran 1s). Raise --request-time.' });
    const killedLater = play([
      [{ type: 'container_started', dockerImage: 'i' }, 1],
      [{ type: 'limit_exceeded', message: 'Time limit' }, 2],
      [{ type: 'kill', message: 'Kill requested' }, 3],
      [{ type: 'container_exited', exitCode: 137, oomKilled: false }, 4],
    ]);
    expect(killedLater.state).toMatchObject({ killed: true, failureMessage: 'Kill requested' });
  });

  it('ignores events that do not fit the stage (stale or repeated)', () => {
    const { state } = play([
      [{ type: 'container_exited', exitCode: 1, oomKilled: false }, 1],
      [{ type: 'prepare_failed', message: 'Failed to download dependency x: gone' }, 2],
      [{ type: 'container_started', dockerImage: 'i' }, 3],
    ]);
    expect(state).toMatchObject({ stage: 'finalizing', failureMessage: 'Failed to download dependency x: gone', killed: false, dockerImage: null });
  });

  it('a kill while uploading marks the run killed and cuts the upload short', () => {
    const uploading = play([
      [{ type: 'container_started', dockerImage: 'i' }, 1],
      [{ type: 'container_exited', exitCode: 0, oomKilled: false }, 2],
    ]).state;
    const { state, effects } = transition(uploading, { type: 'kill', message: 'Kill requested' }, 3);
    expect(state).toMatchObject({ stage: 'finalizing', killed: true, failureMessage: 'Kill requested' });
    expect(effects).toEqual([{ type: 'cut_upload' }]);
    expect(transition(state, { type: 'kill', message: 'Kill requested' }, 4).effects).toEqual([]);
  });

  it('adds upload failures to the message and keeps the largest memory sample', () => {
    const { state } = play([
      [{ type: 'container_started', dockerImage: 'i' }, 1],
      [{ type: 'measured', memoryMax: 50, dataSize: 10 }, 2],
      [{ type: 'measured', memoryMax: 20 }, 3],
      [{ type: 'container_exited', exitCode: 1, oomKilled: false }, 4],
      [{ type: 'upload_failed', message: 'too large' }, 5],
    ]);
    expect(state.failureMessage).toBe('Exit code 1. Could not upload results: too large');
    expect(runProgress(state, 5, 'h')).toMatchObject({ memory_max: 50, data_size: 10 });
  });

  describe('results left out by the disk budget', () => {
    const M = 1024 ** 2;
    const trimmed = { keptBytes: 100 * M, droppedFiles: 3, droppedBytes: 1.9 * G, cut: [] };
    const started: Array<[RunEvent, number]> = [[{ type: 'container_started', dockerImage: 'i' }, 1]];

    it('adds what was kept and left out to the disk limit message', () => {
      const { state } = play([
        ...started,
        [{ type: 'limit_exceeded', message: diskExceededMessage(100 * M, 2 * G) }, 2],
        [{ type: 'container_exited', exitCode: 137, oomKilled: false }, 3],
        [{ type: 'results_trimmed', limitBytes: 100 * M, trimmed }, 4],
      ]);
      expect(state.failureMessage).toBe(
        'Disk limit 100m exceeded (wrote 2g). Raise --request-disk. Kept 100m of the results; 1.9g in 3 files were not uploaded.',
      );
    });

    it('fails a run that hit no limit but did not fit, naming the limit and any cut file', () => {
      const { state } = play([
        ...started,
        [{ type: 'container_exited', exitCode: 0, oomKilled: false }, 2],
        [{ type: 'results_trimmed', limitBytes: 20 * M, trimmed: { keptBytes: 20 * M, droppedFiles: 1, droppedBytes: 5 * M, cut: [{ name: 'stdout', keptBytes: 20 * M }] } }, 3],
      ]);
      expect(state.failureMessage).toBe(
        'Results did not fit the disk limit 20m. Kept 20m of the results; 5m in 1 file was not uploaded (stdout cut to its first 20m). Raise --request-disk.',
      );
      expect(finishRequest(state, 3, 'h')).toMatchObject({ exitcode: 0, failure_message: state.failureMessage });
    });

    it('changes nothing when nothing was left out, or outside finalizing', () => {
      const uploading = play([...started, [{ type: 'container_exited', exitCode: 0, oomKilled: false }, 2]]).state;
      const none = { keptBytes: 5, droppedFiles: 0, droppedBytes: 0, cut: [] };
      expect(transition(uploading, { type: 'results_trimmed', limitBytes: M, trimmed: none }, 3).state).toBe(uploading);
      const running = play(started).state;
      expect(transition(running, { type: 'results_trimmed', limitBytes: M, trimmed }, 3).state).toBe(running);
    });
  });
});
