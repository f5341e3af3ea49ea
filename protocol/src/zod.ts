/**
 * The zod that algwatch's wire schemas and the agent's schemas are written with: `zod/mini`, whose
 * functions the agent's bundle tree-shakes (the agent has to stay under 60 MB of RSS; moving off
 * classic zod took about 2.5 MB off it in bench/agent-footprint). Import it as a namespace,
 * `import * as z from '.../zod.js'`: a re-exported namespace object would pull all of zod into the
 * bundle.
 *
 * zod/mini registers no locale by itself, and messages (e.g. `Too small: ...`) are part of what the
 * agent and server log and reply; English is registered here, once, from its own module so that no
 * other locale is ever loaded.
 */
import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

config(en());

export * from 'zod/mini';
