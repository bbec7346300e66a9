import { connect, type Socket } from 'node:net';

/**
 * A bare RESP connection for the per-test reset. It sends one command at a time and understands only
 * simple replies (+status, -error, :integer): all FLUSHALL needs, at a fraction of a full client's cost.
 */
/** What a command gets when its connection closed before the reply. */
class ConnectionClosed extends Error {}

/** One socket and the replies it still owes: a reconnect starts afresh, so an old socket's end touches nothing new. */
interface Link {
  socket: Socket;
  pending: Array<{ resolve: (reply: string) => void; reject: (err: Error) => void }>;
  buffer: string;
}

export class ResetConnection {
  #link: Link | undefined;
  #connecting: Promise<Link> | undefined;
  readonly url: string;
  readonly #endpoint: { path: string } | { host: string; port: number };

  constructor(endpoint: { path: string } | { url: string }) {
    if ('path' in endpoint) {
      this.url = `unix://${endpoint.path}`;
      this.#endpoint = { path: endpoint.path };
    } else {
      const { hostname, port } = new URL(endpoint.url);
      this.url = endpoint.url;
      this.#endpoint = { host: hostname, port: Number(port) };
    }
  }

  #connect(): Promise<Link> {
    if (this.#connecting) return this.#connecting;
    const attempt = new Promise<Link>((resolve, reject) => {
      const socket = connect(this.#endpoint);
      socket.setNoDelay(true);
      const link: Link = { socket, pending: [], buffer: '' };
      const failAll = (err: Error) => {
        for (const p of link.pending.splice(0)) p.reject(err);
      };
      const settled = () => {
        if (this.#connecting === attempt) this.#connecting = undefined;
      };
      let connected = false;
      socket.once('connect', () => {
        connected = true;
        this.#link = link;
        settled();
        resolve(link);
      });
      socket.on('error', (err) => {
        settled();
        reject(err);
        // Lost after connecting (EPIPE, ECONNRESET): the same as closed, so the command is sent again.
        failAll(connected ? new ConnectionClosed(`connection to ${this.url} lost: ${err.message}`) : err);
      });
      socket.on('close', () => {
        if (this.#link === link) this.#link = undefined;
        failAll(new ConnectionClosed(`connection to ${this.url} closed`));
      });
      socket.on('data', (chunk) => {
        link.buffer += chunk.toString('utf8');
        let i: number;
        while ((i = link.buffer.indexOf('\r\n')) >= 0) {
          const line = link.buffer.slice(0, i);
          link.buffer = link.buffer.slice(i + 2);
          const p = link.pending.shift();
          if (!p) continue;
          if (line.startsWith('-')) p.reject(new Error(`${this.url}: ${line.slice(1)}`));
          else p.resolve(line.slice(1));
        }
      });
    });
    this.#connecting = attempt;
    return attempt;
  }

  /**
   * Runs once per test: while connected it writes at once, with no promise but the reply's. A command written on
   * a connection the server had already closed (idle timeout, CLIENT KILL; Node learns it only afterwards) is
   * sent once more on a new one: the reset's commands (FLUSHALL, FLUSHDB, WAIT) are safe to repeat.
   */
  command(...args: string[]): Promise<string> {
    const payload = `*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('');
    const link = this.#link;
    if (!link || link.socket.destroyed) return this.#connect().then((connected) => this.#send(connected, payload));
    return this.#send(link, payload).catch((err: unknown) =>
      err instanceof ConnectionClosed ? this.#connect().then((connected) => this.#send(connected, payload)) : Promise.reject(err),
    );
  }

  #send(link: Link, payload: string): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      link.pending.push({ resolve, reject });
      link.socket.write(payload);
    });
  }

  async close(): Promise<void> {
    if (this.#connecting) await this.#connecting.catch(() => undefined);
    const link = this.#link;
    this.#link = undefined;
    if (!link || link.socket.destroyed) return;
    await new Promise<void>((resolve) => {
      link.socket.once('close', () => resolve());
      link.socket.end();
    });
  }
}
