/**
 * The in-memory model of one catalog app, as the loader builds it from a
 * validated YAML file. Everything is read-only: a loaded catalog is an
 * immutable snapshot that requests share without copying.
 */

export const PROTOCOLS = ['tcp', 'udp'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

export const GENERATORS = ['password', 'hex32', 'uuid'] as const;
export type GenerateKind = (typeof GENERATORS)[number];

export const RESTART_POLICIES = ['unless-stopped', 'always', 'on-failure'] as const;
export type RestartPolicy = (typeof RESTART_POLICIES)[number];

/** A port the app publishes on its LXC container; the deploy forwards a public port to it. */
export interface CatalogPort {
  readonly name: string;
  readonly containerPort: number;
  readonly protocol: Protocol;
}

/** A variable the user may (or must) set, or that Proximity generates per deployment. */
export interface CatalogEnvVar {
  readonly name: string;
  readonly description: string;
  readonly required: boolean;
  readonly secret: boolean;
  /** Never set on a secret variable (the loader refuses it). */
  readonly default?: string;
  readonly generate?: GenerateKind;
}

/** `published:target/protocol` of a compose service; `published` is the LXC-side port. */
export interface ServicePort {
  readonly published: number;
  readonly target: number;
  readonly protocol: Protocol;
}

/** A named volume of the app, or one of the few allowed host paths (the Docker socket). */
export interface ServiceMount {
  readonly kind: 'volume' | 'bind';
  readonly source: string;
  readonly target: string;
  readonly readOnly: boolean;
}

/**
 * One compose service. `environment` values and `command` items are
 * templates: text with `${NAME}` references to declared variables and `$$`
 * for a literal dollar sign. Nothing else in a service may reference a variable.
 */
export interface ServiceTemplate {
  readonly image: string;
  readonly restart: RestartPolicy;
  readonly command?: readonly string[];
  readonly environment: Readonly<Record<string, string>>;
  readonly ports: readonly ServicePort[];
  readonly volumes: readonly ServiceMount[];
  readonly dependsOn: readonly string[];
}

export interface ComposeTemplate {
  readonly services: Readonly<Record<string, ServiceTemplate>>;
  /** Named volumes, declared at the top level of the compose file. */
  readonly volumes: readonly string[];
}

export interface CatalogApp {
  readonly id: string;
  readonly name: string;
  readonly version: string;
  readonly description: string;
  readonly category: string;
  readonly tags: readonly string[];
  readonly icon: string;
  readonly website: string;
  readonly minCores: number;
  readonly minMemoryMb: number;
  readonly minDiskGb: number;
  readonly ports: readonly CatalogPort[];
  readonly env: readonly CatalogEnvVar[];
  readonly compose: ComposeTemplate;
}

export const CATALOG_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const CATEGORY_PATTERN = /^[a-z0-9]+(-[a-z0-9]+)*$/;
export const ENV_NAME_PATTERN = /^[A-Z_][A-Z0-9_]*$/;
