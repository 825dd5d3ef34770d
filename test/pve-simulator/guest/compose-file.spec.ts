import {
  ComposeError,
  interpolate,
  parseComposeFile,
  parseEnvFile,
  parseShortPort,
} from './compose-file';

describe('compose files', () => {
  it('reads the short port syntax', () => {
    expect(parseShortPort('80')).toEqual([
      { hostIp: null, published: null, target: 80, protocol: 'tcp' },
    ]);
    expect(parseShortPort('8080:80')).toEqual([
      { hostIp: null, published: { from: 8080, to: 8080 }, target: 80, protocol: 'tcp' },
    ]);
    expect(parseShortPort('127.0.0.1:5000:5000/udp')).toEqual([
      { hostIp: '127.0.0.1', published: { from: 5000, to: 5000 }, target: 5000, protocol: 'udp' },
    ]);
    expect(parseShortPort('9090-9091:8080-8081').map((p) => [p.published?.from, p.target])).toEqual(
      [
        [9090, 8080],
        [9091, 8081],
      ],
    );
    expect(() => parseShortPort('80:http')).toThrow(ComposeError);
  });

  it('reads services, long port syntax and interpolates variables', () => {
    const model = parseComposeFile(
      'name: demo\nservices:\n  web:\n    image: nginx\n    ports:\n      - "${PORT:-8000}:80"\n      - target: 443\n        published: "8443"\n  job:\n    build: .\n',
      { PORT: '9000' },
    );
    expect(model.name).toBe('demo');
    expect(model.services.map((s) => [s.name, s.image])).toEqual([
      ['web', 'nginx'],
      ['job', 'job:latest'],
    ]);
    expect(model.services[0].ports.map((p) => [p.published?.from, p.target])).toEqual([
      [9000, 80],
      [8443, 443],
    ]);
  });

  it('fails like compose on bad files', () => {
    expect(() => parseComposeFile('services:\n  web: {}\n', {})).toThrow(
      'service "web" has neither an image nor a build context specified',
    );
    expect(() => parseComposeFile('services: [\n', {})).toThrow(/^yaml: line/);
    expect(() => interpolate('${MISSING:?set it}', {}, [])).toThrow(
      'required variable MISSING is missing a value: set it',
    );
    const warnings: string[] = [];
    expect(interpolate('a${UNSET}b$$', {}, warnings)).toBe('ab$');
    expect(warnings).toEqual(['The "UNSET" variable is not set. Defaulting to a blank string.']);
  });

  it('reads env files', () => {
    expect(parseEnvFile('# c\nA=1\nexport B="two words"\nC=\'x\' \nD=3 # trailing\n')).toEqual({
      A: '1',
      B: 'two words',
      C: 'x',
      D: '3',
    });
  });
});
