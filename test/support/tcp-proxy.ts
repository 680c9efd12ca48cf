import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';

/**
 * A TCP proxy in front of a real server, for tests that need a connection to fail at a chosen
 * moment: `dropReply` makes the proxy swallow the next server reply that matches and close that
 * connection, as a network failure would, while the server has done its part.
 */
export class TcpProxy {
  private trap: { request: string; minBytes: number; dropped: () => void } | undefined;
  private readonly sockets = new Set<Socket>();

  private constructor(private readonly server: Server) {}

  /** Listens on a free local port and forwards every connection to host:port. */
  static async start(host: string, port: number): Promise<TcpProxy> {
    const server = createServer();
    const proxy = new TcpProxy(server);
    server.on('connection', (client) => proxy.forward(client, host, port));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    const address = this.server.address();
    if (!address || typeof address === 'string') throw new Error('the proxy is not listening');
    return address.port;
  }

  /**
   * On the next connection that sends `request` (bytes of a command, e.g. `XREADGROUP`), drops
   * the first reply chunk of at least `minBytes` and closes the connection. Resolves once done.
   */
  dropReply(request: string, minBytes: number): Promise<void> {
    return new Promise((dropped) => {
      this.trap = { request, minBytes, dropped };
    });
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private forward(client: Socket, host: string, port: number): void {
    const upstream = tcpConnect({ host, port });
    this.sockets.add(client);
    this.sockets.add(upstream);
    let asked = false;
    const end = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('data', (chunk: Buffer) => {
      if (this.trap && chunk.includes(this.trap.request)) asked = true;
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      const trap = this.trap;
      if (trap && asked && chunk.length >= trap.minBytes) {
        this.trap = undefined;
        end();
        trap.dropped();
        return;
      }
      client.write(chunk);
    });
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
  }
}
