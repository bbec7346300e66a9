import { EXPECTED_COLOR, RECEIVED_COLOR, printDiffOrStringify, stringify } from 'jest-matcher-utils';
import { truncateLongLines } from '../keyspace/message';
import { renderTtl } from '../keyspace/ttl';
import { REDACTED, type Redaction } from '../keyspace/redact';
import { indent } from '../errors';
import type { ConsistencyReport, Inconsistency, InconsistencyKind } from './compare';

/** What each kind means, in the words of a failure message. */
const KIND_LINE: Record<InconsistencyKind, string> = {
  stale: 'stale: the cached value differs from a fresh read-through',
  orphaned: 'orphaned: the cached row no longer exists',
  'stale-not-found': 'stale not-found marker: the row exists now',
  'partial-hash': 'partial hash: fields are missing or extra',
  'collection-drift': 'collection drift: members are missing or extra',
  'wrong-type': 'wrong type: not the Redis type the contract stores',
  undecodable: 'undecodable: the cached value cannot be decoded',
  unmapped: 'unmapped: no contract covers this key (strict mode)',
};

const EXPECTED_LABEL = 'Expected (database)';
const RECEIVED_LABEL = 'Received (cache)';

function sides(item: Inconsistency): string {
  const noRow = item.expected === undefined;
  if (item.kind === 'unmapped') return `${RECEIVED_LABEL}: ${RECEIVED_COLOR(stringify(item.cached))}`;
  if (noRow) {
    const pad = ' '.repeat(EXPECTED_LABEL.length - RECEIVED_LABEL.length);
    return `${EXPECTED_LABEL}: ${EXPECTED_COLOR('no row')}\n${RECEIVED_LABEL}: ${pad}${RECEIVED_COLOR(stringify(item.cached))}`;
  }
  return printDiffOrStringify(item.expected, item.cached, EXPECTED_LABEL, RECEIVED_LABEL, false);
}

/** One block: key, kind, type, TTL, contract, what differs, who wrote it, and the two sides. */
export function formatInconsistency(item: Inconsistency): string {
  const ttl = renderTtl(item.ttlMs, 'buckets') ?? 'no TTL';
  const lines = [
    `● ${item.keyText}`,
    `  ${KIND_LINE[item.kind]}`,
    `  ${item.type} · ${ttl}${item.contract ? ` · contract ${item.contract}` : ''}`,
  ];
  if (item.detail) lines.push(`  ${item.detail}`);
  if (item.writtenBy) lines.push(`  written by: ${item.writtenBy}`);
  lines.push('', indent(sides(item)));
  return lines.join('\n');
}

function counts(report: ConsistencyReport): string {
  const parts = [`${report.skipped} skipped`, `${report.ignored} ignored`, `${report.unmapped} unmapped`];
  return `${report.keys} key${report.keys === 1 ? '' : 's'} in Redis: ${report.checked} checked, ${parts.join(', ')}`;
}

function contractsLine(report: ConsistencyReport): string {
  if (report.convention) {
    return report.contracts.length
      ? `Contracts: the default convention (<table>:<id> holds the row as JSON) for ${report.contracts.map((c) => c.replace(/ \(default convention\)$/, '')).join(', ')}`
      : 'Contracts: the default convention (<table>:<id> holds the row as JSON), but no table has an id column';
  }
  return `Contracts: ${report.contracts.join(', ') || '(none)'}${report.strict ? ' (strict)' : ''}`;
}

/** The body of a failed `toBeConsistentWith`: a summary, then one block per inconsistent key, at most `maxReported`. */
export function formatFailure(report: ConsistencyReport, maxReported: number): string {
  const bad = report.inconsistencies;
  const shown = bad.slice(0, maxReported);
  const total = report.checked + (report.strict ? report.unmapped : 0);
  const head = `${bad.length} of ${total} checked key${total === 1 ? '' : 's'} ${bad.length === 1 ? 'is' : 'are'} inconsistent with the database.`;
  const out = [head, `${counts(report)}.`, contractsLine(report), '', shown.map(formatInconsistency).join('\n\n')];
  const rest = bad.length - shown.length;
  if (rest > 0) {
    const names = bad.slice(maxReported, maxReported + 5).map((i) => i.keyText);
    out.push('', `… and ${rest} more inconsistent key${rest === 1 ? '' : 's'}: ${names.join(', ')}${rest > names.length ? ', …' : ''} (maxReported: ${maxReported})`);
  }
  return truncateLongLines(out.join('\n'));
}

/** The body of a `.not.toBeConsistentWith` that failed because everything was consistent. */
export function formatPass(report: ConsistencyReport): string {
  const what =
    report.checked === 0
      ? 'no key was checked'
      : `${report.checked === 1 ? 'the 1 checked key holds' : `all ${report.checked} checked keys hold`} what a fresh read-through would store`;
  return [`Expected the cache not to be consistent with the database, but ${what}.`, `${counts(report)}.`, contractsLine(report)].join('\n');
}

/**
 * The report as it may be printed: each inconsistency's cached and expected sides with the `redact` rules
 * applied (a whole value, JSON paths, property and field names), then every value those rules replaced
 * scrubbed from the free text (the detail line, "written by"). The comparison saw the real values.
 */
export function redactReport(report: ConsistencyReport, redaction: Redaction): ConsistencyReport {
  if (!redaction.active || report.inconsistencies.length === 0) return report;
  const sided = report.inconsistencies.map((i) => ({
    ...i,
    cached: redaction.display(i.key, i.type, i.cached),
    expected: redaction.display(i.key, i.type, i.expected),
  }));
  const scrub = (text: string | undefined) => (text === undefined ? undefined : redaction.secrets.scrub(text));
  const inconsistencies = sided.map((i) => {
    const out: Inconsistency = { ...i };
    // A parse error or a decode function's error may quote the start of a value: whole secrets lose it.
    if (i.kind === 'undecodable' && i.detail !== undefined && redaction.isWhole(i.key)) out.detail = i.detail.replace(/^(not valid JSON|decode threw:).*$/s, `$1 (${REDACTED})`);
    else if (i.detail !== undefined) out.detail = scrub(i.detail)!;
    if (i.writtenBy !== undefined) out.writtenBy = scrub(i.writtenBy)!;
    return out;
  });
  return { ...report, inconsistencies };
}
