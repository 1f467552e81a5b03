import { describe, expect, it } from 'vitest';
import { inputMessage, type OperationName, operations } from '../src/index.js';

/**
 * The input rules of the operation table, checked on the schemas themselves: every transport validates with
 * them and nothing else (apps/server/test/bad-input.test.ts shows a refusal's way onto the wire, once per
 * kind). REST sends path and query values as strings, tRPC and bodies as JSON values: both are here.
 */
const good = { user_name: 'Valid Name', login: 'valid.login', password: 'long enough password' };
const passwords = { current_password: 'a fine long password', new_password: 'a brand new passphrase' };

/** [operation, input, the paths of the issues it must be refused with] */
const refused: [OperationName, unknown, string[]][] = [
  ['register', { login: 'only.login' }, ['user_name', 'password']],
  ['register', { ...good, password: 'short' }, ['password']],
  ['login', { login: 'valid.login', password: 'p'.repeat(129) }, ['password']],
  ['register', { ...good, login: 12345 }, ['login']],
  ['register', { ...good, login: 'zero\u200bwidth' }, ['login']],
  ['register', { ...good, login: "x' OR '1'='1" }, ['login']],
  ['register', { ...good, login: 'b\u0431b' }, ['login']],
  ['register', { ...good, user_name: 'bell\u0007' }, ['user_name']],
  ['register', { ...good, user_name: '\u202eevil' }, ['user_name']],
  ['register', { ...good, user_name: '   ' }, ['user_name']],
  ['register', { ...good, user_name: '\ud800x' }, ['user_name']],
  ['register', { ...good, user_name: 'x\udc00' }, ['user_name']],
  ['register', { ...good, password: 'long enough \udfff password' }, ['password']],
  ['login', { login: 'valid.login\ud83d', password: 'a fine long password' }, ['login']],
  ['register', { ...good, is_admin: true }, ['']],
  ['register', { ...good, user_role: 1, admin: true }, ['']],
  ['register', { ...good, user_role: 3 }, ['user_role']],
  ['register', { ...good, user_role: '2' }, ['user_role']],
  ['login', [good], ['']],
  ['refresh', { extra: 1 }, ['']],
  ['userById', { id: 'abc' }, ['id']],
  ['userById', { id: '0' }, ['id']],
  ['userById', { id: '-1' }, ['id']],
  ['userById', { id: '99999999999999999999' }, ['id']],
  ['userById', { id: 2_147_483_648 }, ['id']],
  ['userById', { id: 1.5 }, ['id']],
  ['listUsers', { limit: '0' }, ['limit']],
  ['listUsers', { limit: '1000' }, ['limit']],
  ['listUsers', { limit: ['1', '2'] }, ['limit']],
  ['listUsers', { cursor: 'abc' }, ['cursor']],
  // Past the ids' range: PostgreSQL refuses to compare an integer column with it (a 500 the fuzz test found).
  ['listAudit', { cursor: '2147483648' }, ['cursor']],
  ['listUsers', { offset: '10' }, ['']],
  ['listUsers', { q: ' ' }, ['q']],
  ['listUsers', { q: 'x'.repeat(101) }, ['q']],
  ['listUsers', { role: '3' }, ['role']],
  ['listUsers', { disabled: 'yes' }, ['disabled']],
  ['listAudit', { type: 'everything' }, ['type']],
  ['listMySessions', { cursor: '1 OR 1' }, ['cursor']],
  ['endMySession', { sid: '../../users' }, ['sid']],
  ['updateUser', { id: 2, is_admin: true }, ['']],
  ['updateUser', { id: '2', disabled: 'true' }, ['disabled']],
  ['updateUser', { id: '2', user_name: 'bell\u0007' }, ['user_name']],
  ['updateMe', {}, ['user_name']],
  ['updateMe', { user_name: 'x', user_role: 1 }, ['']],
  ['changePassword', {}, ['current_password', 'new_password']],
  ['changePassword', { ...passwords, new_password: 'long enough \ud800 password' }, ['new_password']],
  ['setUserPassword', { id: '2', new_password: 'short' }, ['new_password']],
  ['introspect', { token: '' }, ['token']],
];

/** [operation, input as sent, the input the handler gets] */
const accepted: [OperationName, unknown, unknown][] = [
  ['login', { login: '  ＢＯＢ  ', password: 'x' }, { login: 'bob', password: 'x' }],
  ['register', { ...good, user_name: '  Ådne  ' }, { ...good, user_name: 'Ådne' }],
  ['userById', { id: '2147483647' }, { id: 2_147_483_647 }],
  ['listUsers', undefined, { limit: 20 }],
  [
    'listUsers',
    { limit: '5', cursor: null, disabled: 'false', q: ' ÅDNE ' },
    { limit: 5, cursor: null, disabled: false, q: 'ådne' },
  ],
  ['refresh', undefined, undefined],
  ['refresh', {}, {}],
];

describe('operation inputs', () => {
  it.each(refused)('%s refuses %j at %j', (name, input, paths) => {
    const result = operations[name].input.safeParse(input);
    expect(result.error?.issues.map((issue) => issue.path.join('.'))).toEqual(paths);
    // Every issue a user may see has a message.
    for (const issue of result.error?.issues ?? []) expect(issue.message).not.toBe('');
  });

  it.each(accepted)('%s takes %j as %j', (name, input, parsed) => {
    expect(operations[name].input.parse(input)).toEqual(parsed);
  });
});

/** Zod's own wording, written for developers: none of it may reach a user. */
const ZOD_DEFAULTS =
  /Too small|Too big|Invalid input|Invalid option|Unrecognized key|expected \w+, received|Invalid (string|email|url)/;
const BAD_VALUES: unknown[] = [undefined, null, '', 'x', 'x'.repeat(300), 12, -5, 1.5, true, {}, [], [''], '\u0000'];

describe('the messages of refused input', () => {
  it('are sentences written for users, never zod’s defaults, for every field of every operation', () => {
    const messages = new Set<string>();
    for (const [name, op] of Object.entries(operations)) {
      const parse = (input: unknown) => op.input.safeParse(input, { error: inputMessage });
      const shape = (op.input as { shape?: Record<string, unknown> }).shape ?? {};
      const inputs = [
        'not an object',
        { unexpected_field: 1 },
        ...Object.keys(shape).flatMap((field) => BAD_VALUES.map((value) => ({ [field]: value }))),
      ];
      for (const input of inputs) {
        const result = parse(input);
        for (const issue of result.error?.issues ?? [])
          messages.add(`${name}.${issue.path.join('.')}: ${issue.message}`);
      }
    }
    expect(messages.size).toBeGreaterThan(100);
    expect([...messages].filter((message) => ZOD_DEFAULTS.test(message))).toEqual([]);
  });

  it('say what is wrong: required, a length, a kind, a field that does not belong', () => {
    const issues = (name: OperationName, input: unknown) =>
      operations[name].input
        .safeParse(input, { error: inputMessage })
        .error?.issues.map((i) => [i.path.join('.'), i.message]);
    expect(issues('register', { login: 'ab', password: 12, user_role: 3, admin: true })).toEqual([
      ['user_name', 'Required'],
      ['login', 'At least 3 characters'],
      ['password', 'Must be text'],
      ['user_role', 'Must be 1 (admin) or 2 (user)'],
      ['', 'Not a field here: admin (leave it out)'],
    ]);
  });
});
