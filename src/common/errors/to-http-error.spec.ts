import {
  BadRequestException,
  InternalServerErrorException,
  NotFoundException,
} from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { Keyring } from '../../crypto/keyring';
import { DomainError, ErrorCode } from './domain-error';
import { RequestBodyError } from './request-body-error';
import { toHttpError } from './to-http-error';

describe('toHttpError', () => {
  it('maps every domain error code to its status with our own message', () => {
    const expected: Record<ErrorCode, number> = {
      [ErrorCode.InvalidInput]: 400,
      [ErrorCode.Unauthenticated]: 401,
      [ErrorCode.Forbidden]: 403,
      [ErrorCode.NotFound]: 404,
      [ErrorCode.Conflict]: 409,
      [ErrorCode.RateLimited]: 429,
      [ErrorCode.UpstreamFailed]: 502,
      [ErrorCode.Unavailable]: 503,
    };
    for (const [code, status] of Object.entries(expected)) {
      expect(toHttpError(new DomainError(code as ErrorCode, 'ours'))).toMatchObject({
        status,
        message: 'ours',
        unexpected: false,
      });
    }
  });

  it('words a decryption failure generically: no key id, no ciphertext', () => {
    const foreign = new Keyring(randomBytes(32));
    const sealed = foreign.encrypt('secret');
    let failure: unknown;
    try {
      new Keyring(randomBytes(32)).decrypt(sealed);
    } catch (err) {
      failure = err;
    }
    expect((failure as Error).message).toContain(foreign.currentKeyId);
    expect(toHttpError(failure)).toEqual({
      status: 500,
      message: 'A stored secret cannot be decrypted',
      unexpected: true,
    });
  });

  it('keeps client-error texts of Nest exceptions but hides server-error texts', () => {
    expect(toHttpError(new NotFoundException('Cannot GET /x'))).toMatchObject({
      status: 404,
      message: 'Cannot GET /x',
    });
    expect(toHttpError(new BadRequestException())).toMatchObject({ status: 400 });
    expect(toHttpError(new InternalServerErrorException('db password is hunter2'))).toEqual({
      status: 500,
      message: 'Internal server error',
      unexpected: true,
    });
  });

  it('answers anything else with a generic 500', () => {
    for (const thrown of [
      new Error('ECONNREFUSED 10.0.0.5:5432'),
      'a string',
      null,
      { status: 500 },
    ]) {
      expect(toHttpError(thrown)).toEqual({
        status: 500,
        message: 'Internal server error',
        unexpected: true,
      });
    }
  });

  it('answers request-body errors with their own status and wording', () => {
    expect(toHttpError(new RequestBodyError(413, 'Request body is too large'))).toEqual({
      status: 413,
      message: 'Request body is too large',
      unexpected: false,
    });
  });
});
