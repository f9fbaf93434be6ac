// Which paths of a run's directory stay out of its uploaded contents: dependency mount points
// (and anything under them) and the run's `exclude_patterns`. Pure: paths in, yes/no out.
//
// Patterns follow `tar --exclude` as CodaLab used it: a glob that may match the whole relative
// path or any tail of it that starts at a `/`, so `*.log` drops log files at every depth and
// `cache` drops every entry named cache; `*` also matches `/`. A dropped directory drops its tree.

export interface ExclusionRules {
  /** Normalized relative paths where dependencies are mounted. */
  mountPoints: readonly string[];
  patterns: readonly RegExp[];
}

export function compileExclusions(mountPoints: readonly string[], patterns: readonly string[]): ExclusionRules {
  return {
    mountPoints: mountPoints.map(normalizeRelative).filter((p) => p !== ''),
    patterns: patterns.filter((p) => p.trim() !== '').map(globToRegExp),
  };
}

/** `relPath` as tar names it relative to the run dir (`./a/b`, `a/b/`, `a/b`). */
export function isExcluded(relPath: string, rules: ExclusionRules): boolean {
  const p = normalizeRelative(relPath);
  if (p === '') return false;
  if (rules.mountPoints.some((m) => p === m || p.startsWith(`${m}/`))) return true;
  const segments = p.split('/');
  // Every prefix (an ancestor dir or the path itself), and every tail of each prefix.
  for (let end = 1; end <= segments.length; end += 1) {
    for (let start = 0; start < end; start += 1) {
      const candidate = segments.slice(start, end).join('/');
      if (rules.patterns.some((re) => re.test(candidate))) return true;
    }
  }
  return false;
}

export function normalizeRelative(relPath: string): string {
  return relPath
    .split('/')
    .filter((s) => s !== '' && s !== '.')
    .join('/');
}

export function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i += 1) {
    const c = glob[i] as string;
    if (c === '*') source += '.*';
    else if (c === '?') source += '.';
    else if (c === '[') {
      const close = glob.indexOf(']', i + 2);
      if (close === -1) {
        source += '\\[';
        continue;
      }
      let body = glob.slice(i + 1, close);
      if (body.startsWith('!')) body = `^${body.slice(1)}`;
      source += `[${body.replace(/\\/g, '\\\\')}]`;
      i = close;
    } else source += c.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  return new RegExp(`^${source.replace(/\/+$/, '')}$`);
}
