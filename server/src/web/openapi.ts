/**
 * GET /api/openapi.json: the JSON API described as OpenAPI 3.1, served to logged-in users (like
 * every API route). Written by hand beside the routes; access.test.ts checks that every API route
 * the server answers is in it.
 */
import { sendJson, type WebRoute } from './http-kit.js';

const error = { description: 'refused: `{ "error": "one line" }`', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
const json = (description: string) => ({ description, content: { 'application/json': { schema: { type: 'object' } } } });
const siteId = { name: 'siteId', in: 'path', required: true, schema: { type: 'string' } };
const name = { name: 'name', in: 'path', required: true, schema: { type: 'string' } };
const body = { required: true, content: { 'application/json': { schema: { type: 'object' } } } };

/** The API's operations: path -> method -> summary, parameters, request body, answers. */
export const OPENAPI_PATHS = {
  '/api/session': { get: { summary: 'Who is logged in, and the CSRF token state changes must send', responses: { 200: json('user and csrfToken'), 401: error } } },
  '/api/fleet': { get: { summary: 'One row per site the user may see (protocol/src/dashboard.ts FleetRow)', responses: { 200: json('{ rows, generatedAt }'), 401: error } } },
  '/api/sites': { post: { summary: 'Enroll a site: { name, tenant }; answers the agent command with its token, once', requestBody: body, responses: { 201: json('siteId, token, command'), 400: error, 403: error, 409: error } } },
  '/api/sites/{siteId}': { get: { summary: 'A site: fleet row, latest SIP ALG checks, agents, remediation', parameters: [siteId], responses: { 200: json('SiteDetail'), 404: error } } },
  '/api/sites/{siteId}/history': {
    get: {
      summary: 'History series from the time-series store',
      parameters: [siteId, { name: 'from', in: 'query', schema: { type: 'integer' } }, { name: 'to', in: 'query', schema: { type: 'integer' } }],
      responses: { 200: json('SiteHistory'), 400: error, 404: error, 503: error },
    },
  },
  '/api/sites/{siteId}/run-now': { post: { summary: "Ask the site's agents to run probes now: { probes? }", parameters: [siteId], requestBody: body, responses: { 202: json('agentsAsked'), 403: error, 404: error } } },
  '/api/sites/{siteId}/revoke': { post: { summary: "Revoke the site's tokens and drop its agents", parameters: [siteId], responses: { 200: json('revoked'), 403: error, 404: error } } },
  '/api/sites/{siteId}/config': {
    get: { summary: "The site's keep-alive targets and schedule", parameters: [siteId], responses: { 200: json('{ targets, schedule }'), 404: error } },
    put: { summary: 'Replace targets and/or schedule; pushed to the agents', parameters: [siteId], requestBody: body, responses: { 200: json('agentsUpdated, config'), 400: error, 403: error, 404: error } },
  },
  '/api/tenants': { get: { summary: 'Tenants the user may see, with site counts', responses: { 200: json('{ tenants }') } } },
  '/api/users': {
    get: { summary: 'Every user (admins only)', responses: { 200: json('{ users }'), 403: error } },
    post: { summary: 'Create a user { name, role, tenants? }; answers its password once (admins only)', requestBody: body, responses: { 201: json('user, password'), 400: error, 403: error, 409: error } },
  },
  '/api/users/{name}': { delete: { summary: 'Remove a user and end its sessions (admins only)', parameters: [name], responses: { 200: json('ok'), 403: error, 404: error } } },
  '/api/channels': {
    get: { summary: 'Notification channels the user may see, destinations redacted', responses: { 200: json('{ channels }') } },
    post: { summary: 'Add a channel { name, tenant?, destination }', requestBody: body, responses: { 201: json('channel'), 400: error, 403: error, 409: error } },
  },
  '/api/channels/{name}': { delete: { summary: 'Remove a channel', parameters: [name], responses: { 200: json('ok'), 403: error, 404: error } } },
  '/api/channels/{name}/test': { post: { summary: 'Send a marked test notification through the channel, once', parameters: [name], responses: { 200: json('{ delivered, error? }'), 403: error, 404: error } } },
  '/api/alerts': { get: { summary: 'Firing alerts (with acknowledgements), recent state changes and silences of the tenants the user may see', responses: { 200: json('{ firing, recent, silences }') } } },
  '/api/alerts/{fingerprint}/ack': {
    post: { summary: 'Acknowledge a firing alert', parameters: [{ name: 'fingerprint', in: 'path', required: true, schema: { type: 'string' } }], responses: { 200: json('acknowledged'), 403: error, 404: error } },
  },
  '/api/silences': { post: { summary: 'Silence a site (or, for users of every tenant, everything): { siteId?, rule?, startsAt?, endsAt, reason }; later start = maintenance window', requestBody: body, responses: { 201: json('silence'), 400: error, 403: error, 404: error } } },
  '/api/silences/{id}': { delete: { summary: 'End a silence now', parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }], responses: { 200: json('ok'), 403: error, 404: error } } },
  '/api/openapi.json': { get: { summary: 'This document', responses: { 200: json('OpenAPI 3.1') } } },
} as const;

export function openApiRoutes(version: string): WebRoute[] {
  const document = {
    openapi: '3.1.0',
    info: { title: 'algwatch dashboard API', version },
    servers: [{ url: '/' }],
    security: [{ session: [] }],
    components: {
      securitySchemes: {
        session: { type: 'apiKey', in: 'cookie', name: 'algwatch_session', description: 'From POST /login. State changes also need header x-csrf-token (GET /api/session).' },
      },
      schemas: { Error: { type: 'object', properties: { error: { type: 'string' } }, required: ['error'] } },
    },
    paths: OPENAPI_PATHS,
  };
  return [{ method: 'GET', path: '/api/openapi.json', access: 'api', handle: (ctx) => sendJson(ctx.res, 200, document) }];
}
