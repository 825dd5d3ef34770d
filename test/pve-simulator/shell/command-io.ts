import { VirtualFs } from '../state/virtual-fs';

/** Where a command writes. */
export interface Sink {
  write(data: Buffer | string): void;
}

/** What a command reads: everything up to end-of-file, read at most once. */
export interface Stdin {
  readAll(): Promise<Buffer>;
}

export class BufferSink implements Sink {
  private readonly chunks: Buffer[] = [];

  write(data: Buffer | string): void {
    this.chunks.push(typeof data === 'string' ? Buffer.from(data) : data);
  }

  contents(): Buffer {
    return Buffer.concat(this.chunks);
  }

  text(): string {
    return this.contents().toString();
  }
}

export const NULL_SINK: Sink = { write: () => undefined };

export class FileSink implements Sink {
  constructor(
    private readonly fs: VirtualFs,
    private readonly path: string,
  ) {}

  write(data: Buffer | string): void {
    this.fs.writeFile(this.path, data, { append: true });
  }
}

export class BufferStdin implements Stdin {
  constructor(private readonly data: Buffer) {}

  readAll(): Promise<Buffer> {
    return Promise.resolve(this.data);
  }
}

export const EMPTY_STDIN: Stdin = new BufferStdin(Buffer.alloc(0));

/** Stdin fed by a stream (the SSH channel); a second reader gets nothing, as after EOF. */
export class StreamStdin implements Stdin {
  private consumed = false;
  private readonly done: Promise<Buffer>;

  constructor(stream: NodeJS.ReadableStream) {
    this.done = new Promise<Buffer>((resolve) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer | string) =>
        chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk)),
      );
      stream.on('end', () => resolve(Buffer.concat(chunks)));
      stream.on('close', () => resolve(Buffer.concat(chunks)));
    });
  }

  readAll(): Promise<Buffer> {
    if (this.consumed) return Promise.resolve(Buffer.alloc(0));
    this.consumed = true;
    return this.done;
  }
}

export interface CommandIo {
  stdin: Stdin;
  stdout: Sink;
  stderr: Sink;
}
