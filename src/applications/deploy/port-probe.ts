import { Injectable } from '@nestjs/common';
import { Socket } from 'node:net';

/** Does something accept connections on address:port? A port so tests and other networks can swap it. */
export abstract class PortProbe {
  abstract answers(address: string, port: number, timeoutMs: number): Promise<boolean>;
}

/** A TCP connect from this process: container addresses are reachable from the workers. */
@Injectable()
export class TcpPortProbe extends PortProbe {
  answers(address: string, port: number, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = new Socket();
      const done = (ok: boolean) => {
        socket.destroy();
        resolve(ok);
      };
      socket.setTimeout(timeoutMs, () => done(false));
      socket.once('error', () => done(false));
      socket.connect(port, address, () => done(true));
    });
  }
}
