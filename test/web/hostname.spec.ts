import { hostnameProblem } from '../../web/src/lib/hostname';

/** The deploy form's check must agree with the API's rule, or it blocks or lets through the wrong names. */
describe('hostnameProblem (the deploy form’s RFC 1123 check)', () => {
  it.each(['a', 'wiki', 'my-app-2', '0', 'a'.repeat(63)])('accepts %s', (name) => {
    expect(hostnameProblem(name)).toBeNull();
  });

  it.each([
    ['', 'Choose a hostname.'],
    ['a'.repeat(64), 'At most 63 characters.'],
    ['Wiki', 'Lowercase letters only.'],
    ['-wiki', 'It cannot start or end with a hyphen.'],
    ['wiki-', 'It cannot start or end with a hyphen.'],
    ['my_app', 'Only letters a–z, digits and hyphens.'],
    ['my.app', 'Only letters a–z, digits and hyphens.'],
    ['café', 'Only letters a–z, digits and hyphens.'],
  ])('refuses %j: %s', (name, message) => {
    expect(hostnameProblem(name)).toBe(message);
  });
});
