/** Sequelize 6 on MariaDB / MySQL (its mysql dialect, mysql2), with ioredis: docs/stacks.md#sequelize. */
import { randomUUID } from 'node:crypto';
import { DataTypes, type Model, type ModelStatic, type Sequelize } from 'sequelize';
import type Redis from 'ioredis';
import { readThroughWithLease } from './lease';
import type { User } from './node-postgres';

// #region docs
export function defineUser(sequelize: Sequelize): ModelStatic<Model<User>> {
  return sequelize.define<Model<User>>(
    'User',
    {
      id: { type: DataTypes.INTEGER, primaryKey: true },
      name: { type: DataTypes.STRING, allowNull: false },
      email: { type: DataTypes.STRING, allowNull: true },
    },
    { tableName: 'users', timestamps: false },
  );
}

/** Cache-aside as it is usually written: read through the cache; update the row, then delete the key. */
export class SequelizeUserService {
  constructor(
    protected readonly users: ModelStatic<Model<User>>,
    protected readonly redis: Redis,
  ) {}

  protected async load(id: number): Promise<User | null> {
    return ((await this.users.findByPk(id, { raw: true })) as User | null) ?? null;
  }

  async getUser(id: number): Promise<User | null> {
    const cached = await this.redis.get(`user:${id}`);
    if (cached !== null) return JSON.parse(cached) as User | null;
    const user = await this.load(id);
    await this.redis.set(`user:${id}`, JSON.stringify(user));
    return user;
  }

  async updateUser(id: number, name: string): Promise<void> {
    await this.users.update({ name }, { where: { id } });
    await this.redis.del(`user:${id}`);
  }
}

/** The fix: the same writer; the reader fills only while it holds a lease (compare-and-set). */
export class SequelizeLeasedUserService extends SequelizeUserService {
  constructor(
    users: ModelStatic<Model<User>>,
    redis: Redis,
    private readonly token: () => string = randomUUID,
  ) {
    super(users, redis);
  }

  override getUser(id: number): Promise<User | null> {
    return readThroughWithLease(this.redis, `user:${id}`, () => this.load(id), this.token());
  }
}
// #endregion docs
