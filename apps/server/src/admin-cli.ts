import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { inputMessage, LoginSchema, NewPasswordSchema, UserNameSchema } from '@api-users/contract';
import { connect, migrateToLatest } from '@api-users/db';
import { read } from 'read';
import type { z } from 'zod';
import { ConfigError, loadConfig } from './config.js';
import { AppError } from './core/errors.js';
import { createPasswordHasher } from './modules/auth/passwords.js';
import { CommandError, createAdmin, promoteAdmin } from './modules/users/commands.js';

const USAGE = `Usage: pnpm admin create --login LOGIN [--name "Full name"]
       pnpm admin promote --login LOGIN

create   makes a new admin account; the password is asked for without echo, or read from the first line
         of standard input when it is not a terminal
promote  makes an existing account an enabled admin
Both work on the database DATABASE_URL names (applying pending migrations first) and are audited.`;

/** A setting or argument refused: its message alone, without a stack. */
function parsed<T extends z.ZodType>(schema: T, value: unknown, what: string): z.output<T> {
  const result = schema.safeParse(value, { error: inputMessage });
  if (!result.success) throw new CommandError(`${what}: ${result.error.issues.map((i) => i.message).join('; ')}`);
  return result.data;
}

/** Asks twice on a terminal, without echo (a typo cannot be seen); takes the first line of a pipe. */
async function newPassword(): Promise<string> {
  let password = '';
  if (process.stdin.isTTY) {
    const ask = (prompt: string) => read({ prompt, silent: true, replace: '', output: process.stderr });
    password = await ask('Password: ');
    if ((await ask('Password again: ')) !== password) throw new CommandError('The two passwords differ');
  } else {
    // Ends with the input: an empty one leaves the password empty (and refused).
    for await (const line of createInterface({ input: process.stdin })) {
      password = line;
      break;
    }
  }
  return parsed(NewPasswordSchema, password, 'password');
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { login: { type: 'string' }, name: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  const [command, ...rest] = positionals;
  if (values.help || rest.length > 0 || (command !== 'create' && command !== 'promote') || !values.login) {
    console.error(USAGE);
    process.exit(values.help ? 0 : 2);
  }
  const login = parsed(LoginSchema, values.login, 'login');
  const { databaseUrl } = loadConfig({ ...process.env, NODE_ENV: 'development' });
  const { db } = connect(databaseUrl);
  try {
    await migrateToLatest(db);
    if (command === 'promote') {
      const id = await promoteAdmin(db, login, Date.now());
      console.log(`${login} (id ${id}) is now an enabled admin`);
      return;
    }
    const user_name = parsed(UserNameSchema, values.name ?? login, 'name');
    const password = await newPassword();
    const passwords = createPasswordHasher();
    try {
      const id = await createAdmin(db, passwords, { login, user_name, password }, Date.now());
      console.log(`Created the admin ${login} (id ${id})`);
    } finally {
      await passwords.close();
    }
  } finally {
    await db.destroy();
  }
}

main().catch((err: unknown) => {
  const message =
    err instanceof AppError
      ? (err.issues ?? []).map((issue) => `${issue.path}: ${issue.message}`).join('; ') || err.msg
      : err instanceof CommandError || err instanceof ConfigError
        ? err.message
        : `admin failed: ${err instanceof Error ? err.message : String(err)}`;
  console.error(message);
  process.exit(1);
});
