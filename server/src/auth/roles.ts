/**
 * Roles and what they may do. One place answers "may this user see / change this": pages, the JSON
 * API and the dashboard's socket.io namespace all ask here.
 */
export const ROLES = ['admin', 'technician', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

/** Viewer is who is logged in, as every request handler sees it. */
export interface Viewer {
  userId: string;
  name: string;
  role: Role;
  /** Tenant names the user is limited to; null means every tenant. Admins are never limited. */
  tenants: readonly string[] | null;
}

/** canSeeTenant is true when the user may see anything of the tenant. */
export function canSeeTenant(viewer: Viewer, tenantName: string): boolean {
  return viewer.role === 'admin' || viewer.tenants === null || viewer.tenants.includes(tenantName);
}

/** canOperate: run checks, enroll and revoke sites of the tenants they see (admin, technician). */
export function canOperate(viewer: Viewer): boolean {
  return viewer.role === 'admin' || viewer.role === 'technician';
}

/** canManageUsers: add and remove users, see every user (admin only). */
export function canManageUsers(viewer: Viewer): boolean {
  return viewer.role === 'admin';
}

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}
