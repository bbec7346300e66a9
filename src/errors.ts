/**
 * Every error this library throws on purpose is a `CacheConsistencyError` with a stable `code`.
 * docs/errors.md explains each code and its fix.
 */
export class CacheConsistencyError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

const INSTALL_HINT = [
  'Install Redis, then run the tests again:',
  '  Debian/Ubuntu: sudo apt-get install redis-server',
  '  macOS:         brew install redis',
  'or point at a binary you already have:',
  '  REDIS_SERVER_BINARY=/path/to/redis-server npm test',
  "  testEnvironmentOptions: { cacheConsistency: { redis: { binary: '/path/to/redis-server' } } }",
].join('\n');

export class RedisBinaryNotFoundError extends CacheConsistencyError {
  readonly tried: readonly string[];
  constructor(tried: readonly string[], detail?: string) {
    super(
      'REDIS_BINARY_NOT_FOUND',
      `No redis-server binary was found.\nLooked at:\n${tried.map((t) => `  - ${t}`).join('\n')}` +
        (detail ? `\n${detail}` : '') +
        `\n\n${INSTALL_HINT}`,
    );
    this.tried = tried;
  }
}

export class RedisServerStartError extends CacheConsistencyError {
  readonly binary: string;
  readonly args: readonly string[];
  readonly output: string;
  constructor(binary: string, args: readonly string[], reason: string, output: string) {
    super(
      'REDIS_SERVER_START_FAILED',
      `redis-server failed to start: ${reason}\n  command: ${binary} ${args.join(' ')}` +
        (output.trim() ? `\n  its output:\n${indent(output.trim(), '    ')}` : '') +
        '\nCheck that the binary runs by hand (`redis-server --version`) and that extra args in ' +
        'cacheConsistency.redis.args are valid for this Redis version.',
    );
    this.binary = binary;
    this.args = args;
    this.output = output;
  }
}

export class InvalidOptionsError extends CacheConsistencyError {
  readonly path: string;
  constructor(path: string, problem: string) {
    super('INVALID_OPTIONS', `Invalid option ${path}: ${problem}\nSee docs/configuration.md for every option.`);
    this.path = path;
  }
}

export class SchemaError extends CacheConsistencyError {
  readonly file: string;
  readonly statement: string | undefined;
  readonly line: number | undefined;
  constructor(file: string, problem: string, statement?: string, line?: number, cause?: unknown) {
    super(
      'SCHEMA_FAILED',
      `The database schema failed in ${file}${line !== undefined ? `:${line}` : ''}: ${problem}` +
        (statement !== undefined ? `\n  statement:\n${indent(statement, '    ')}` : '') +
        '\nFix the schema file, or see docs/database.md for what the embedded pg-mem database supports.',
      { cause },
    );
    this.file = file;
    this.statement = statement;
    this.line = line;
  }
}

export class PresetNotActiveError extends CacheConsistencyError {
  constructor(what: string) {
    super(
      'PRESET_NOT_ACTIVE',
      `${what} needs the jest-cache-consistency preset, but its global setup did not run in this Jest process.\n` +
        "Add `preset: 'jest-cache-consistency'` to jest.config.js, or call the library's globalSetup from " +
        'your own (docs/configuration.md#your-own-globalsetup).',
    );
  }
}

export class OutsideTestError extends CacheConsistencyError {
  constructor(what: string) {
    super(
      'OUTSIDE_TEST_FILE',
      `${what} can only be used inside a Jest test file (or a module it imports), where the preset's setup file runs.`,
    );
  }
}

export function indent(text: string, prefix: string): string {
  return text
    .split('\n')
    .map((l) => prefix + l)
    .join('\n');
}
