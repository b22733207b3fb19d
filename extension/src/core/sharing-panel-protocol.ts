/**
 * The messages between the sharing panel (a webview, webview/src/sharing.ts) and the extension
 * host, which makes every relay call. The webview imports the types only; the extension checks
 * each message it receives with `readPanelMessage` (a webview's script is not trusted: anything
 * that is not exactly one of these shapes is dropped).
 */
import { checkUserName } from '@tether/shared';
import { TUNNEL_ROLES, type AccessRequestInfo, type InviteInfo, type MemberInfo, type TunnelRole, type TunnelSettings } from './sharing-types.js';

/** Limits the relay enforces too (relay/src/routes/sharing.ts): checked here so a bad message never becomes a request. */
export const PANEL_LIMITS = {
  reason: 500,
  inviteMaxMs: 30 * 86_400_000,
  inviteUses: 1000,
  approvals: 10,
  maxDurationMs: 365 * 86_400_000,
} as const;

/** webview → extension. */
export type PanelRequest =
  | { type: 'ready' }
  | { type: 'refresh' }
  | { type: 'setMember'; user: string; role: TunnelRole; expiresAt: string | null }
  | { type: 'removeMember'; user: string }
  | { type: 'blockMember'; user: string; blocked: boolean }
  | { type: 'createInvite'; role: TunnelRole; expiresInMs: number; uses: number }
  /** Copies the link of an invite created in this panel (by id: the webview never names what goes on the clipboard). */
  | { type: 'copyInviteLink'; id: string }
  | { type: 'revokeInvite'; id: string }
  | { type: 'review'; id: string; decision: 'approve' | 'deny'; reason: string }
  | { type: 'updateSettings'; patch: Partial<TunnelSettings> };

/** What the panel shows: one tunnel's sharing, as the relay answered it. */
export interface PanelState {
  tunnel: string;
  owner: string;
  /** The signed-in user. */
  me: string;
  members: MemberInfo[];
  invites: InviteInfo[];
  /** Pending requests for this tunnel that `me` may review. */
  requests: AccessRequestInfo[];
  settings: TunnelSettings;
  /** Invites created in this panel: their codes and links (the relay shows a code only once). */
  created: { id: string; code: string; link: string }[];
}

/** extension → webview. */
export type PanelUpdate =
  | { type: 'state'; state: PanelState }
  | { type: 'busy'; busy: boolean }
  /** A failure, as a sentence with its code. */
  | { type: 'error'; message: string }
  | { type: 'notice'; message: string };

type Fields = Record<string, unknown>;

const ID = /^[A-Za-z0-9_-]{1,64}$/;
const isObject = (v: unknown): v is Fields => typeof v === 'object' && v !== null && !Array.isArray(v);
const isRole = (v: unknown): v is TunnelRole => typeof v === 'string' && (TUNNEL_ROLES as readonly string[]).includes(v);
const isUser = (v: unknown): v is string => typeof v === 'string' && checkUserName(v) === undefined;
const isId = (v: unknown): v is string => typeof v === 'string' && ID.test(v);
const isInt = (v: unknown, min: number, max: number): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max;
/** Exactly these keys (besides `type`): nothing extra slips through to the relay. */
const only = (m: Fields, keys: string[]): boolean => Object.keys(m).every((k) => k === 'type' || keys.includes(k));

function readPatch(v: unknown): Partial<TunnelSettings> | undefined {
  if (!isObject(v) || !only(v, ['approval', 'approvals', 'maxDurationMs'])) return undefined;
  const patch: Partial<TunnelSettings> = {};
  if (v.approval !== undefined) {
    if (v.approval !== 'none' && v.approval !== 'required') return undefined;
    patch.approval = v.approval;
  }
  if (v.approvals !== undefined) {
    if (!isInt(v.approvals, 1, PANEL_LIMITS.approvals)) return undefined;
    patch.approvals = v.approvals;
  }
  if (v.maxDurationMs !== undefined) {
    if (v.maxDurationMs !== null && !isInt(v.maxDurationMs, 1000, PANEL_LIMITS.maxDurationMs)) return undefined;
    patch.maxDurationMs = v.maxDurationMs;
  }
  return Object.keys(patch).length > 0 ? patch : undefined;
}

/** A message from the webview, checked field by field; undefined for anything else. */
export function readPanelMessage(value: unknown): PanelRequest | undefined {
  if (!isObject(value) || typeof value.type !== 'string') return undefined;
  const m = value;
  switch (m.type) {
    case 'ready':
    case 'refresh':
      return only(m, []) ? { type: m.type } : undefined;
    case 'setMember': {
      const expiresAt = m.expiresAt ?? null;
      const expiryOk = expiresAt === null || (typeof expiresAt === 'string' && expiresAt.length <= 40 && !Number.isNaN(Date.parse(expiresAt)));
      if (!only(m, ['user', 'role', 'expiresAt']) || !isUser(m.user) || !isRole(m.role) || !expiryOk) return undefined;
      return { type: 'setMember', user: m.user, role: m.role, expiresAt };
    }
    case 'removeMember':
      return only(m, ['user']) && isUser(m.user) ? { type: 'removeMember', user: m.user } : undefined;
    case 'blockMember':
      return only(m, ['user', 'blocked']) && isUser(m.user) && typeof m.blocked === 'boolean' ? { type: 'blockMember', user: m.user, blocked: m.blocked } : undefined;
    case 'createInvite':
      if (!only(m, ['role', 'expiresInMs', 'uses']) || !isRole(m.role) || !isInt(m.expiresInMs, 1000, PANEL_LIMITS.inviteMaxMs) || !isInt(m.uses, 1, PANEL_LIMITS.inviteUses)) return undefined;
      return { type: 'createInvite', role: m.role, expiresInMs: m.expiresInMs, uses: m.uses };
    case 'copyInviteLink':
    case 'revokeInvite':
      return only(m, ['id']) && isId(m.id) ? { type: m.type, id: m.id } : undefined;
    case 'review': {
      const reason = m.reason ?? '';
      if (!only(m, ['id', 'decision', 'reason']) || !isId(m.id) || (m.decision !== 'approve' && m.decision !== 'deny')) return undefined;
      if (typeof reason !== 'string' || reason.length > PANEL_LIMITS.reason) return undefined;
      return { type: 'review', id: m.id, decision: m.decision, reason };
    }
    case 'updateSettings': {
      const patch = only(m, ['patch']) ? readPatch(m.patch) : undefined;
      return patch ? { type: 'updateSettings', patch } : undefined;
    }
    default:
      return undefined;
  }
}
