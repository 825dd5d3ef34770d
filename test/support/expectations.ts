import type { Response } from 'supertest';

/** Asserts the error envelope of docs/api.md and returns its body. */
export function expectError(
  res: Response,
  status: number,
  detailFields?: string[],
): { message: string; details?: { field: string; message: string }[] } {
  expect({ status: res.status, body: res.body as unknown }).toMatchObject({
    status,
    body: { statusCode: status, error: expect.any(String), message: expect.any(String) },
  });
  const body = res.body as {
    requestId: string;
    message: string;
    details?: { field: string; message: string }[];
  };
  expect(body.requestId).toBe(res.headers['x-request-id']);
  expect(JSON.stringify(body)).not.toMatch(
    /\bat .+:\d+:\d+|\.[jt]s:\d|\bselect\b.+\bfrom\b|\binsert into\b|node_modules/i,
  );
  if (detailFields) {
    const fields = (body.details ?? []).map((d) => d.field);
    for (const field of detailFields) expect(fields).toContain(field);
  }
  return body;
}
