import type { EndpointSchema, PropertySchema } from './parameter-schema';

/**
 * The request parameters of every endpoint the simulator serves, written by
 * hand from the Proxmox VE API documentation and what the real API accepts. The helpers below build the `PropertySchema` objects that
 * parameter-schema.ts validates with pve-common's semantics.
 *
 * Conventions of this table:
 * - every parameter is optional unless `required: true` is given (sub-keys of
 *   property strings too);
 * - a parameter that repeats with an index (`net0` … `net31`) is declared once
 *   as `net[n]`; the index ranges are in parameter-schema.ts (INDEXED_KEYS);
 * - named formats (`fmt('pve-vmid')`) are checked by named-formats.ts; a `-list`
 *   suffix checks each item of a comma/semicolon/space separated list;
 * - no endpoint allows parameters beyond the ones listed.
 */

interface Common {
  required?: boolean;
  default?: string | number;
  /** Another parameter that must be present when this one is. */
  requires?: string;
}

interface Text extends Common {
  minLength?: number;
  maxLength?: number;
  pattern?: string;
}

interface Range extends Common {
  min?: number;
  max?: number;
}

function base(type: PropertySchema['type'], options: Common): PropertySchema {
  const schema: PropertySchema = { type };
  if (!options.required) schema.optional = 1;
  if (options.default !== undefined) schema.default = options.default;
  if (options.requires !== undefined) schema.requires = options.requires;
  return schema;
}

function str(options: Text = {}): PropertySchema {
  const schema = base('string', options);
  if (options.minLength !== undefined) schema.minLength = options.minLength;
  if (options.maxLength !== undefined) schema.maxLength = options.maxLength;
  if (options.pattern !== undefined) schema.pattern = options.pattern;
  return schema;
}

function ranged(type: 'integer' | 'number', options: Range): PropertySchema {
  const schema = base(type, options);
  if (options.min !== undefined) schema.minimum = options.min;
  if (options.max !== undefined) schema.maximum = options.max;
  return schema;
}

function int(options: Range = {}): PropertySchema {
  return ranged('integer', options);
}

function num(options: Range = {}): PropertySchema {
  return ranged('number', options);
}

function bool(options: Common = {}): PropertySchema {
  return base('boolean', options);
}

function enumOf(values: readonly string[], options: Common = {}): PropertySchema {
  return { ...base('string', options), enum: [...values] };
}

/** A string checked by a named format of named-formats.ts. */
function fmt(format: string, options: Text = {}): PropertySchema {
  return { ...str(options), format };
}

/** An integer that is also a VMID (`pve-vmid`: 100 … 999999999). */
function vmidParam(options: Common = {}): PropertySchema {
  return { ...int({ ...options, min: 100, max: 999_999_999 }), format: 'pve-vmid' };
}

/** A `key=value,…` property string; `defaultKey` names the key a bare value belongs to. */
function propertyString(
  keys: Record<string, PropertySchema>,
  options: Common & { defaultKey?: string } = {},
): PropertySchema {
  const format: Record<string, PropertySchema> = {};
  for (const [key, schema] of Object.entries(keys))
    format[key] = key === options.defaultKey ? { ...schema, default_key: 1 } : schema;
  return { ...base('string', options), format };
}

function arrayOf(items: PropertySchema, options: Common = {}): PropertySchema {
  return { ...base('array', options), items };
}

interface EndpointOptions {
  /** Callable with an API token (true unless said otherwise). */
  token?: boolean;
  /** pveproxy forwards the call to the node named by this parameter. */
  proxyTo?: 'node';
  /** Runs in the privileged daemon (pvedaemon) rather than pveproxy. */
  privileged?: boolean;
}

function endpoint(
  properties: Record<string, PropertySchema>,
  options: EndpointOptions = {},
): EndpointSchema {
  return {
    allowtoken: options.token === false ? 0 : 1,
    proxyto: options.proxyTo ?? null,
    protected: options.privileged ? 1 : 0,
    additionalProperties: 0,
    properties,
  };
}

/* ---------------------------------------------------------------- shared values */

const NODE = fmt('pve-node', { required: true });
const VMID = vmidParam({ required: true });
const STORAGE_ID = fmt('pve-storage-id');
const STORAGE_REQUIRED = fmt('pve-storage-id', { required: true });
const SNAPSHOT_NAME = fmt('pve-configid', { maxLength: 40 });
const UPID = str({ required: true });

const OS_TYPES = [
  'debian',
  'devuan',
  'ubuntu',
  'centos',
  'fedora',
  'opensuse',
  'archlinux',
  'alpine',
  'gentoo',
  'nixos',
  'unmanaged',
] as const;

const ARCHITECTURES = ['amd64', 'i386', 'arm64', 'armhf', 'riscv32', 'riscv64'] as const;

const LOCK_NAMES = [
  'backup',
  'create',
  'destroyed',
  'disk',
  'fstrim',
  'migrate',
  'mounted',
  'rollback',
  'snapshot',
  'snapshot-delete',
] as const;

/** Text without control characters (tabs allowed). */
const PRINTABLE = '[^\\x00-\\x08\\x0a-\\x1f\\x7f]';
/** One `NAME=value` of an OCI container's environment (entries are NUL-separated). */
const ENV_ENTRY = `\\w+=${PRINTABLE}*`;

const MOUNT_OPTION = '(?:noatime|lazytime|nodev|noexec|nosuid|discard)';

/* ------------------------------------------------------- container property strings */

/** `net[n]`: `name=eth0,bridge=vmbr0,ip=dhcp,…` */
const NETWORK = propertyString({
  name: str({ required: true, pattern: '[-_.\\w\\d]+' }),
  bridge: str({ pattern: '[-_.\\w\\d]+' }),
  hwaddr: fmt('mac-addr'),
  mtu: int({ min: 64, max: 65535 }),
  ip: fmt('pve-ipv4-config'),
  gw: fmt('ipv4'),
  ip6: fmt('pve-ipv6-config'),
  gw6: fmt('ipv6'),
  firewall: bool(),
  tag: int({ min: 1, max: 4094 }),
  trunks: str({ pattern: '\\d+(?:;\\d+)*' }),
  rate: num(),
  type: enumOf(['veth']),
  link_down: bool(),
  'host-managed': bool(),
});

/** Keys every volume mount (rootfs and mpN) takes after the volume itself. */
const VOLUME_MOUNT_OPTIONS: Record<string, PropertySchema> = {
  volume: fmt('pve-lxc-mp-string', { required: true }),
  size: fmt('disk-size'),
  acl: bool(),
  ro: bool(),
  mountoptions: str({ pattern: `${MOUNT_OPTION}(?:;${MOUNT_OPTION})*` }),
  quota: bool(),
  replicate: bool({ default: 1 }),
  shared: bool({ default: 0 }),
};

/** `rootfs`: `local-lvm:8,size=8G` (a bare value is the volume). */
const ROOT_FS = propertyString(VOLUME_MOUNT_OPTIONS, { defaultKey: 'volume' });

/** `mp[n]`: a volume mount plus the path inside the container. */
const MOUNT_POINT = propertyString(
  {
    ...VOLUME_MOUNT_OPTIONS,
    mp: fmt('pve-lxc-mp-string', { required: true }),
    backup: bool(),
    keepattrs: bool({ default: 0 }),
  },
  { defaultKey: 'volume' },
);

/** `features`: `nesting=1,keyctl=1,mount=nfs;cifs,…` */
const FEATURES = propertyString({
  nesting: bool({ default: 0 }),
  keyctl: bool({ default: 0 }),
  fuse: bool({ default: 0 }),
  mount: str({ pattern: '[a-zA-Z0-9_; ]+' }),
  mknod: bool({ default: 0 }),
  force_rw_sys: bool({ default: 0 }),
});

/** `dev[n]`: a device passed through (`/dev/ttyUSB0,mode=0660`). */
const DEVICE = propertyString(
  {
    path: fmt('pve-lxc-dev-string'),
    mode: str({ pattern: '0[0-7]{3}' }),
    uid: int({ min: 0 }),
    gid: int({ min: 0 }),
    'deny-write': bool({ default: 0 }),
  },
  { defaultKey: 'path' },
);

/** `unused[n]`: a volume detached from the container. */
const UNUSED_VOLUME = propertyString(
  { volume: fmt('pve-volume-id', { required: true }) },
  { defaultKey: 'volume' },
);

/**
 * The options of a container's configuration: what PUT …/config takes and
 * what create/restore accept besides their own parameters. Their types also
 * decide how GET …/config prints values (numbers for integers and booleans).
 */
const CONTAINER_OPTIONS: Record<string, PropertySchema> = {
  arch: enumOf(ARCHITECTURES, { default: 'amd64' }),
  cmode: enumOf(['shell', 'console', 'tty'], { default: 'tty' }),
  console: bool({ default: 1 }),
  cores: int({ min: 1, max: 8192 }),
  cpulimit: num({ min: 0, max: 8192, default: 0 }),
  cpuunits: int({ min: 0, max: 500_000 }),
  debug: bool({ default: 0 }),
  description: str({ maxLength: 8192 }),
  entrypoint: str({ default: '/sbin/init', pattern: `${PRINTABLE}+` }),
  env: str({ pattern: `${ENV_ENTRY}(?:\\0${ENV_ENTRY})*` }),
  features: FEATURES,
  hookscript: fmt('pve-volume-id'),
  hostname: fmt('dns-name', { maxLength: 255 }),
  lock: enumOf(LOCK_NAMES),
  memory: int({ min: 16, default: 512 }),
  nameserver: fmt('lxc-ip-with-ll-iface-list'),
  onboot: bool({ default: 0 }),
  ostype: enumOf(OS_TYPES),
  protection: bool({ default: 0 }),
  rootfs: ROOT_FS,
  searchdomain: fmt('dns-name-list'),
  startup: fmt('pve-startup-order'),
  swap: int({ min: 0, default: 512 }),
  tags: fmt('pve-tag-list'),
  template: bool({ default: 0 }),
  timezone: fmt('pve-ct-timezone'),
  tty: int({ min: 0, max: 6, default: 2 }),
  unprivileged: bool({ default: 0 }),
  'net[n]': NETWORK,
  'mp[n]': MOUNT_POINT,
  'dev[n]': DEVICE,
  'unused[n]': UNUSED_VOLUME,
};

/* -------------------------------------------------------------------- vzdump */

const VZDUMP: Record<string, PropertySchema> = {
  node: fmt('pve-node'),
  vmid: fmt('pve-vmid-list'),
  all: bool({ default: 0 }),
  exclude: fmt('pve-vmid-list'),
  pool: str(),
  stop: bool({ default: 0 }),
  stdout: bool(),
  storage: STORAGE_ID,
  dumpdir: str(),
  tmpdir: str(),
  script: str(),
  mode: enumOf(['snapshot', 'suspend', 'stop'], { default: 'snapshot' }),
  compress: enumOf(['0', '1', 'gzip', 'lzo', 'zstd'], { default: '0' }),
  pigz: int({ default: 0 }),
  zstd: int({ default: 1 }),
  stdexcludes: bool({ default: 1 }),
  'exclude-path': arrayOf(str()),
  quiet: bool({ default: 0 }),
  bwlimit: int({ min: 0, default: 0 }),
  ionice: int({ min: 0, max: 8, default: 7 }),
  lockwait: int({ min: 0, default: 180 }),
  stopwait: int({ min: 0, default: 10 }),
  remove: bool({ default: 1 }),
  'prune-backups': fmt('prune-backups'),
  maxfiles: int({ min: 1 }),
  'notes-template': str({ maxLength: 1024, requires: 'storage' }),
  protected: bool({ requires: 'storage' }),
  performance: fmt('backup-performance'),
  fleecing: fmt('backup-fleecing'),
  'pbs-change-detection-mode': enumOf(['legacy', 'data', 'metadata']),
  mailto: fmt('email-or-username-list'),
  mailnotification: enumOf(['always', 'failure'], { default: 'always' }),
  'notification-mode': enumOf(['auto', 'legacy-sendmail', 'notification-system'], {
    default: 'auto',
  }),
  'job-id': str({ maxLength: 50, pattern: '\\S+' }),
};

/* ------------------------------------------------------------------ endpoints */

export const SERVED_ENDPOINTS = [
  'GET /version',
  'GET /access/ticket',
  'POST /access/ticket',
  'GET /nodes',
  'GET /nodes/{node}',
  'GET /nodes/{node}/status',
  'GET /cluster/resources',
  'GET /cluster/status',
  'GET /cluster/nextid',
  'GET /nodes/{node}/lxc',
  'POST /nodes/{node}/lxc',
  'GET /nodes/{node}/lxc/{vmid}',
  'DELETE /nodes/{node}/lxc/{vmid}',
  'GET /nodes/{node}/lxc/{vmid}/config',
  'PUT /nodes/{node}/lxc/{vmid}/config',
  'GET /nodes/{node}/lxc/{vmid}/status',
  'GET /nodes/{node}/lxc/{vmid}/status/current',
  'POST /nodes/{node}/lxc/{vmid}/status/start',
  'POST /nodes/{node}/lxc/{vmid}/status/stop',
  'POST /nodes/{node}/lxc/{vmid}/status/shutdown',
  'POST /nodes/{node}/lxc/{vmid}/status/reboot',
  'GET /nodes/{node}/lxc/{vmid}/snapshot',
  'POST /nodes/{node}/lxc/{vmid}/snapshot',
  'GET /nodes/{node}/lxc/{vmid}/snapshot/{snapname}',
  'DELETE /nodes/{node}/lxc/{vmid}/snapshot/{snapname}',
  'POST /nodes/{node}/lxc/{vmid}/snapshot/{snapname}/rollback',
  'GET /nodes/{node}/lxc/{vmid}/snapshot/{snapname}/config',
  'PUT /nodes/{node}/lxc/{vmid}/snapshot/{snapname}/config',
  'POST /nodes/{node}/lxc/{vmid}/clone',
  'GET /nodes/{node}/lxc/{vmid}/interfaces',
  'GET /nodes/{node}/lxc/{vmid}/pending',
  'GET /nodes/{node}/lxc/{vmid}/rrddata',
  'GET /nodes/{node}/storage',
  'GET /nodes/{node}/storage/{storage}',
  'GET /nodes/{node}/storage/{storage}/status',
  'GET /nodes/{node}/storage/{storage}/content',
  'GET /nodes/{node}/storage/{storage}/content/{volume}',
  'DELETE /nodes/{node}/storage/{storage}/content/{volume}',
  'POST /nodes/{node}/vzdump',
  'GET /nodes/{node}/tasks',
  'GET /nodes/{node}/tasks/{upid}',
  'DELETE /nodes/{node}/tasks/{upid}',
  'GET /nodes/{node}/tasks/{upid}/status',
  'GET /nodes/{node}/tasks/{upid}/log',
] as const;

export type ServedEndpoint = (typeof SERVED_ENDPOINTS)[number];

const onNode = { proxyTo: 'node' } as const;
const onNodePrivileged = { proxyTo: 'node', privileged: true } as const;
const guest = { node: NODE, vmid: VMID };
const snapshot = { ...guest, snapname: fmt('pve-configid', { required: true, maxLength: 40 }) };
const task = { node: NODE, upid: UPID };

/** Parameters by `METHOD /path template`, URI parameters included. */
export const ENDPOINT_PARAMETERS: Readonly<Record<ServedEndpoint, EndpointSchema>> = {
  'GET /version': endpoint({}),

  'GET /access/ticket': endpoint({}),
  'POST /access/ticket': endpoint(
    {
      username: str({ required: true, maxLength: 64 }),
      password: str({ required: true }),
      realm: fmt('pve-realm', { maxLength: 32 }),
      otp: str(),
      'tfa-challenge': str(),
      'new-format': bool({ default: 1 }),
      path: str({ maxLength: 64, requires: 'privs' }),
      privs: fmt('pve-priv-list', { maxLength: 64, requires: 'path' }),
    },
    { privileged: true, token: false },
  ),

  'GET /nodes': endpoint({}),
  'GET /nodes/{node}': endpoint({ node: NODE }),
  'GET /nodes/{node}/status': endpoint({ node: NODE }, onNode),

  'GET /cluster/resources': endpoint({ type: enumOf(['vm', 'storage', 'node', 'sdn']) }),
  'GET /cluster/status': endpoint({}),
  'GET /cluster/nextid': endpoint({ vmid: vmidParam() }),

  'GET /nodes/{node}/lxc': endpoint({ node: NODE }, onNodePrivileged),
  'POST /nodes/{node}/lxc': endpoint(
    {
      ...CONTAINER_OPTIONS,
      node: NODE,
      vmid: VMID,
      ostemplate: str({ required: true, maxLength: 255 }),
      password: str({ minLength: 5 }),
      'ssh-public-keys': str(),
      storage: fmt('pve-storage-id', { default: 'local' }),
      pool: fmt('pve-poolid'),
      start: bool({ default: 0 }),
      'ha-managed': bool({ default: 0 }),
      restore: bool(),
      force: bool(),
      unique: bool({ requires: 'restore' }),
      'ignore-unpack-errors': bool(),
      bwlimit: num({ min: 0 }),
    },
    onNodePrivileged,
  ),

  'GET /nodes/{node}/lxc/{vmid}': endpoint(guest, onNode),
  'DELETE /nodes/{node}/lxc/{vmid}': endpoint(
    {
      ...guest,
      force: bool({ default: 0 }),
      purge: bool({ default: 0 }),
      'destroy-unreferenced-disks': bool(),
    },
    onNodePrivileged,
  ),

  'GET /nodes/{node}/lxc/{vmid}/config': endpoint(
    { ...guest, snapshot: SNAPSHOT_NAME, current: bool({ default: 0 }) },
    onNode,
  ),
  'PUT /nodes/{node}/lxc/{vmid}/config': endpoint(
    {
      ...CONTAINER_OPTIONS,
      ...guest,
      delete: fmt('pve-configid-list'),
      revert: fmt('pve-configid-list'),
      digest: str({ maxLength: 40 }),
    },
    onNodePrivileged,
  ),

  'GET /nodes/{node}/lxc/{vmid}/status': endpoint(guest, onNode),
  'GET /nodes/{node}/lxc/{vmid}/status/current': endpoint(guest, onNodePrivileged),
  'POST /nodes/{node}/lxc/{vmid}/status/start': endpoint(
    { ...guest, skiplock: bool(), debug: bool({ default: 0 }) },
    onNodePrivileged,
  ),
  'POST /nodes/{node}/lxc/{vmid}/status/stop': endpoint(
    { ...guest, skiplock: bool(), 'overrule-shutdown': bool({ default: 0 }) },
    onNodePrivileged,
  ),
  'POST /nodes/{node}/lxc/{vmid}/status/shutdown': endpoint(
    { ...guest, timeout: int({ min: 0, default: 60 }), forceStop: bool({ default: 0 }) },
    onNodePrivileged,
  ),
  'POST /nodes/{node}/lxc/{vmid}/status/reboot': endpoint(
    { ...guest, timeout: int({ min: 0 }) },
    onNodePrivileged,
  ),

  'GET /nodes/{node}/lxc/{vmid}/snapshot': endpoint(guest, onNodePrivileged),
  'POST /nodes/{node}/lxc/{vmid}/snapshot': endpoint(
    { ...snapshot, description: str() },
    onNodePrivileged,
  ),
  'GET /nodes/{node}/lxc/{vmid}/snapshot/{snapname}': endpoint(snapshot),
  'DELETE /nodes/{node}/lxc/{vmid}/snapshot/{snapname}': endpoint(
    { ...snapshot, force: bool() },
    onNodePrivileged,
  ),
  'POST /nodes/{node}/lxc/{vmid}/snapshot/{snapname}/rollback': endpoint(
    { ...snapshot, start: bool({ default: 0 }) },
    onNodePrivileged,
  ),
  'GET /nodes/{node}/lxc/{vmid}/snapshot/{snapname}/config': endpoint(snapshot, onNode),
  'PUT /nodes/{node}/lxc/{vmid}/snapshot/{snapname}/config': endpoint(
    { ...snapshot, description: str() },
    onNodePrivileged,
  ),

  'POST /nodes/{node}/lxc/{vmid}/clone': endpoint(
    {
      ...guest,
      newid: vmidParam({ required: true }),
      hostname: fmt('dns-name'),
      description: str(),
      pool: fmt('pve-poolid'),
      snapname: SNAPSHOT_NAME,
      storage: STORAGE_ID,
      full: bool(),
      target: fmt('pve-node'),
      bwlimit: num({ min: 0 }),
    },
    onNodePrivileged,
  ),
  'GET /nodes/{node}/lxc/{vmid}/interfaces': endpoint(guest, onNodePrivileged),
  'GET /nodes/{node}/lxc/{vmid}/pending': endpoint(guest, onNode),
  'GET /nodes/{node}/lxc/{vmid}/rrddata': endpoint(
    {
      ...guest,
      timeframe: enumOf(['hour', 'day', 'week', 'month', 'year'], { required: true }),
      cf: enumOf(['AVERAGE', 'MAX']),
    },
    { privileged: true },
  ),

  'GET /nodes/{node}/storage': endpoint(
    {
      node: NODE,
      storage: STORAGE_ID,
      content: fmt('pve-storage-content-list'),
      enabled: bool({ default: 0 }),
      format: bool({ default: 0 }),
      target: fmt('pve-node'),
    },
    onNodePrivileged,
  ),
  'GET /nodes/{node}/storage/{storage}': endpoint({ node: NODE, storage: STORAGE_REQUIRED }),
  'GET /nodes/{node}/storage/{storage}/status': endpoint(
    { node: NODE, storage: STORAGE_REQUIRED },
    onNodePrivileged,
  ),
  'GET /nodes/{node}/storage/{storage}/content': endpoint(
    {
      node: NODE,
      storage: STORAGE_REQUIRED,
      content: fmt('pve-storage-content'),
      vmid: vmidParam(),
    },
    onNodePrivileged,
  ),
  'GET /nodes/{node}/storage/{storage}/content/{volume}': endpoint(
    { node: NODE, storage: STORAGE_ID, volume: str({ required: true }) },
    onNodePrivileged,
  ),
  'DELETE /nodes/{node}/storage/{storage}/content/{volume}': endpoint(
    {
      node: NODE,
      storage: STORAGE_ID,
      volume: str({ required: true }),
      delay: int({ min: 1, max: 30 }),
    },
    onNodePrivileged,
  ),

  'POST /nodes/{node}/vzdump': endpoint(VZDUMP, onNodePrivileged),

  'GET /nodes/{node}/tasks': endpoint(
    {
      node: NODE,
      start: int({ min: 0, default: 0 }),
      limit: int({ min: 0, default: 50 }),
      vmid: vmidParam(),
      typefilter: str(),
      userfilter: str(),
      statusfilter: fmt('pve-task-status-type-list'),
      source: enumOf(['archive', 'active', 'all'], { default: 'archive' }),
      errors: bool({ default: 0 }),
      since: int(),
      until: int(),
    },
    onNode,
  ),
  'GET /nodes/{node}/tasks/{upid}': endpoint(task),
  'DELETE /nodes/{node}/tasks/{upid}': endpoint(task, onNodePrivileged),
  'GET /nodes/{node}/tasks/{upid}/status': endpoint(task, onNodePrivileged),
  'GET /nodes/{node}/tasks/{upid}/log': endpoint(
    {
      ...task,
      start: int({ min: 0, default: 0 }),
      limit: int({ min: 0, default: 50 }),
      download: bool(),
    },
    onNodePrivileged,
  ),
};
