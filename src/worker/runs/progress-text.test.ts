// The run_status texts of long steps, and the percent of a pull aggregated over its layers.
import { describe, expect, it } from 'vitest';
import { PullProgress } from '../images/pull-progress.js';
import { dependencyProgressText, pullProgressText, uploadProgressText } from './progress-text.js';

const G = 1024 ** 3;

describe('progress texts', () => {
  it('shows dependency bytes received of the total, summed over the downloads', () => {
    expect(dependencyProgressText([{ done: 1.2 * G, total: 4 * G }])).toBe('Downloading dependency data: 1.2g of 4g');
    expect(dependencyProgressText([{ done: 1 * G, total: 3 * G }, { done: 0.2 * G, total: G }])).toBe('Downloading dependency data: 1.2g of 4g');
  });

  it('shows only the bytes received when a total is unknown or exceeded', () => {
    expect(dependencyProgressText([{ done: 300 * 1024 ** 2, total: null }])).toBe('Downloading dependency data: 300m');
    expect(dependencyProgressText([{ done: G, total: 2 * G }, { done: 5, total: null }])).toBe('Downloading dependency data: 1.0g');
    expect(dependencyProgressText([{ done: 4.1 * G, total: 4 * G }])).toBe('Downloading dependency data: 4.1g');
  });

  it('shows a pull percent, and the image alone before one is known', () => {
    expect(pullProgressText('busybox:latest', 40.7)).toBe('Pulling image busybox:latest: 40%');
    expect(pullProgressText('busybox:latest', null)).toBe('Pulling image busybox:latest');
  });

  it('shows upload bytes sent of the results size', () => {
    expect(uploadProgressText(300 * 1024 ** 2, G)).toBe('Uploading results: 300m of 1g');
    expect(uploadProgressText(2048, null)).toBe('Uploading results: 2k');
  });
});

describe('pull progress', () => {
  it('aggregates downloaded bytes over layers; finished and present layers count whole', () => {
    const pull = new PullProgress();
    expect(pull.percent()).toBeNull();
    pull.update({ status: 'Pulling from library/busybox', id: 'latest' });
    pull.update({ id: 'a', status: 'Pulling fs layer' });
    pull.update({ id: 'b', status: 'Pulling fs layer' });
    expect(pull.percent()).toBeNull();
    pull.update({ id: 'a', status: 'Downloading', current: 30, total: 100 });
    pull.update({ id: 'b', status: 'Downloading', current: 10, total: 100 });
    expect(pull.percent()).toBe(20);
    pull.update({ id: 'a', status: 'Download complete' });
    expect(pull.percent()).toBe(55);
    pull.update({ id: 'a', status: 'Extracting', current: 5, total: 100 });
    pull.update({ id: 'b', status: 'Pull complete' });
    expect(pull.percent()).toBe(100);
  });

  it('reports 100 when every layer already exists', () => {
    const pull = new PullProgress();
    pull.update({ id: 'a', status: 'Already exists' });
    expect(pull.percent()).toBe(100);
  });
});
