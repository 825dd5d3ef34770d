import { SerializedFs, VirtualFs } from '../state/virtual-fs';

/** A host port Docker bound for a service, on the container's (LXC) addresses. */
export interface BoundPort {
  /** null: every address of the LXC, hence reachable through its IP. */
  hostIp: string | null;
  hostPort: number;
  target: number;
  protocol: 'tcp' | 'udp';
}

export interface ComposeServiceState {
  name: string;
  image: string;
  ports: BoundPort[];
  containerId: string;
  createdAt: number;
  log: string[];
}

/** A compose project that was brought up and not taken down (restart: unless-stopped). */
export interface ComposeProject {
  name: string;
  workingDir: string;
  configFiles: string[];
  services: ComposeServiceState[];
  createdAt: number;
}

export interface SerializedGuest {
  fs: SerializedFs;
  packages: string[];
  aptListsUpdated: boolean;
  dockerRepoIndexed: boolean;
  dockerStopped: boolean;
  projects: ComposeProject[];
}

const SERVICE_LOG_LIMIT = 500;

/** The Debian 12 template's initial tree, as far as the simulated commands look at it. */
const TEMPLATE_DIRECTORIES = [
  '/bin',
  '/etc/apt/sources.list.d',
  '/etc/apt/keyrings',
  '/etc/apt/trusted.gpg.d',
  '/home',
  '/opt',
  '/root',
  '/srv',
  '/tmp',
  '/usr/bin',
  '/usr/local/bin',
  '/usr/sbin',
  '/var/lib',
  '/var/log',
  '/var/tmp',
];

/** Packages the template ships with (the rest needs apt-get). */
const TEMPLATE_PACKAGES = ['ca-certificates'];

/**
 * What lives inside a container's root file system: files, installed
 * packages and Docker's compose projects. Snapshots, backups and clones copy it.
 */
export class GuestSystem {
  constructor(
    readonly fs: VirtualFs,
    readonly packages: Set<string>,
    public aptListsUpdated: boolean,
    public dockerRepoIndexed: boolean,
    readonly projects: Map<string, ComposeProject>,
    /** `systemctl stop docker`: projects stay defined but nothing runs. */
    public dockerStopped = false,
  ) {}

  /** Docker's daemon is installed and running. */
  dockerRunning(): boolean {
    return (
      (this.packages.has('docker-ce') || this.packages.has('docker.io')) && !this.dockerStopped
    );
  }

  static fromTemplate(hostname: string): GuestSystem {
    const fs = VirtualFs.withDirectories(TEMPLATE_DIRECTORIES);
    fs.writeFile('/etc/hostname', `${hostname}\n`);
    fs.writeFile(
      '/etc/os-release',
      'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n',
    );
    fs.writeFile(
      '/etc/apt/sources.list',
      'deb http://deb.debian.org/debian bookworm main contrib\ndeb http://deb.debian.org/debian bookworm-updates main contrib\ndeb http://security.debian.org bookworm-security main contrib\n',
    );
    return new GuestSystem(fs, new Set(TEMPLATE_PACKAGES), false, false, new Map());
  }

  /** Services that run while the container runs. */
  serviceNames(): string[] {
    const names: string[] = [];
    if (!this.dockerRunning()) return names;
    for (const project of this.projects.values())
      for (const service of project.services) names.push(service.name);
    return names;
  }

  appendServiceLog(projectName: string, serviceName: string, line: string): void {
    const service = this.projects.get(projectName)?.services.find((s) => s.name === serviceName);
    if (!service) return;
    service.log.push(line);
    if (service.log.length > SERVICE_LOG_LIMIT)
      service.log.splice(0, service.log.length - SERVICE_LOG_LIMIT);
  }

  clone(): GuestSystem {
    return GuestSystem.fromJSON(this.toJSON());
  }

  toJSON(): SerializedGuest {
    return {
      fs: this.fs.toJSON(),
      packages: [...this.packages].sort(),
      aptListsUpdated: this.aptListsUpdated,
      dockerRepoIndexed: this.dockerRepoIndexed,
      dockerStopped: this.dockerStopped,
      projects: [...this.projects.values()].map((project) => ({
        ...project,
        configFiles: [...project.configFiles],
        services: project.services.map((service) => ({
          ...service,
          ports: service.ports.map((p) => ({ ...p })),
          log: [...service.log],
        })),
      })),
    };
  }

  static fromJSON(serialized: SerializedGuest): GuestSystem {
    const projects = new Map<string, ComposeProject>();
    for (const project of serialized.projects) {
      projects.set(project.name, {
        ...project,
        configFiles: [...project.configFiles],
        services: project.services.map((service) => ({
          ...service,
          ports: service.ports.map((p) => ({ ...p })),
          log: [...service.log],
        })),
      });
    }
    return new GuestSystem(
      VirtualFs.fromJSON(serialized.fs),
      new Set(serialized.packages),
      serialized.aptListsUpdated,
      serialized.dockerRepoIndexed,
      projects,
      serialized.dockerStopped,
    );
  }
}
