# algwatch server: SIP/STUN reflector, agent ingest, status page.
#   docker build -t algwatch-server .
#   docker run --rm algwatch-server --help
# Data (sites, tokens, spool) lives in /data; mount a volume there.

FROM node:20-slim AS build
WORKDIR /app
# better-sqlite3 compiles from source when no prebuilt binary fits the platform.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json tsconfig.json tsconfig.base.json ./
COPY protocol/ protocol/
COPY agent/ agent/
COPY server/ server/
# npm ci runs `prepare` (tsc -b) too; the explicit build makes a failed compile fail the image.
RUN npm ci && npm run build && npm prune --omit=dev

FROM node:20-slim
WORKDIR /app
ENV NODE_ENV=production \
    ALGWATCH_DATA_DIR=/data
COPY --from=build /app /app
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
# SIP UDP+TCP, SIP TLS, STUN, STUN alternate port, HTTP (agents' socket.io, status page).
EXPOSE 5060/udp 5060/tcp 5061/tcp 3478/udp 3479/udp 8080/tcp
ENTRYPOINT ["node", "server/bin/algwatch-server.js"]
CMD ["--data-dir", "/data"]
