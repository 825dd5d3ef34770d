import { NftRuleset } from './nftables';

function run(ruleset: NftRuleset, line: string) {
  return ruleset.execute(line.split(' '));
}

describe('the nftables subset', () => {
  let ruleset: NftRuleset;

  beforeEach(() => {
    ruleset = new NftRuleset();
    expect(run(ruleset, 'add table ip proximity').status).toBe(0);
    expect(
      ruleset.execute([
        'add',
        'chain',
        'ip',
        'proximity',
        'prerouting',
        '{ type nat hook prerouting priority dstnat; policy accept; }',
      ]).status,
    ).toBe(0);
  });

  it('turns DNAT rules of a nat prerouting chain into forwards', () => {
    expect(
      run(
        ruleset,
        'add rule ip proximity prerouting tcp dport 30080 dnat to 127.77.0.9:80 comment "app-1"',
      ),
    ).toMatchObject({ status: 0, changed: true });
    expect(
      run(ruleset, 'add rule ip proximity prerouting udp dport 30053 dnat to 127.77.0.9').status,
    ).toBe(0);
    expect(ruleset.forwards()).toEqual([
      {
        publicPort: 30080,
        protocol: 'tcp',
        targetAddress: '127.77.0.9',
        targetPort: 80,
        comment: 'app-1',
      },
      {
        publicPort: 30053,
        protocol: 'udp',
        targetAddress: '127.77.0.9',
        targetPort: 30053,
        comment: null,
      },
    ]);
  });

  it('lists the table as text with handles, as nft -a does', () => {
    run(
      ruleset,
      'add rule ip proximity prerouting tcp dport 30080 dnat to 127.77.0.9:80 comment "app-1"',
    );
    expect(run(ruleset, '-a list table ip proximity').stdout).toBe(
      'table ip proximity { # handle 1\n' +
        '\tchain prerouting { # handle 1\n' +
        '\t\ttype nat hook prerouting priority dstnat; policy accept;\n' +
        '\t\ttcp dport 30080 dnat to 127.77.0.9:80 comment "app-1" # handle 2\n' +
        '\t}\n' +
        '}\n',
    );
  });

  it('refuses what nft refuses', () => {
    expect(run(ruleset, 'add rule ip proximity prerouting dnat to 127.77.0.9:80').stderr).toMatch(
      /^Error: transport protocol mapping is only valid after transport protocol match/,
    );
    expect(run(ruleset, 'add rule ip missing prerouting tcp dport 1 accept').stderr).toMatch(
      /^Error: Could not process rule: No such file or directory/,
    );
    expect(run(ruleset, 'create table ip proximity').stderr).toMatch(/File exists/);
    run(ruleset, 'add chain ip proximity filtered');
    expect(
      run(ruleset, 'add rule ip proximity filtered tcp dport 1 dnat to 127.0.0.2:1').stderr,
    ).toMatch(/Operation not supported/);
    expect(
      run(ruleset, 'add rule ip proximity prerouting tcp dport 99999 dnat to 127.0.0.2:1').status,
    ).toBe(1);
    expect(ruleset.forwards()).toEqual([]);
  });

  it('deletes rules by handle and flushes', () => {
    run(ruleset, 'add rule ip proximity prerouting tcp dport 30080 dnat to 127.77.0.9:80');
    expect(run(ruleset, 'delete rule ip proximity prerouting handle 2').status).toBe(0);
    expect(run(ruleset, 'delete rule ip proximity prerouting handle 2').status).toBe(1);
    run(ruleset, 'add rule ip proximity prerouting tcp dport 30081 dnat to 127.77.0.9:81');
    expect(run(ruleset, 'flush chain ip proximity prerouting').status).toBe(0);
    expect(ruleset.forwards()).toEqual([]);
    expect(run(ruleset, '--check delete table ip proximity').status).toBe(0);
    expect(run(ruleset, 'list tables').stdout).toBe('table ip proximity\n');
  });
});
