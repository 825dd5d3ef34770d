/**
 * `npm run pve-sim -- [--port 8006] [--ssh-port 2222] [--nodes pve1,pve2] [--seed N] [--state-file F] …`
 * Prints the ready line (one JSON object) on stdout and runs until SIGTERM/SIGINT.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readyInfo, RunningSimulator, startSimulator } from './index';
import { SimulatorOptions } from './options';

const USAGE = `Usage: npm run pve-sim -- [options]

  --port N                  HTTPS API port (default 8006; 0 picks a free port)
  --ssh-port N              SSH port (default 2222; 0 picks a free port)
  --host ADDRESS            listen address (default 127.0.0.1)
  --nodes a,b               cluster node names (default pve1,pve2)
  --seed N                  seed for every random choice (default: random)
  --state-file F            keep the cluster in F across restarts
  --task-ms N               task latency (default 50)
  --http-ms N               added to every API answer (default 0)
  --ssh-ms N                added to every SSH command (default 0)
  --unauthorized-delay-ms N delay of 401 answers (pveproxy: 3000; default 0)
  --username U  --password P           ticket login (default root@pam, generated)
  --token-id ID --token-secret UUID    API token (default root@pam!proximity, generated)
  --ssh-user U  --ssh-password P       SSH login (default root, generated)
  --ssh-authorized-keys FILE|KEY       public key(s) accepted for SSH

Environment: PVE_SIM_USERNAME, PVE_SIM_PASSWORD, PVE_SIM_TOKEN_ID, PVE_SIM_TOKEN_SECRET,
PVE_SIM_SSH_USER, PVE_SIM_SSH_PASSWORD, PVE_SIM_SSH_AUTHORIZED_KEYS (flags win).
`;

function integer(value: string, flag: string): number {
  if (!/^\d+$/.test(value))
    throw new Error(`${flag} expects a non-negative integer, got '${value}'`);
  return Number(value);
}

function authorizedKeys(value: string): string {
  return existsSync(value) ? readFileSync(value, 'utf8') : value;
}

export function parseCommandLine(
  argv: string[],
  env: NodeJS.ProcessEnv,
): SimulatorOptions | 'help' {
  const options: SimulatorOptions = {
    port: 8006,
    sshPort: 2222,
    username: env.PVE_SIM_USERNAME,
    password: env.PVE_SIM_PASSWORD,
    tokenId: env.PVE_SIM_TOKEN_ID,
    tokenSecret: env.PVE_SIM_TOKEN_SECRET,
    sshUser: env.PVE_SIM_SSH_USER,
    sshPassword: env.PVE_SIM_SSH_PASSWORD,
    sshAuthorizedKeys:
      env.PVE_SIM_SSH_AUTHORIZED_KEYS === undefined
        ? undefined
        : authorizedKeys(env.PVE_SIM_SSH_AUTHORIZED_KEYS),
  };
  const latency: NonNullable<SimulatorOptions['latency']> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') return 'help';
    const [flag, inline] = arg.startsWith('--')
      ? (arg.split(/=(.*)/s, 2) as [string, string | undefined])
      : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--port':
        options.port = integer(value(), flag);
        break;
      case '--ssh-port':
        options.sshPort = integer(value(), flag);
        break;
      case '--host':
        options.host = value();
        break;
      case '--nodes':
        options.nodes = value()
          .split(',')
          .map((node) => node.trim())
          .filter((node) => node !== '');
        break;
      case '--seed':
        options.seed = integer(value(), flag);
        break;
      case '--state-file':
        options.stateFile = value();
        break;
      case '--task-ms':
        latency.taskMs = integer(value(), flag);
        break;
      case '--http-ms':
        latency.httpMs = integer(value(), flag);
        break;
      case '--ssh-ms':
        latency.sshMs = integer(value(), flag);
        break;
      case '--unauthorized-delay-ms':
        options.unauthorizedDelayMs = integer(value(), flag);
        break;
      case '--username':
        options.username = value();
        break;
      case '--password':
        options.password = value();
        break;
      case '--token-id':
        options.tokenId = value();
        break;
      case '--token-secret':
        options.tokenSecret = value();
        break;
      case '--ssh-user':
        options.sshUser = value();
        break;
      case '--ssh-password':
        options.sshPassword = value();
        break;
      case '--ssh-authorized-keys':
      case '--ssh-authorized-key':
        options.sshAuthorizedKeys = authorizedKeys(value());
        break;
      default:
        throw new Error(`unknown option ${arg}`);
    }
  }
  options.latency = latency;
  return options;
}

/** The parent pid of a process, from /proc (Linux); null where unavailable. */
function parentOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}

/**
 * `npm run pve-sim` starts npm → sh → tsx → node. On SIGTERM npm kills sh,
 * which does not pass the signal on, and tsx is left orphaned with this
 * process. Watching the launcher's parent catches that and stops cleanly.
 */
function watchLauncher(onGone: () => void): void {
  const parent = process.ppid;
  const grandparent = parentOf(parent);
  const timer = setInterval(() => {
    if (process.ppid !== parent || (grandparent !== null && parentOf(parent) !== grandparent))
      onGone();
  }, 250);
  timer.unref();
}

async function main(): Promise<void> {
  const parsed = parseCommandLine(process.argv.slice(2), process.env);
  if (parsed === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  let simulator: RunningSimulator | null = null;
  let stopping = false;
  const shutdown = (reason: string): void => {
    if (stopping || !simulator) {
      stopping = true;
      return;
    }
    stopping = true;
    simulator.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`pve-simulator: error while stopping (${reason}): ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  simulator = await startSimulator(parsed);
  if (stopping) {
    await simulator.stop();
    process.exit(0);
  }
  process.stdout.write(`${JSON.stringify(readyInfo(simulator))}\n`);
  watchLauncher(() => shutdown('launcher exited'));
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(
      `pve-simulator: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(1);
  });
}
