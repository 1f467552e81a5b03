import type { Handlers } from '../core/context.js';
import { getUserLockout, liftUserLockout } from './admin/lockout.js';
import { deleteMe, deleteUser, setUserPassword, updateUser } from './admin/manage.js';
import { listAudit } from './audit/audit.js';
import { changePassword, login, loginMfa, logout, logoutRefresh, refresh, register } from './auth/auth.js';
import { introspect } from './auth/introspect.js';
import { loginPasskey, startPasskeySignIn } from './auth/passkey-sign-in.js';
import { changeEmail, forgotPassword, getEmail, resetPassword, verifyEmail } from './email/email.js';
import { confirmTotp, disableMfa, getMfa, regenerateRecoveryCodes, removeUserMfa, startTotp } from './mfa/mfa.js';
import { addPasskey, listPasskeys, removePasskey, renamePasskey, startPasskeyRegistration } from './mfa/passkeys.js';
import {
  endMyOtherSessions,
  endMySession,
  endUserSession,
  endUserSessions,
  listMySessions,
  listUserSessions,
} from './sessions/sessions.js';
import { updateMe } from './users/profile.js';
import { getMe, listUsers, setup, userById } from './users/users.js';
import {
  createWebhook,
  deleteWebhook,
  listWebhookDeliveries,
  listWebhooks,
  redeliverWebhook,
  rotateWebhookSecret,
  testWebhook,
  updateWebhook,
} from './webhooks/endpoints.js';

/**
 * Every operation's handler, each exported under its operation's name: the type fails to check until an
 * operation added to the table has one.
 */
export const handlers: Handlers = {
  register,
  login,
  loginMfa,
  startPasskeySignIn,
  loginPasskey,
  refresh,
  logout,
  logoutRefresh,
  verifyEmail,
  forgotPassword,
  resetPassword,
  introspect,
  listUsers,
  userById,
  getMe,
  updateMe,
  deleteMe,
  changePassword,
  getEmail,
  changeEmail,
  getMfa,
  startTotp,
  confirmTotp,
  disableMfa,
  regenerateRecoveryCodes,
  listPasskeys,
  startPasskeyRegistration,
  addPasskey,
  renamePasskey,
  removePasskey,
  listMySessions,
  endMySession,
  endMyOtherSessions,
  updateUser,
  deleteUser,
  setUserPassword,
  getUserLockout,
  liftUserLockout,
  removeUserMfa,
  listUserSessions,
  endUserSessions,
  endUserSession,
  listAudit,
  createWebhook,
  listWebhooks,
  updateWebhook,
  rotateWebhookSecret,
  testWebhook,
  redeliverWebhook,
  deleteWebhook,
  listWebhookDeliveries,
  setup,
};
