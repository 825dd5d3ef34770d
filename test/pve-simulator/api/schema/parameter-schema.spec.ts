import { ENDPOINT_SCHEMAS, parsePropertyString, validateParameters } from './parameter-schema';

const CREATE = ENDPOINT_SCHEMAS['POST /nodes/{node}/lxc'];

function errorsFor(params: Record<string, string | string[]>) {
  return validateParameters(
    { node: 'pve1', vmid: '100', ostemplate: 'local:vztmpl/t.tar.zst', ...params },
    CREATE,
  );
}

describe('parameter validation with pve-common semantics', () => {
  it('accepts a valid create request', () => {
    expect(
      errorsFor({
        hostname: 'web-1',
        memory: '1024',
        net0: 'name=eth0,bridge=vmbr0,ip=10.0.0.5/24,gw=10.0.0.1',
        features: 'nesting=1,keyctl=1',
        tags: 'a;b',
        unprivileged: '1',
      }),
    ).toEqual({});
  });

  it('reports missing, unknown, typed and ranged values with Proxmox texts', () => {
    expect(validateParameters({ node: 'pve1' }, CREATE)).toEqual({
      vmid: 'property is missing and it is not optional',
      ostemplate: 'property is missing and it is not optional',
    });
    expect(errorsFor({ cores: '0', swap: '-1', start: 'yes', vmstate: '1' })).toEqual({
      cores: 'value must have a minimum value of 1',
      swap: 'value must have a minimum value of 0',
      start: "type check ('boolean') failed - got 'yes'",
      vmstate:
        'property is not defined in schema and the schema does not allow additional properties',
    });
    expect(errorsFor({ ostype: 'windows' })).toEqual({
      ostype:
        "value 'windows' does not have a value in the enumeration 'debian, devuan, ubuntu, centos, fedora, opensuse, archlinux, alpine, gentoo, nixos, unmanaged'",
    });
    expect(errorsFor({ hostname: ['a', 'b'] })).toEqual({
      hostname: "type check ('string') failed - got ARRAY",
    });
  });

  it('checks property strings key by key', () => {
    expect(errorsFor({ net0: 'name=eth0,ip=dhcpx' })).toEqual({
      net0: 'invalid format - format error\nnet0.ip: invalid format - value does not look like a valid ipv4 network configuration\n\n',
    });
    expect(errorsFor({ net0: 'name=eth0,color=red' })).toEqual({
      net0: 'invalid format - invalid key in comma-separated list property: color\n',
    });
    expect(errorsFor({ features: 'nesting=maybe' })).toEqual({
      features:
        "invalid format - format error\nfeatures.nesting: type check ('boolean') failed - got 'maybe'\n",
    });
    expect(
      parsePropertyString(
        CREATE.properties['rootfs'].format as never,
        'local-lvm:8,size=8G',
        'rootfs',
      ),
    ).toEqual({ volume: 'local-lvm:8', size: '8G' });
  });

  it('accepts indexed keys only within their range', () => {
    expect(errorsFor({ net31: 'name=eth31' })).toEqual({});
    expect(errorsFor({ net32: 'name=eth32' })).toEqual({
      net32:
        'property is not defined in schema and the schema does not allow additional properties',
    });
  });
});
