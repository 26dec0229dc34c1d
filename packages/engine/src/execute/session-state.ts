import type { Role } from '../core/types';

/** What a statement runs as: a user, a role, and the namespace unqualified names resolve in (USE changes it). */
export interface SessionState {
  user: string;
  role: Role;
  namespace: string;
}
