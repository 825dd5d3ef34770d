/** Property names whose values are secrets wherever they appear in a log object. */
export const SECRET_KEYS = [
  'password',
  'currentPassword',
  'newPassword',
  'passwordHash',
  'token',
  'accessToken',
  'refreshToken',
  'tokenSecret',
  'secret',
  'jwtSecret',
  'encryptionKey',
  'privateKey',
  'sshPrivateKey',
  'sshPassword',
  'rootPassword',
  'authorization',
  'cookie',
];

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((key) => `*.${key}`),
  ...SECRET_KEYS.map((key) => `*.*.${key}`),
];

export const REDACTED = '[redacted]';
