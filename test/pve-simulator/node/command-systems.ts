import { aptGet, dpkg, gpgDearmor } from '../guest/apt';
import { curl } from '../guest/curl';
import { dockerCli, dockerComposeLegacy, systemctl } from '../guest/docker-cli';
import { coreutils } from '../shell/coreutils';
import { Command, CommandSystem } from '../shell/shell-interpreter';
import { shellCommand } from '../shell/shell-command';
import { Simulation } from '../simulation';
import { Container } from '../state/container';
import { nodePrograms } from './node-programs';
import { pctCommand } from './pct-command';

export const CONTAINER_ENV: Readonly<Record<string, string>> = {
  HOME: '/root',
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  LANG: 'C.UTF-8',
  SHELL: '/bin/bash',
  USER: 'root',
};

/** The programs inside a container, depending on what is installed in it. */
export function containerCommandSystem(sim: Simulation, container: Container): CommandSystem {
  const runtime = sim.guestRuntime(container);
  const commands = coreutils({
    hostname: () => container.hostname(),
    sleep: (ms) => sim.scheduler.delay(ms),
  });
  commands.set('sh', shellCommand('dash'));
  commands.set('dash', shellCommand('dash'));
  commands.set('bash', shellCommand('bash'));
  commands.set('apt-get', aptGet(runtime, 'apt-get'));
  commands.set('apt', aptGet(runtime, 'apt'));
  commands.set('dpkg', dpkg(runtime));
  commands.set('dpkg-query', dpkg(runtime));
  commands.set('systemctl', systemctl(runtime));
  const installed: Record<string, { packages: string[]; command: Command }> = {
    curl: { packages: ['curl'], command: curl(runtime) },
    gpg: { packages: ['gnupg'], command: gpgDearmor },
    docker: { packages: ['docker-ce-cli', 'docker.io'], command: dockerCli(runtime) },
    'docker-compose': { packages: ['docker-compose'], command: dockerComposeLegacy(runtime) },
  };
  const lookup = (name: string): Command | undefined => {
    const optional = installed[name];
    if (optional)
      return optional.packages.some((p) => container.guest.packages.has(p))
        ? optional.command
        : undefined;
    return commands.get(name);
  };
  return new CommandSystem(container.guest.fs, lookup, 'dash', CONTAINER_ENV);
}

export const NODE_ENV: Readonly<Record<string, string>> = {
  HOME: '/root',
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  LANG: 'en_US.UTF-8',
  SHELL: '/bin/bash',
  USER: 'root',
};

/** The commands of a Proxmox VE node's root shell, as an SSH session runs them. */
export function nodeCommandSystem(sim: Simulation, nodeName: string): CommandSystem {
  const node = sim.cluster.node(nodeName);
  if (!node) throw new Error(`unknown node ${nodeName}`);
  const commands = coreutils({ hostname: () => nodeName, sleep: (ms) => sim.scheduler.delay(ms) });
  commands.set('sh', shellCommand('dash'));
  commands.set('dash', shellCommand('dash'));
  commands.set('bash', shellCommand('bash'));
  commands.set(
    'pct',
    pctCommand(sim, nodeName, (container) => containerCommandSystem(sim, container)),
  );
  for (const [name, command] of nodePrograms(sim, nodeName, (other) =>
    nodeCommandSystem(sim, other),
  ))
    commands.set(name, command);
  return new CommandSystem(node.fs, (name) => commands.get(name), 'bash', NODE_ENV);
}
