/**
 * The per-test reset's bare RESP connection: replies in order, errors as rejections, and a connection the server
 * dropped is replaced on the next command without the old socket's end touching the new one.
 */
import { ResetConnection } from '../../src/redis/resetConnection';
import { useOwnRedisServer } from '../helpers/ownRedisServer';

const own = useOwnRedisServer();

it('answers commands in order, and a server error as a rejection naming the server', async () => {
  const rc = new ResetConnection({ url: own.server.url });
  try {
    expect(await Promise.all([rc.command('SET', 'k', 'v'), rc.command('PING'), rc.command('DBSIZE')])).toEqual(['OK', 'PONG', '1']);
    await expect(rc.command('NOSUCHCOMMAND')).rejects.toThrow(`${own.server.url}: ERR unknown command`);
    expect(await rc.command('FLUSHALL')).toBe('OK');
  } finally {
    await rc.close();
  }
});

it('replaces a connection the server dropped, also under a command already written to it', async () => {
  const rc = new ResetConnection({ url: own.server.url });
  const killOwn = async () => {
    const list = String(await own.admin.client('LIST'));
    const id = /id=(\d+) [^\n]*name=reset-under-test/.exec(list)?.[1];
    expect(id).toBeDefined();
    await own.admin.client('KILL', 'ID', id!);
  };
  try {
    await rc.command('CLIENT', 'SETNAME', 'reset-under-test');
    await killOwn();
    // Node has not read the close yet: this FLUSHALL goes to the dead socket, fails with "closed", and is sent
    // again on a new connection.
    expect(await rc.command('FLUSHALL')).toBe('OK');
    await rc.command('CLIENT', 'SETNAME', 'reset-under-test');
    await killOwn();
    expect(await Promise.all([rc.command('PING'), rc.command('PING')])).toEqual(['PONG', 'PONG']);
  } finally {
    await rc.close();
  }
});
