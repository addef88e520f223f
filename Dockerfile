# syntax=docker/dockerfile:1

FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Fixes applied to dependencies at install (patch-package), until their releases carry them.
COPY patches ./patches
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:24-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The dashboard's files are served as they are: tsc compiles none of them, so they are copied beside its module.
COPY --from=build /app/src/dashboard/public ./dist/dashboard/public
COPY drizzle ./drizzle
# The embedded database (used only when DATABASE_URL is unset) must be writable by the unprivileged user.
RUN mkdir -p /app/.data && chown node:node /app/.data
USER node
EXPOSE 3000
# The same V8 memory settings as `npm start`: a small young generation and a bounded old space keep the
# service well under 300 MB (see the README's benchmarks).
CMD ["node", "--max-semi-space-size=8", "--max-old-space-size=256", "dist/server.js"]
