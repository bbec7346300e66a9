export interface SqlStatement {
  sql: string;
  /** 1-based line of the statement's first character in the file. */
  line: number;
}

/**
 * Splits a SQL script into statements on top-level semicolons, skipping those inside quotes, quoted
 * identifiers, dollar-quoted bodies and comments. Empty statements and comment-only pieces are dropped.
 */
export function splitSqlStatements(script: string): SqlStatement[] {
  const out: SqlStatement[] = [];
  let start = 0;
  let line = 1;
  let startLine = 1;
  let i = 0;
  const n = script.length;
  const push = (end: number) => {
    const raw = script.slice(start, end);
    // Move the reported line to the first non-blank, non-comment character.
    const lead = /^(?:\s+|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*/.exec(raw)![0];
    const sql = raw.slice(lead.length).trim();
    if (sql) out.push({ sql, line: startLine + (lead.match(/\n/g)?.length ?? 0) });
  };
  while (i < n) {
    const c = script[i]!;
    if (c === '\n') {
      line++;
      i++;
    } else if (c === '-' && script[i + 1] === '-') {
      while (i < n && script[i] !== '\n') i++;
    } else if (c === '/' && script[i + 1] === '*') {
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (script[i] === '\n') line++;
        if (script[i] === '/' && script[i + 1] === '*') (depth++, (i += 2));
        else if (script[i] === '*' && script[i + 1] === '/') (depth--, (i += 2));
        else i++;
      }
    } else if (c === "'" || c === '"') {
      i++;
      while (i < n) {
        if (script[i] === '\n') line++;
        if (script[i] === c) {
          if (script[i + 1] === c) i += 2;
          else break;
        } else i++;
      }
      i++;
    } else if (c === '$') {
      const tag = /^\$[A-Za-z_]*\$/.exec(script.slice(i, i + 64));
      if (!tag) {
        i++;
        continue;
      }
      const close = script.indexOf(tag[0], i + tag[0].length);
      const end = close < 0 ? n : close + tag[0].length;
      line += script.slice(i, end).match(/\n/g)?.length ?? 0;
      i = end;
    } else if (c === ';') {
      push(i);
      i++;
      start = i;
      startLine = line;
    } else {
      i++;
    }
  }
  push(n);
  return out;
}
