import { connect, type Socket } from 'node:net';

/**
 * A bare RESP connection for the per-test reset. It sends one command at a time and understands only
 * simple replies (+status, -error, :integer): all FLUSHALL needs, at a fraction of a full client's cost.
 */
export class ResetConnection {
  #socket: Socket | undefined;
  #pending: Array<{ resolve: (reply: string) => void; reject: (err: Error) => void }> = [];
  #buffer = '';
  #connecting: Promise<Socket> | undefined;
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

  #connect(): Promise<Socket> {
    if (this.#socket && !this.#socket.destroyed) return Promise.resolve(this.#socket);
    if (this.#connecting) return this.#connecting;
    this.#connecting = new Promise<Socket>((resolve, reject) => {
      const socket = connect(this.#endpoint);
      socket.setNoDelay(true);
      const failAll = (err: Error) => {
        for (const p of this.#pending.splice(0)) p.reject(err);
      };
      socket.once('connect', () => {
        this.#socket = socket;
        this.#connecting = undefined;
        resolve(socket);
      });
      socket.on('error', (err) => {
        this.#connecting = undefined;
        reject(err);
        failAll(err);
      });
      socket.on('close', () => failAll(new Error(`connection to ${this.url} closed`)));
      socket.on('data', (chunk) => {
        this.#buffer += chunk.toString('utf8');
        let i: number;
        while ((i = this.#buffer.indexOf('\r\n')) >= 0) {
          const line = this.#buffer.slice(0, i);
          this.#buffer = this.#buffer.slice(i + 2);
          const p = this.#pending.shift();
          if (!p) continue;
          if (line.startsWith('-')) p.reject(new Error(`${this.url}: ${line.slice(1)}`));
          else p.resolve(line.slice(1));
        }
      });
    });
    return this.#connecting;
  }

  /** Runs once per test: while connected it writes at once, with no promise but the reply's. */
  command(...args: string[]): Promise<string> {
    const payload = `*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('');
    const socket = this.#socket;
    if (socket && !socket.destroyed) return this.#send(socket, payload);
    return this.#connect().then((connected) => this.#send(connected, payload));
  }

  #send(socket: Socket, payload: string): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      this.#pending.push({ resolve, reject });
      socket.write(payload);
    });
  }

  async close(): Promise<void> {
    if (this.#connecting) await this.#connecting.catch(() => undefined);
    const socket = this.#socket;
    this.#socket = undefined;
    this.#buffer = '';
    if (!socket || socket.destroyed) return;
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      socket.end();
    });
  }
}
