import pino from 'pino';
import { Writable } from 'node:stream';
import { REDACT_PATHS, REDACTED } from './redaction';

function capture(): { logger: pino.Logger; text: () => string } {
  let out = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      out += chunk.toString();
      done();
    },
  });
  const logger = pino({ redact: { paths: REDACT_PATHS, censor: REDACTED } }, stream);
  return { logger, text: () => out };
}

describe('log redaction', () => {
  it('censors secret fields at the top level and nested two levels deep', () => {
    const { logger, text } = capture();
    logger.info(
      {
        password: 'p1-secret',
        body: { refreshToken: 'r2-secret' },
        host: { creds: { tokenSecret: 't3-secret' } },
      },
      'x',
    );
    logger.info(
      { req: { headers: { authorization: 'Bearer a4-secret', cookie: 'c5-secret' } } },
      'y',
    );
    for (const secret of ['p1-secret', 'r2-secret', 't3-secret', 'a4-secret', 'c5-secret']) {
      expect(text()).not.toContain(secret);
    }
    expect(text()).toContain(REDACTED);
  });
});
