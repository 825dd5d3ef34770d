import { posix } from 'node:path';
import type { Command } from '../shell/shell-interpreter';
import { GuestRuntime } from './guest-runtime';

/**
 * What https://get.docker.com serves, replaced by a script made of commands
 * the simulator understands: it configures Docker's apt repository and
 * installs the same packages, so `curl -fsSL https://get.docker.com | sh`
 * and the download-then-run variant both work, and take the install delay.
 */
export const GET_DOCKER_SCRIPT = `#!/bin/sh
# Docker convenience script, as served by the Proxmox VE simulator in place of https://get.docker.com
set -e
echo "# Executing docker install script, commit: 6d9743e9656cc56f699a64800b098d5ea5a60020"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ca-certificates curl
install -m 0755 -d /etc/apt/keyrings
curl -fsSL https://download.docker.com/linux/debian/gpg -o /etc/apt/keyrings/docker.asc
chmod a+r /etc/apt/keyrings/docker.asc
echo "deb [arch=amd64 signed-by=/etc/apt/keyrings/docker.asc] https://download.docker.com/linux/debian bookworm stable" > /etc/apt/sources.list.d/docker.list
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-ce docker-ce-cli containerd.io docker-compose-plugin docker-ce-rootless-extras docker-buildx-plugin
echo
echo "================================================================================"
echo
echo "To run Docker as a non-privileged user, consider setting up the"
echo "Docker daemon in rootless mode for your user:"
echo
echo "    dockerd-rootless-setuptool.sh install"
echo
echo "================================================================================"
`;

export const DOCKER_APT_KEY = `-----BEGIN PGP PUBLIC KEY BLOCK-----

mQINBFit2ioBEADhWpZ8/wvZ6hUTiXOwQHXMAlaFHcPH9hAtr4F1y2+OYdbtMuth
(Docker Release (CE deb) <docker@docker.com>, served by the Proxmox VE simulator)
=3fDq
-----END PGP PUBLIC KEY BLOCK-----
`;

const STATIC_DOCUMENTS: Record<string, string> = {
  'https://get.docker.com/': GET_DOCKER_SCRIPT,
  'https://download.docker.com/linux/debian/gpg': DOCKER_APT_KEY,
};

const VALUE_OPTIONS = new Set([
  '-o',
  '--output',
  '--retry',
  '--connect-timeout',
  '-m',
  '--max-time',
  '-H',
  '--header',
  '-X',
  '--request',
  '-A',
  '--user-agent',
]);

/** curl for the URLs a deployment fetches and for the simulated services' own addresses. */
export function curl(runtime: GuestRuntime): Command {
  return async (ctx) => {
    let fail = false;
    let silent = false;
    let showError = false;
    let output: string | undefined;
    let remoteName = false;
    let timeoutSeconds = 10;
    const urls: string[] = [];
    const args = ctx.argv.slice(1);
    for (let i = 0; i < args.length; i++) {
      const arg = args[i];
      if (arg.startsWith('--')) {
        const [name, inline] = arg.split('=', 2);
        const value = VALUE_OPTIONS.has(name) ? (inline ?? args[++i]) : undefined;
        if (name === '--fail') fail = true;
        else if (name === '--silent') silent = true;
        else if (name === '--show-error') showError = true;
        else if (name === '--output') output = value;
        else if (name === '--remote-name') remoteName = true;
        else if (name === '--max-time' || name === '--connect-timeout')
          timeoutSeconds = Number(value) || timeoutSeconds;
        continue;
      }
      if (arg.startsWith('-') && arg.length > 1) {
        for (let j = 1; j < arg.length; j++) {
          const flag = `-${arg[j]}`;
          if (VALUE_OPTIONS.has(flag)) {
            const value = arg.length > j + 1 ? arg.slice(j + 1) : args[++i];
            if (flag === '-o') output = value;
            if (flag === '-m') timeoutSeconds = Number(value) || timeoutSeconds;
            break;
          }
          if (flag === '-f') fail = true;
          else if (flag === '-s') silent = true;
          else if (flag === '-S') showError = true;
          else if (flag === '-O') remoteName = true;
        }
        continue;
      }
      urls.push(arg);
    }
    const error = (code: number, message: string): number => {
      if (!silent || showError) ctx.stderr.write(`curl: (${code}) ${message}\n`);
      return code;
    };
    if (urls.length === 0) {
      ctx.stderr.write("curl: try 'curl --help' or 'curl --manual' for more information\n");
      return 2;
    }
    let status = 0;
    for (const raw of urls) {
      let url: URL;
      try {
        url = new URL(/^[a-z]+:\/\//i.test(raw) ? raw : `http://${raw}`);
      } catch {
        status = error(3, 'URL using bad/illegal format or missing URL');
        continue;
      }
      let body: Buffer;
      const document = STATIC_DOCUMENTS[url.href] ?? STATIC_DOCUMENTS[url.href.replace(/\/$/, '')];
      if (document !== undefined) {
        await runtime.sleep(5);
        body = Buffer.from(document);
      } else {
        const ownAddresses = ['localhost', '127.0.0.1', runtime.ip() ?? ''];
        const reachable =
          url.protocol === 'http:' &&
          (ownAddresses.includes(url.hostname) || /^127\.77\.\d+\.\d+$/.test(url.hostname));
        if (!reachable) {
          status = error(6, `Could not resolve host: ${url.hostname}`);
          continue;
        }
        const target = new URL(url.href);
        if (target.hostname === 'localhost' || target.hostname === '127.0.0.1')
          target.hostname = runtime.ip() ?? '127.0.0.1';
        try {
          const response = await runtime.httpGet(target, timeoutSeconds * 1000);
          if (fail && response.status >= 400) {
            status = error(22, `The requested URL returned error: ${response.status}`);
            continue;
          }
          body = response.body;
        } catch {
          status = error(
            7,
            `Failed to connect to ${url.hostname} port ${url.port || 80} after 0 ms: Couldn't connect to server`,
          );
          continue;
        }
      }
      const file =
        output ?? (remoteName ? posix.basename(url.pathname) || 'index.html' : undefined);
      if (file === undefined || file === '-') ctx.stdout.write(body);
      else {
        try {
          ctx.fs.writeFile(posix.resolve(ctx.cwd, file), body);
        } catch {
          status = error(23, `Failure writing output to destination`);
        }
      }
    }
    return status;
  };
}
