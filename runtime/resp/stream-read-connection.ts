import { connect as netConnect, type Socket } from 'node:net';
import { type ConnectionOptions, connect as tlsConnect } from 'node:tls';
import type { Redis } from 'ioredis';
import { ConfigError } from '../errors/config-error.ts';
import { RedisReadError } from '../errors/redis-read-error.ts';
import { RedisReplyError } from '../errors/redis-reply-error.ts';
import { type RespReply, replyError } from './resp-reply.ts';
import { RespScanner } from './resp-scanner.ts';

/** Where and as whom the connection logs in; the same settings as the ioredis connection's. */
export interface ReadConnectionOptions {
  host: string;
  port: number;
  /** Unix socket path; replaces host and port. */
  path?: string;
  /** TLS options; TLS is on when set. */
  tls?: ConnectionOptions;
  username?: string;
  password?: string;
  db?: number;
  /** Shown by CLIENT LIST. */
  name?: string;
  connectTimeoutMs: number;
}

/**
 * One opening of the read connection, as `session()` found it. State the server keeps per
 * connection (`WATCH`) lives and dies with it: a reconnect makes a new session, and
 * `pipelineOn` writes nothing once its session is not the current one.
 */
export interface ReadSession {
  readonly id: number;
}

interface Waiting {
  command: string;
  resolve: (reply: RespReply) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * A Redis connection for the sink's stream reads, whose replies come back as `RespReply` (bytes
 * and tokens) instead of a Buffer object per field; see RespScanner for why. Commands are plain
 * RESP2; the connection opens on first use, logs in (AUTH with the ACL user, SELECT, CLIENT
 * SETNAME), and after any failure is opened again by the next command. A command in flight when
 * the connection fails rejects with RedisReadError (retriable); an error reply rejects with
 * RedisReplyError.
 */
export class StreamReadConnection {
  private socket: Socket | undefined;
  private opening: Promise<Socket> | undefined;
  private scanner = new RespScanner();
  private readonly waiting: Waiting[] = [];
  private closed = false;
  /** Openings so far: the current connection's session id. */
  private opened = 0;

  constructor(private readonly options: ReadConnectionOptions) {}

  /** A connection to the same server with the same login as an ioredis connection. */
  static like(redis: Redis, name?: string): StreamReadConnection {
    return new StreamReadConnection(readConnectionOptions(redis, name));
  }

  /** Sends one command and resolves with its reply; rejects if no reply came within timeoutMs. */
  async command(args: ReadonlyArray<string | number>, timeoutMs: number): Promise<RespReply> {
    const socket = await this.open();
    return this.send(socket, args, timeoutMs);
  }

  /**
   * Sends several commands in one write (one round trip) and resolves once each has its reply
   * or failed, in order: a caller can tell the commands that ran from those that did not (an
   * error reply of one says nothing of the others).
   */
  async pipeline(
    commands: ReadonlyArray<ReadonlyArray<string | number>>,
    timeoutMs: number,
  ): Promise<Array<PromiseSettledResult<RespReply>>> {
    return this.write(await this.open(), commands, timeoutMs);
  }

  /** The connection commands go out on now, opened if need be. */
  async session(): Promise<ReadSession> {
    await this.open();
    return { id: this.opened };
  }

  /**
   * Like `pipeline`, but only on the connection of `session`: undefined, with nothing written,
   * when that connection failed or was closed since (a new one would not have its `WATCH`).
   */
  async pipelineOn(
    session: ReadSession,
    commands: ReadonlyArray<ReadonlyArray<string | number>>,
    timeoutMs: number,
  ): Promise<Array<PromiseSettledResult<RespReply>> | undefined> {
    const socket = this.socket;
    if (this.closed || socket === undefined || session.id !== this.opened) return undefined;
    return this.write(socket, commands, timeoutMs);
  }

  private write(
    socket: Socket,
    commands: ReadonlyArray<ReadonlyArray<string | number>>,
    timeoutMs: number,
  ): Promise<Array<PromiseSettledResult<RespReply>>> {
    const replies = commands.map((args) => this.expect(socket, String(args[0]), timeoutMs));
    let encoded = '';
    for (const args of commands) encoded += encodeCommand(args);
    socket.write(encoded);
    return Promise.allSettled(replies);
  }

  /**
   * Drops the connection now without closing for good: commands in flight reject with `reason`
   * and the next command opens a new one. Ends a blocking read nobody waits for any more (the
   * server would otherwise hold the commands queued behind it until the block ends).
   */
  reset(reason: string): void {
    this.fail(new RedisReadError(reason));
  }

  /** Closes the connection; commands in flight reject. */
  close(): void {
    this.closed = true;
    this.fail(new RedisReadError('the read connection was closed'));
  }

  private send(socket: Socket, args: ReadonlyArray<string | number>, timeoutMs: number) {
    const reply = this.expect(socket, String(args[0]), timeoutMs);
    socket.write(encodeCommand(args));
    return reply;
  }

  /** The reply to the next command written to `socket` (the caller writes it right after). */
  private expect(socket: Socket, command: string, timeoutMs: number): Promise<RespReply> {
    return new Promise<RespReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(new RedisReadError(`no reply to ${command} within ${timeoutMs} ms`), socket);
      }, timeoutMs);
      this.waiting.push({ command, resolve, reject, timer });
    });
  }

  private open(): Promise<Socket> {
    if (this.closed) return Promise.reject(new RedisReadError('the read connection was closed'));
    if (this.socket) return Promise.resolve(this.socket);
    this.opening ??= this.connect().finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  private async connect(): Promise<Socket> {
    const o = this.options;
    const where = o.path ?? `${o.host}:${o.port}`;
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s: Socket = o.tls
        ? tlsConnect({ host: o.host, port: o.port, ...o.tls }, () => resolve(s))
        : o.path
          ? netConnect({ path: o.path }, () => resolve(s))
          : netConnect({ host: o.host, port: o.port }, () => resolve(s));
      const timer = setTimeout(() => {
        s.destroy();
        reject(
          new RedisReadError(
            `could not connect to Redis at ${where} within ${o.connectTimeoutMs} ms`,
          ),
        );
      }, o.connectTimeoutMs);
      s.once('error', (err) => {
        clearTimeout(timer);
        reject(new RedisReadError(`could not connect to Redis at ${where}: ${err.message}`, err));
      });
      s.once(o.tls ? 'secureConnect' : 'connect', () => clearTimeout(timer));
    });
    socket.setNoDelay(true);
    socket.setKeepAlive(true);
    this.scanner = new RespScanner();
    socket.on('data', (chunk: Buffer) => this.received(socket, chunk));
    socket.on('error', (err) =>
      this.fail(
        new RedisReadError(`the Redis read connection failed: ${err.message}`, err),
        socket,
      ),
    );
    socket.on('close', () =>
      this.fail(new RedisReadError('the Redis read connection was closed by the server'), socket),
    );
    this.socket = socket;
    this.opened++;
    try {
      const timeout = o.connectTimeoutMs;
      const login: Array<Promise<RespReply>> = [];
      if (o.password !== undefined)
        login.push(
          this.send(
            socket,
            o.username ? ['AUTH', o.username, o.password] : ['AUTH', o.password],
            timeout,
          ),
        );
      if (o.db) login.push(this.send(socket, ['SELECT', o.db], timeout));
      if (o.name) login.push(this.send(socket, ['CLIENT', 'SETNAME', o.name], timeout));
      await Promise.all(login);
    } catch (err) {
      this.fail(err as Error, socket);
      throw err;
    }
    if (this.closed) {
      this.fail(new RedisReadError('the read connection was closed'), socket);
      throw new RedisReadError('the read connection was closed');
    }
    return socket;
  }

  private received(socket: Socket, chunk: Buffer): void {
    if (socket !== this.socket) return;
    let replies: RespReply[];
    try {
      replies = this.scanner.push(chunk);
    } catch (err) {
      this.fail(err as Error, socket);
      return;
    }
    for (const reply of replies) {
      const waiting = this.waiting.shift();
      if (!waiting) {
        this.fail(new RedisReadError('Redis sent a reply to no command'), socket);
        return;
      }
      clearTimeout(waiting.timer);
      const error = replyError(reply);
      if (error !== undefined) waiting.reject(new RedisReplyError(waiting.command, error));
      else waiting.resolve(reply);
    }
  }

  /** Drops the connection (if it is still `socket`) and rejects every command in flight. */
  private fail(err: Error, socket: Socket | undefined = this.socket): void {
    if (socket !== this.socket) return;
    this.socket = undefined;
    socket?.destroy();
    for (const waiting of this.waiting.splice(0)) {
      clearTimeout(waiting.timer);
      waiting.reject(err);
    }
  }
}

/** A command as a RESP2 array of bulk strings. */
export function encodeCommand(args: ReadonlyArray<string | number>): string {
  let out = `*${args.length}\r\n`;
  for (const arg of args) {
    const text = String(arg);
    out += `$${Buffer.byteLength(text)}\r\n${text}\r\n`;
  }
  return out;
}

/** The options of a read connection to the same server with the same login as `redis`. */
export function readConnectionOptions(redis: Redis, name?: string): ReadConnectionOptions {
  const o = redis.options;
  if (o.sentinels && o.sentinels.length > 0)
    throw new ConfigError('sinks read from a Redis server directly; Sentinel is not supported');
  if (o.keyPrefix)
    throw new ConfigError('the ioredis keyPrefix option is not supported; use the CDC prefix');
  return {
    host: o.host ?? '127.0.0.1',
    port: o.port ?? 6379,
    ...(o.path ? { path: o.path } : {}),
    ...(o.tls ? { tls: o.tls } : {}),
    ...(o.username ? { username: o.username } : {}),
    ...(o.password ? { password: o.password } : {}),
    ...(o.db ? { db: o.db } : {}),
    ...((name ?? o.connectionName) ? { name: name ?? o.connectionName } : {}),
    connectTimeoutMs: o.connectTimeout ?? 10_000,
  };
}
