import { ENDPOINT_PARAMETERS, SERVED_ENDPOINTS } from './endpoint-parameters';
import { RawParam, validateParameters } from './parameter-schema';

const CREATE = ENDPOINT_PARAMETERS['POST /nodes/{node}/lxc'];
const REQUIRED = { node: 'pve1', vmid: '100', ostemplate: 'local:vztmpl/t.tar.zst' };

function createErrors(params: Record<string, RawParam>) {
  return validateParameters({ ...REQUIRED, ...params }, CREATE);
}

describe('hand-written endpoint parameter table', () => {
  it('describes every served endpoint, with its URI parameters required and nothing extra allowed', () => {
    expect(Object.keys(ENDPOINT_PARAMETERS).sort()).toEqual([...SERVED_ENDPOINTS].sort());
    for (const endpoint of SERVED_ENDPOINTS) {
      const schema = ENDPOINT_PARAMETERS[endpoint];
      expect(schema.additionalProperties).toBe(0);
      for (const [, name] of endpoint.matchAll(/\{(\w+)\}/g)) {
        const property = schema.properties[name];
        expect(property).toBeDefined();
        // `storage` in content/{volume} may also come inside the volume ID; vzdump's
        // `node` is optional (it only restricts the job to that node).
        if (
          !(name === 'storage' && endpoint.includes('{volume}')) &&
          !(name === 'node' && endpoint.endsWith('/vzdump'))
        )
          expect([endpoint, name, property.optional]).toEqual([endpoint, name, undefined]);
      }
    }
    expect(ENDPOINT_PARAMETERS['POST /access/ticket'].allowtoken).toBe(0);
    expect(ENDPOINT_PARAMETERS['GET /version'].allowtoken).toBe(1);
  });

  it('accepts the create and restore requests of the app and of the proxmox-api client', () => {
    expect(
      createErrors({
        hostname: 'app-1',
        password: 'secret1',
        'ssh-public-keys': 'ssh-ed25519 AAAA test@host\n',
        cores: '2',
        memory: '2048',
        swap: '512',
        rootfs: 'local-lvm:8',
        storage: 'local-lvm',
        net0: 'name=eth0,bridge=vmbr0,ip=dhcp,firewall=1,tag=20',
        features: 'nesting=1,keyctl=1,mount=nfs;cifs',
        unprivileged: '1',
        start: '1',
        onboot: '0',
        pool: 'apps',
        tags: 'proximity;web',
        description: 'first line\nsecond line',
        nameserver: '1.1.1.1 9.9.9.9',
        searchdomain: 'example.com',
        timezone: 'Europe/Paris',
        ostype: 'debian',
        arch: 'amd64',
        mp0: 'local-lvm:4,mp=/data,backup=1',
        mp9: '/srv/share,mp=/mnt/share,ro=1',
        'ha-managed': '0',
      }),
    ).toEqual({});
    expect(
      createErrors({
        ostemplate: 'local:backup/vzdump-lxc-100-2024_01_01-00_00_00.tar.zst',
        restore: '1',
        force: '1',
        unique: '1',
        'ignore-unpack-errors': '1',
        bwlimit: '10240',
        storage: 'local-lvm',
      }),
    ).toEqual({});
  });

  it('keeps the constraints our reference states', () => {
    expect(createErrors({ password: 'abcd', memory: '8', vmid: '99' })).toEqual({
      password: 'value must be at least 5 characters long',
      memory: 'value must have a minimum value of 16',
      vmid: 'invalid format - value does not look like a valid VM ID\n',
    });
    expect(createErrors({ unique: '1' })).toEqual({
      restore: "missing property required by 'unique'",
    });
    expect(createErrors({ mp256: 'local-lvm:4,mp=/data', color: 'red' })).toEqual({
      mp256:
        'property is not defined in schema and the schema does not allow additional properties',
      color:
        'property is not defined in schema and the schema does not allow additional properties',
    });
    expect(createErrors({ mp0: 'local-lvm:4' })).toEqual({
      mp0: 'invalid format - format error\nmp0.mp: property is missing and it is not optional\n',
    });

    const snapshot = ENDPOINT_PARAMETERS['POST /nodes/{node}/lxc/{vmid}/snapshot'];
    const snap = (snapname: string) =>
      validateParameters({ node: 'pve1', vmid: '101', snapname }, snapshot);
    expect(snap('before-upgrade_1')).toEqual({});
    expect(snap('1st')).toEqual({
      snapname: "invalid format - invalid configuration ID '1st'\n",
    });
    expect(snap('x'.repeat(41))).toEqual({ snapname: 'value may only be 40 characters long' });
  });

  it('checks the other endpoints the simulator serves', () => {
    const vzdump = ENDPOINT_PARAMETERS['POST /nodes/{node}/vzdump'];
    expect(
      validateParameters(
        {
          node: 'pve1',
          vmid: '101,102',
          storage: 'local',
          mode: 'snapshot',
          compress: 'zstd',
          'prune-backups': 'keep-last=3',
          'notes-template': '{{guestname}}',
          protected: '1',
        },
        vzdump,
      ),
    ).toEqual({});
    expect(validateParameters({ node: 'pve1', vmid: '101', mode: 'pause' }, vzdump)).toEqual({
      mode: "value 'pause' does not have a value in the enumeration 'snapshot, suspend, stop'",
    });
    const config = ENDPOINT_PARAMETERS['PUT /nodes/{node}/lxc/{vmid}/config'];
    expect(
      validateParameters(
        { node: 'pve1', vmid: '101', delete: 'mp0,tags', digest: 'a'.repeat(40), cores: '4' },
        config,
      ),
    ).toEqual({});
    expect(validateParameters({ node: 'pve1', vmid: '101', ostemplate: 'x' }, config)).toEqual({
      ostemplate:
        'property is not defined in schema and the schema does not allow additional properties',
    });
    const log = ENDPOINT_PARAMETERS['GET /nodes/{node}/tasks/{upid}/log'];
    expect(validateParameters({ node: 'pve1', upid: 'UPID:x', limit: '-1' }, log)).toEqual({
      limit: 'value must have a minimum value of 0',
    });
  });
});
