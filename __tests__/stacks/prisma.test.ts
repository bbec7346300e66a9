/**
 * docs/stacks.md#prisma: Prisma 7 on @prisma/adapter-pg, on the real PostgreSQL. The client is generated here, from
 * examples/stacks/prisma/schema.prisma, into .tmp/ (gitignored), with no network: `prisma generate` otherwise
 * downloads the schema engine from binaries.prisma.sh first, which it does not use to generate (the stub it is given
 * instead records any call, and the test fails if there was one).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import type { Pool } from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { bindToActors, everyInterleaving } from '../../src';
import { PrismaLeasedUserService, PrismaUserService, type PrismaUsers } from '../../examples/stacks/prisma';
import { endPool, postgresDatabase, postgresPool, type StackDatabase } from './databases';
import { caught, fixedToken, order, userScenario } from './harness';

const ROOT = resolve(__dirname, '../..');
const OUT = join(ROOT, '.tmp', `prisma-${process.pid}`);
const ENGINE_CALLS = join(OUT, 'schema-engine-calls.log');

interface GeneratedClient extends PrismaUsers {
  $disconnect(): Promise<void>;
}
type PrismaClientClass = new (options: { adapter: PrismaPg }) => GeneratedClient;

/** `prisma generate` with no network: the schema engine it would download is a stub that records any call and fails. */
function generateClient(): PrismaClientClass {
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  const schema = readFileSync(join(ROOT, 'examples/stacks/prisma/schema.prisma'), 'utf8');
  const output = /^\s*output\s*=.*$/m;
  if (!output.test(schema)) throw new Error('examples/stacks/prisma/schema.prisma: no generator output');
  writeFileSync(join(OUT, 'schema.prisma'), schema.replace(output, '  output = "./client"'));
  const stub = join(OUT, 'schema-engine');
  writeFileSync(stub, `#!/bin/sh\necho "$@" >> '${ENGINE_CALLS}'\necho 'schema engine stub: not available offline' >&2\nexit 1\n`, { mode: 0o755 });
  execFileSync(process.execPath, [join(ROOT, 'node_modules/prisma/build/index.js'), 'generate', '--schema', join(OUT, 'schema.prisma')], {
    cwd: ROOT,
    env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: stub, CHECKPOINT_DISABLE: '1', PRISMA_HIDE_UPDATE_MESSAGE: '1' },
    stdio: 'pipe',
  });
  compileToCommonJs(join(OUT, 'client'), join(OUT, 'client-cjs'));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require(join(OUT, 'client-cjs', 'client')) as { PrismaClient: PrismaClientClass }).PrismaClient;
}

/**
 * The generated client is TypeScript that loads its query compiler with `await import(...)`: compiled as this
 * package compiles (module node16) the import() stays, and Jest refuses it without --experimental-vm-modules ("A
 * dynamic import callback was invoked without --experimental-vm-modules"). Compiled with module CommonJS it becomes a
 * require(), as it would be in a CommonJS application's build.
 */
function compileToCommonJs(from: string, to: string): void {
  for (const entry of readdirSync(from, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const file = join(entry.parentPath, entry.name);
    const out = join(to, relative(from, file)).replace(/\.ts$/, '.js');
    const { outputText } = ts.transpileModule(readFileSync(file, 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
      fileName: file,
    });
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, outputText);
  }
}

let database: StackDatabase;
let pool: Pool;
let PrismaClient: PrismaClientClass;
let prisma: GeneratedClient;

// #region docs
beforeAll(async () => {
  PrismaClient = generateClient(); // `prisma generate`, then the generated client.ts, compiled to CommonJS
  database = await postgresDatabase('prisma');
  pool = bindToActors(postgresPool(database.url));
  prisma = new PrismaClient({ adapter: new PrismaPg(pool) }); // as the service module would: one client over the (bound) pool
});
afterAll(async () => {
  await prisma?.$disconnect();
  await endPool(pool);
  await database?.drop();
  rmSync(OUT, { recursive: true, force: true });
});

const scenario = (Service: typeof PrismaUserService, client: PrismaUsers = prisma) =>
  userScenario<Pool>({
    db: pool,
    resetDb: (p) => p.query('TRUNCATE users'),
    seed: (p) => p.query(`INSERT INTO users (id, name) VALUES (1, 'Tom')`),
    service: ({ redis }) => (Service === PrismaLeasedUserService ? new PrismaLeasedUserService(client, redis, fixedToken) : new Service(client, redis)),
    checkDb: pool,
  });
// #endregion docs

describe('Prisma 7 (@prisma/adapter-pg)', () => {
  it('generated the client offline, without calling the schema engine', () => {
    expect(existsSync(join(OUT, 'client', 'client.ts'))).toBe(true);
    expect(existsSync(ENGINE_CALLS) ? readFileSync(ENGINE_CALLS, 'utf8') : '').toBe('');
  });

  it("the generated PrismaClient is a PrismaUsers, the services' type (tsc on the generated client.ts)", () => {
    const example = relative(OUT, join(ROOT, 'examples/stacks/prisma')).split('\\').join('/');
    const source = [
      `import type { PrismaClient } from './client/client';`,
      `import type { PrismaUsers } from '${example}';`,
      `export const fits = (client: PrismaClient): PrismaUsers => client;`,
      `// The check can fail: a wrong id type is refused (else tsc reports the directive as unused).`,
      `// @ts-expect-error`,
      `export const wrong = (client: PrismaClient): { user: { findUnique(args: { where: { id: string } }): PromiseLike<unknown> } } => client;`,
    ];
    writeFileSync(join(OUT, 'fits.ts'), source.join('\n') + '\n');
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    const args = [tsc, '--ignoreConfig', '--noEmit', '--strict', '--module', 'node16', '--target', 'es2022', '--skipLibCheck', '--types', 'node', join(OUT, 'fits.ts')];
    expect(spawnSync(process.execPath, args, { encoding: 'utf8' })).toMatchObject({ status: 0, stdout: '' });
  });

  it('the classic "update, then delete" is caught, with the SQL Prisma sends as steps', async () => {
    const e = await caught(everyInterleaving(scenario(PrismaUserService)));
    expect(e.code).toBe('RACE_FAILED');
    expect(order(e)).toEqual(['reader:GET', 'reader:SELECT', 'writer:UPDATE', 'writer:DEL', 'reader:SET']);
    expect(e.steps[1]).toBe(`reader  db SELECT "public"."users"."id", "public"."users"."name", "public"."user... [1, '1', '0'] -> [1, 'Tom', null]`);
    expect(e.steps[2]).toBe(`writer  db UPDATE "public"."users" SET "name" = $1 WHERE ("public"."users"."id" ... ['Jerry', 1] -> [1, 'Jerry', null]`);
    expect(e.message).toContain('stale');
  });

  it('the lease + compare-and-set fill passes every interleaving', async () => {
    await expect(everyInterleaving(scenario(PrismaLeasedUserService))).resolves.toMatchObject({ schedules: 6, classes: 6, complete: true }); // 15 orders, 6 distinct
  });

  it("as Prisma's docs build it, new PrismaPg({ connectionString }): the adapter's own pool is bound on first use", async () => {
    const own = new PrismaClient({ adapter: new PrismaPg({ connectionString: database.url }) });
    try {
      const e = await caught(everyInterleaving(scenario(PrismaUserService, own)));
      expect(e.code).toBe('RACE_FAILED');
      expect(order(e)).toEqual(['reader:GET', 'reader:SELECT', 'writer:UPDATE', 'writer:DEL', 'reader:SET']);
      await expect(everyInterleaving(scenario(PrismaLeasedUserService, own))).resolves.toMatchObject({ schedules: 6, classes: 6, complete: true });
    } finally {
      await own.$disconnect();
    }
  });
});
