import { Client } from 'ssh2';
import { sshFingerprint } from '../identity/ssh-host-key';

export interface SshTarget {
  ssh: string;
  sshHostKeyFingerprint: string;
  sshUser: string;
  sshPassword?: string;
  privateKey?: string;
}

export interface ExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** An ssh2 client that only accepts the host key whose fingerprint the simulator printed. */
export function sshConnect(target: SshTarget): Promise<Client> {
  const [host, port] = [
    target.ssh.slice(0, target.ssh.lastIndexOf(':')),
    Number(target.ssh.slice(target.ssh.lastIndexOf(':') + 1)),
  ];
  return new Promise((resolve, reject) => {
    const client = new Client();
    client.once('ready', () => {
      client.setNoDelay(true);
      resolve(client);
    });
    client.once('error', reject);
    client.connect({
      host,
      port,
      username: target.sshUser,
      password: target.privateKey === undefined ? target.sshPassword : undefined,
      privateKey: target.privateKey,
      hostVerifier: (key: Buffer) => sshFingerprint(key) === target.sshHostKeyFingerprint,
      readyTimeout: 10_000,
    });
  });
}

/** Runs one command; stdin, when given, is sent and closed. */
export function sshExec(
  client: Client,
  command: string,
  stdin?: string | Buffer,
): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    client.exec(command, (error, stream) => {
      if (error) {
        reject(error);
        return;
      }
      let stdout = '';
      let stderr = '';
      let code: number | null = null;
      stream.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      stream.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      stream.on('exit', (exitCode: number | null) => (code = exitCode));
      stream.on('close', () => resolve({ code, stdout, stderr }));
      if (stdin !== undefined) stream.end(stdin);
      else stream.end();
    });
  });
}
