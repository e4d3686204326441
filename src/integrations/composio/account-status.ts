// Composio's connected-account states → Steward's connected_accounts.status (the CHECK of
// 001_init): lower-cased, INITIALIZING/INITIATED folded into `pending`, and a disabled
// account `inactive` whatever state it was disabled in (it cannot act until enabled).
import type { ConnectedAccountStatus as StewardAccountStatus } from '../../services/connected-account-service.ts';
import type { ConnectedAccount, ConnectedAccountStatus } from './schemas.ts';

const STATUS: Record<ConnectedAccountStatus, StewardAccountStatus> = {
  INITIALIZING: 'pending',
  INITIATED: 'pending',
  ACTIVE: 'active',
  FAILED: 'failed',
  EXPIRED: 'expired',
  INACTIVE: 'inactive',
  REVOKED: 'revoked',
};

export function stewardAccountStatus(account: Pick<ConnectedAccount, 'status' | 'is_disabled'>): StewardAccountStatus {
  return account.is_disabled ? 'inactive' : STATUS[account.status];
}

/** What a person must do before an account in `status` can act again. */
export function accountRemedy(status: StewardAccountStatus): string {
  switch (status) {
    case 'active':
      return 'nothing: it is active';
    case 'pending':
      return 'finish linking it (open the redirect URL), then refresh its status';
    case 'inactive':
      return 'enable it at Composio, then refresh its status';
    case 'revoked':
      return 'link the account again';
    case 'expired':
    case 'failed':
      return 're-authorise it (reauthorize, then open the redirect URL), then refresh its status';
  }
}
