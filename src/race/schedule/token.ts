/**
 * Replay tokens: a schedule written so a person can read it and paste it back.
 *
 * `r1:reader*2,writer*2,reader` means: two steps of reader, two of writer, one of reader. An actor with several
 * steps pending at once (a Promise.all) names which with `~n` (`writer~1` = its second pending step).
 * Actor names are percent-encoded when they contain `,*~:%` or spaces.
 */
export interface TokenChoice {
  readonly actor: string;
  readonly ordinal: number;
}

const PREFIX = 'r1:';

function encodeName(name: string): string {
  return name.replace(/[,*~:%\s]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

export function encodeToken(choices: readonly TokenChoice[]): string {
  const parts: string[] = [];
  let i = 0;
  while (i < choices.length) {
    const c = choices[i]!;
    let n = 1;
    while (i + n < choices.length && choices[i + n]!.actor === c.actor && choices[i + n]!.ordinal === c.ordinal) n++;
    parts.push(`${encodeName(c.actor)}${c.ordinal > 0 ? `~${c.ordinal}` : ''}${n > 1 ? `*${n}` : ''}`);
    i += n;
  }
  return PREFIX + parts.join(',');
}

/** Parses a token; returns a message instead when it is malformed. */
export function decodeToken(token: string): TokenChoice[] | string {
  if (typeof token !== 'string' || !token.startsWith(PREFIX)) return `a replay token starts with "${PREFIX}"`;
  const body = token.slice(PREFIX.length).trim();
  if (body === '') return [];
  const out: TokenChoice[] = [];
  for (const part of body.split(',')) {
    const m = /^([^~*]+)(?:~(\d+))?(?:\*(\d+))?$/.exec(part.trim());
    if (!m) return `cannot read "${part}" (expected name, name*count or name~n)`;
    let actor: string;
    try {
      actor = decodeURIComponent(m[1]!);
    } catch {
      return `cannot read the actor name "${m[1]}"`;
    }
    const ordinal = m[2] ? Number(m[2]) : 0;
    const count = m[3] ? Number(m[3]) : 1;
    if (!(count >= 1)) return `bad count in "${part}"`;
    for (let k = 0; k < count; k++) out.push({ actor, ordinal });
  }
  return out;
}
