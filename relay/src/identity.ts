/** Who a request or connection acts as. The admin is an identity of its own, not a user row. */
export interface Identity {
  /** 'admin' for the admin token, otherwise the user name. */
  name: string;
  /** Stable id: 0 for the admin, the user row id otherwise. */
  id: number;
  admin: boolean;
}

export const ADMIN_IDENTITY: Identity = Object.freeze({ name: 'admin', id: 0, admin: true });
