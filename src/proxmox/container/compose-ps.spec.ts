import { parseComposePs } from './compose-ps';

describe('parseComposePs', () => {
  it('reads one object per line (compose >= 2.21) and skips warnings', () => {
    const out =
      'WARN[0000] the attribute `version` is obsolete\n' +
      '{"Service":"web","State":"running","Name":"a-web-1"}\n' +
      '{"Service":"db","State":"exited"}\n';
    expect(parseComposePs(out)).toEqual([
      { service: 'web', state: 'running' },
      { service: 'db', state: 'exited' },
    ]);
  });

  it('reads the JSON array of older compose versions', () => {
    expect(parseComposePs('[{"Service":"web","State":"running"},{"Name":"x"}]\n')).toEqual([
      { service: 'web', state: 'running' },
    ]);
  });

  it('an empty or broken output has no services', () => {
    expect(parseComposePs('')).toEqual([]);
    expect(parseComposePs('{"Service":')).toEqual([]);
  });
});
