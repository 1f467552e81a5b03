import type { InputOf, OperationName, OutputOf } from '@api-users/contract';

/**
 * One example of each operation's input and answer, for the OpenAPI document: Swagger's "Try it out" and
 * generated clients' docs start from them. Typed by the contract, and parsed by its schemas in the OpenAPI test,
 * so an example cannot drift from what the API takes and answers.
 */

const AT = '2026-12-07T09:30:00.000Z';
const LATER = '2027-01-06T09:30:00.000Z';
const SESSION = '0b6c7a0e-4f4e-4c8e-9a43-2d5a4c1c7f10';
const PASSKEY = '5f0f7f1e-2b7a-4c1d-8e0a-9d3c6b2a1e44';
const WEBHOOK = '7d1e3a52-9c0b-4b8f-a6d2-1e5f4c3b2a10';
const PASSWORD = 'correct horse battery staple';
const ACCESS_TOKEN =
  'eyJhbGciOiJFZERTQSIsInR5cCI6ImF0K2p3dCIsImtpZCI6ImsxIn0.eyJzdWIiOiIyIiwidHlwZSI6ImFjY2VzcyJ9.c2lnbmF0dXJl';
const REFRESH_TOKEN = `${SESSION}.q8ZKsF1x9wM3bT0cR7yHnE2vJ4uL6pA5dG`;
const DEVICE_TOKEN = 'Zk3pQ9wL2xN8rT5vB1mC7h.aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5bC7dE9f';

const ada = {
  id_user: 2,
  user_name: 'Ada Lovelace',
  login: 'ada',
  user_role: 2 as const,
  created_at: AT,
  disabled: false,
  email_verified: true,
};
const pair = {
  access_token: ACCESS_TOKEN,
  refresh_token: REFRESH_TOKEN,
  token_type: 'Bearer' as const,
  expires_in: 900,
};
const signedIn = { ...pair, device_token: DEVICE_TOKEN };
const endpoint = {
  id: WEBHOOK,
  url: 'https://hooks.example.com/api-users',
  event_types: ['user.created', 'user.deleted'],
  enabled: true,
  description: 'CRM sync',
  created_at: AT,
};
const session = {
  id: SESSION,
  created_at: AT,
  refreshed_at: null,
  expires_at: LATER,
  client_address: '203.0.113.7',
  user_agent: 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
  refreshed_client_address: null,
  refreshed_user_agent: null,
  current: true,
  amr: ['pwd' as const],
};
const passkey = {
  id: PASSKEY,
  name: 'Laptop',
  created_at: AT,
  last_used_at: null,
  device_type: 'multiDevice' as const,
  backed_up: true,
};
/** What a browser's WebAuthn call answers, shortened. */
const webAuthnAnswer = {
  id: 'q1w2e3r4t5y6u7i8o9p0',
  rawId: 'q1w2e3r4t5y6u7i8o9p0',
  type: 'public-key' as const,
  response: { clientDataJSON: 'eyJ0eXBlIjoid2ViYXV0aG4uZ2V0In0', authenticatorData: 'SZYN5YgOjGh0NBcPZHZgW4' },
};
const webAuthnOptions = { challenge: 'Y2hhbGxlbmdl', rpId: 'example.com', userVerification: 'required' };
const mfaToken = 'mfa.4f9a1c2e-7b3d-4e5f-8a6b-0c1d2e3f4a5b.Xy7Zq9';

export const requestExamples: { [K in OperationName]: InputOf<K> } = {
  register: { user_name: 'Ada Lovelace', login: 'ada', password: PASSWORD, email: 'ada@example.com' },
  login: { login: 'ada', password: PASSWORD },
  loginMfa: { mfa_token: mfaToken, code: '123456' },
  startPasskeySignIn: {},
  loginPasskey: { ceremony_id: SESSION, response: webAuthnAnswer },
  refresh: {},
  logout: {},
  logoutRefresh: {},
  verifyEmail: { token: 'ev.4f9a1c2e-7b3d-4e5f-8a6b-0c1d2e3f4a5b.6t66AwWEr2' },
  forgotPassword: { email: 'ada@example.com' },
  resetPassword: { token: 'pr.4f9a1c2e-7b3d-4e5f-8a6b-0c1d2e3f4a5b.b9Kx2Lq', new_password: 'a new long passphrase' },
  introspect: { token: ACCESS_TOKEN, token_type_hint: 'access_token' },
  listUsers: { q: 'love', role: 2, limit: 20 },
  userById: { id: 2 },
  getMe: {},
  updateMe: { user_name: 'Augusta Ada King' },
  deleteMe: { password: PASSWORD },
  changePassword: { current_password: PASSWORD, new_password: 'a new long passphrase' },
  getEmail: {},
  changeEmail: { email: 'ada@example.org', password: PASSWORD },
  getMfa: {},
  startTotp: {},
  confirmTotp: { password: PASSWORD, code: '123456' },
  disableMfa: { password: PASSWORD, code: '123456' },
  regenerateRecoveryCodes: { password: PASSWORD, code: '123456' },
  listPasskeys: {},
  startPasskeyRegistration: { password: PASSWORD },
  addPasskey: { ceremony_id: SESSION, response: webAuthnAnswer, name: 'Laptop' },
  renamePasskey: { id: PASSKEY, name: 'Work laptop' },
  removePasskey: { id: PASSKEY, password: PASSWORD },
  listMySessions: { limit: 20 },
  endMySession: { sid: SESSION },
  endMyOtherSessions: {},
  updateUser: { id: 2, user_role: 1 },
  deleteUser: { id: 2 },
  setUserPassword: { id: 2, new_password: 'a password the admin chose' },
  getUserLockout: { id: 2 },
  liftUserLockout: { id: 2 },
  removeUserMfa: { id: 2 },
  listUserSessions: { id: 2, limit: 20 },
  endUserSessions: { id: 2 },
  endUserSession: { id: 2, sid: SESSION },
  listAudit: { type: 'login_failed', target_id: 2, limit: 50 },
  createWebhook: {
    url: 'https://hooks.example.com/api-users',
    event_types: ['user.created', 'user.deleted'],
    description: 'CRM sync',
  },
  listWebhooks: {},
  updateWebhook: { id: WEBHOOK, enabled: false },
  rotateWebhookSecret: { id: WEBHOOK },
  testWebhook: { id: WEBHOOK },
  redeliverWebhook: { id: WEBHOOK, delivery: 41 },
  deleteWebhook: { id: WEBHOOK },
  listWebhookDeliveries: { id: WEBHOOK, limit: 20 },
  setup: {},
};

export const answerExamples: { [K in OperationName]: OutputOf<K> } = {
  register: { ...ada, email_verified: false },
  login: signedIn,
  loginMfa: signedIn,
  startPasskeySignIn: { ceremony_id: SESSION, options: webAuthnOptions },
  loginPasskey: signedIn,
  refresh: pair,
  logout: { msg: 'Access token revoked' },
  logoutRefresh: { msg: 'Refresh token revoked' },
  verifyEmail: { msg: 'Email address confirmed' },
  forgotPassword: { msg: 'If that address is an account’s confirmed one, a link to set a new password is on its way' },
  resetPassword: { msg: 'Password set, and every session has ended: sign in with the new password' },
  introspect: {
    active: true,
    sub: '2',
    type: 'access',
    jti: '9b2f6d1a-3c4e-4f5a-8b6c-7d8e9f0a1b2c',
    sid: SESSION,
    role: 2,
    iat: 1796636400,
    nbf: 1796636400,
    exp: 1796637300,
    amr: ['pwd'],
  },
  listUsers: { items: [ada], next_cursor: null },
  userById: ada,
  getMe: ada,
  updateMe: { ...ada, user_name: 'Augusta Ada King' },
  deleteMe: { msg: 'Your account has been deleted' },
  changePassword: pair,
  getEmail: { email: 'ada@example.com', pending: null },
  changeEmail: { msg: 'A confirmation link was mailed to the new address; the change holds once it is followed' },
  getMfa: { totp: true, recovery_codes_left: 10, passkeys: 1 },
  startTotp: {
    secret: 'JBSWY3DPEHPK3PXP',
    otpauth_uri: 'otpauth://totp/Api%20users:ada?secret=JBSWY3DPEHPK3PXP&issuer=Api%20users',
    qr_svg: '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 29 29">…</svg>',
  },
  confirmTotp: { recovery_codes: ['abcd-efgh-ijkm-npqr', 'stuv-wxyz-2345-6789'] },
  disableMfa: { msg: 'Authenticator app turned off' },
  regenerateRecoveryCodes: { recovery_codes: ['abcd-efgh-ijkm-npqr', 'stuv-wxyz-2345-6789'] },
  listPasskeys: { items: [passkey] },
  startPasskeyRegistration: { ceremony_id: SESSION, options: webAuthnOptions },
  addPasskey: passkey,
  renamePasskey: { ...passkey, name: 'Work laptop' },
  removePasskey: { msg: 'Passkey removed' },
  listMySessions: { items: [session], next_cursor: null },
  endMySession: { ended: 1 },
  endMyOtherSessions: { ended: 2 },
  updateUser: { ...ada, user_role: 1 },
  deleteUser: { msg: 'User 2 deleted' },
  setUserPassword: { msg: 'Password set; the account’s sessions have ended' },
  getUserLockout: { locked: true, retry_after: 1800 },
  liftUserLockout: { lifted: true },
  removeUserMfa: { msg: 'Second factors removed; the account’s sessions have ended' },
  listUserSessions: { items: [{ ...session, current: false }], next_cursor: null },
  endUserSessions: { ended: 2 },
  endUserSession: { ended: 1 },
  listAudit: {
    items: [
      {
        id: 311,
        at: AT,
        type: 'login_failed',
        actor_id: null,
        target_id: 2,
        session_id: null,
        detail: 'bad_password',
        client_address: '203.0.113.7',
        user_agent: 'curl/8.5.0',
        request_id: 'req-4f',
      },
    ],
    next_cursor: '311',
  },
  createWebhook: { ...endpoint, secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' },
  listWebhooks: { items: [endpoint] },
  updateWebhook: { ...endpoint, enabled: false },
  rotateWebhookSecret: { secret: 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD', previous_valid_until: LATER },
  testWebhook: { msg: 'A webhook.test event is on its way' },
  redeliverWebhook: { msg: 'Delivery 41 will be sent again' },
  deleteWebhook: { msg: `Webhook endpoint ${WEBHOOK} removed` },
  listWebhookDeliveries: {
    items: [
      {
        id: 41,
        message_id: 'msg_2Lx8Qz4Kp9Wm3Vn7',
        event_type: 'user.created',
        status: 'delivered',
        attempts: 1,
        next_attempt_at: null,
        last_status: 204,
        last_error: null,
        last_latency_ms: 38,
        created_at: AT,
        delivered_at: AT,
      },
    ],
    next_cursor: null,
  },
  setup: { first_run: false },
};
