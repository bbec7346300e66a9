/** Prisma 7 (the `prisma-client` generator, @prisma/adapter-pg), with ioredis: docs/stacks.md#prisma. */
import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import { readThroughWithLease } from './lease';

export interface User {
  id: number;
  name: string;
  email: string | null;
}

// #region docs
/**
 * The part of the generated `PrismaClient` the services use (the client is generated from
 * examples/stacks/prisma/schema.prisma by the test, into .tmp/: never committed). A PrismaClient is one.
 */
export interface PrismaUsers {
  readonly user: {
    findUnique(args: { where: { id: number } }): PromiseLike<User | null>;
    update(args: { where: { id: number }; data: { name: string } }): PromiseLike<unknown>;
  };
}

/** Cache-aside as it is usually written: read through the cache; update the row, then delete the key. */
export class PrismaUserService {
  constructor(
    protected readonly prisma: PrismaUsers,
    protected readonly redis: Redis,
  ) {}

  protected async load(id: number): Promise<User | null> {
    return this.prisma.user.findUnique({ where: { id } });
  }

  async getUser(id: number): Promise<User | null> {
    const cached = await this.redis.get(`user:${id}`);
    if (cached !== null) return JSON.parse(cached) as User | null;
    const user = await this.load(id);
    await this.redis.set(`user:${id}`, JSON.stringify(user));
    return user;
  }

  async updateUser(id: number, name: string): Promise<void> {
    await this.prisma.user.update({ where: { id }, data: { name } });
    await this.redis.del(`user:${id}`);
  }
}

/** The fix: the same writer; the reader fills only while it holds a lease (compare-and-set). */
export class PrismaLeasedUserService extends PrismaUserService {
  constructor(
    prisma: PrismaUsers,
    redis: Redis,
    private readonly token: () => string = randomUUID,
  ) {
    super(prisma, redis);
  }

  override getUser(id: number): Promise<User | null> {
    return readThroughWithLease(this.redis, `user:${id}`, () => this.load(id), this.token());
  }
}
// #endregion docs
