# The web console, built from its lock file (web/package-lock.json) into /web/dist.
FROM node:20-slim AS console
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web/index.html web/vite.config.ts web/tsconfig.json ./
COPY web/src src
COPY web/public public
RUN npm run build

FROM python:3.11-slim
WORKDIR /app
# Install exactly the locked versions (hashes checked); torch is the CPU build from PyTorch's CPU index.
COPY requirements requirements
RUN pip install --no-cache-dir --require-hashes --no-deps -r requirements/bootstrap.lock \
 && uv pip install --system --require-hashes --no-deps --no-cache \
      --find-links https://download.pytorch.org/whl/cpu/torch/ -r requirements/runtime.lock
COPY pyproject.toml README.md ./
COPY cloudoptima cloudoptima
COPY cloudoptima_tools cloudoptima_tools
COPY cloudoptima_mcp cloudoptima_mcp
COPY cloudoptima_agents cloudoptima_agents
COPY cloudoptima_workflows cloudoptima_workflows
COPY cloudoptima_gateway cloudoptima_gateway
COPY cloudoptima_evals cloudoptima_evals
COPY cloudoptima_cli cloudoptima_cli
RUN uv pip install --system --no-deps --no-build-isolation --no-cache .
# The gateway serves the console at / from here (cloudoptima_gateway.console).
COPY --from=console /web/dist /app/web/dist
ENV CLOUDOPTIMA_CONSOLE_DIR=/app/web/dist
USER nobody
