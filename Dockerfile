# The lamer image: one image for the learner, the actors, `lamer serve` and `lamer eval` (docs/deploy.md).
# BASE is any Debian-like image with Node 20 and npm on PATH: the official Node 20 slim image by default, or one
# made offline from a minimal Debian root filesystem and this machine's Node (deploy/docker/base-from-host.sh):
#   docker build --network host --build-arg BASE=lamer-base:node20 --build-arg NODE_EXTRA_CA_CERTS -t lamer:0.1.0 .
ARG BASE=node:20-bookworm-slim

# ---- dependencies: production only, from the lock file -----------------------------------------------------------
FROM ${BASE} AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# .npmrc sets ignore-scripts: every native dependency ships its linux-x64 binary inside its npm package
# (onnxruntime-node under bin/napi-v3/linux/x64); its postinstall would only download optional CUDA libraries.
ENV ONNXRUNTIME_NODE_INSTALL=skip
# A CA bundle for a TLS-intercepting proxy between the build and the npm registry, for this stage only (the
# runtime image does not trust it): `--build-arg NODE_EXTRA_CA_CERTS` passes the builder's own setting, and the
# base must hold that file (deploy/docker/base-from-host.sh copies it in). Unset: Node's own CA list.
ARG NODE_EXTRA_CA_CERTS
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
# onnxruntime-node ships its library for every OS and CPU (~290 MB): keep this platform's (linux, this arch).
RUN arch="$(node -p process.arch)" && for d in node_modules/onnxruntime-node/bin/napi-v*; do \
      find "$d" -mindepth 1 -maxdepth 1 ! -name linux -exec rm -rf {} + ; \
      find "$d/linux" -mindepth 1 -maxdepth 1 ! -name "$arch" -exec rm -rf {} + ; \
    done && test -n "$(ls node_modules/onnxruntime-node/bin/napi-v*/linux/"$arch"/*.node)"

# ---- runtime ------------------------------------------------------------------------------------------------------
FROM ${BASE}
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json .npmrc tsconfig.json ./
COPY bin ./bin
COPY proto ./proto
COPY shared ./shared
COPY actor ./actor
COPY learner ./learner
COPY scripts ./scripts
COPY deploy/k8s ./deploy/k8s
# A non-root user with a fixed uid (1000; the official image's `node` user has it already), so the ownership of a
# volume is known in advance (Kubernetes fsGroup, `docker run -v`).
RUN (getent passwd 1000 >/dev/null || useradd --uid 1000 --user-group --home-dir /runs --no-create-home lamer) \
  && mkdir -p /runs /outbox && chown 1000:1000 /runs /outbox
USER 1000:1000
# The run directory (ledger, checkpoints, logs) lives on this volume; relative paths such as runs/base land there.
# /outbox is where an actor keeps completed trials until they are acked (a named volume mounted there is the user's).
WORKDIR /runs
VOLUME ["/runs"]
# Learner WebSocket port and HTTP side (dashboard, /metrics, /healthz, /readyz), as the manifests use them.
EXPOSE 7070 9090
ENTRYPOINT ["node", "/app/bin/lamer.mjs"]
CMD ["--help"]
