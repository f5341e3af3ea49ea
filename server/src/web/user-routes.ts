/**
 * User management, admins only:
 *   GET    /api/users                         every user (never a password hash)
 *   POST   /api/users {name, role, tenants?}  create a user; its generated password is returned once
 *   DELETE /api/users/:name                   remove a user and end its sessions
 */
import * as z from 'zod';
import { canManageUsers, ROLES } from '../auth/roles.js';
import type { UserStore } from '../auth/user-store.js';
import { RelationalError } from '../relational/relational-error.js';
import { HttpError, readJson, sendJson, type AuthedContext, type RequestContext, type WebRoute } from './http-kit.js';

const newUserSchema = z.object({ name: z.string(), role: z.enum(ROLES), tenants: z.array(z.string()).optional() });

export function userRoutes(users: UserStore): WebRoute[] {
  return [
    {
      method: 'GET',
      path: '/api/users',
      access: 'api',
      async handle(ctx) {
        adminOnly(ctx);
        sendJson(ctx.res, 200, { users: await users.listUsers() });
      },
    },
    {
      method: 'POST',
      path: '/api/users',
      access: 'api',
      async handle(ctx) {
        adminOnly(ctx);
        const body = newUserSchema.safeParse(await readJson(ctx.req));
        if (!body.success) throw new HttpError(400, 'send { name, role: admin|technician|viewer, tenants?: [...] }');
        const created = await storeCall(() => users.addUser({ name: body.data.name, role: body.data.role, ...(body.data.tenants ? { tenants: body.data.tenants } : {}) }));
        sendJson(ctx.res, 201, created);
      },
    },
    {
      method: 'DELETE',
      path: /^\/api\/users\/(?<name>[^/]+)$/,
      access: 'api',
      async handle(ctx) {
        const admin = adminOnly(ctx);
        const name = decodeURIComponent(ctx.params.name ?? '');
        if (name === admin.name) throw new HttpError(400, 'you cannot remove yourself: log in as another admin');
        await storeCall(() => users.removeUser(name));
        sendJson(ctx.res, 200, { ok: true });
      },
    },
  ];
}

function adminOnly(ctx: RequestContext) {
  const { viewer } = ctx as AuthedContext;
  if (!canManageUsers(viewer)) throw new HttpError(403, 'only admins manage users');
  return viewer;
}

async function storeCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof RelationalError) throw new HttpError(error.code === 'USER_EXISTS' ? 409 : error.code === 'USER_NOT_FOUND' ? 404 : 400, error.message);
    throw error;
  }
}
