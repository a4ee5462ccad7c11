# One image for every CloudOptima process: `cloudoptima gateway`, `cloudoptima worker --queues ...`,
# `cloudoptima db upgrade`, `cloudoptima mcp ...` (docker-compose.yml and deploy/k8s run it so; docs/deploy.md).
# tests/deploy/test_dockerfile.py checks this file's shape (stages, hashes, CPU torch, user, entrypoint).

# ---- 1. the web console, built from its lock file (web/package-lock.json) into /web/dist -------------------------
FROM node:20-slim AS console
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web/index.html web/vite.config.ts web/tsconfig.json ./
COPY web/src src
COPY web/public public
RUN npm run build

# ---- 2. the locked dependencies in a virtual environment (hashes checked; nothing resolved here) -----------------
FROM python:3.11-slim AS deps
COPY requirements requirements
# uv itself comes from its own lock (bootstrap.lock, hashes); it then installs exactly runtime.lock, --no-deps so
# that nothing outside the lock can be pulled in. torch is pinned there as 2.13.0+cpu with the hashes of the CPU
# wheels, which only PyTorch's CPU index serves: a CUDA build cannot match the pin, and the check below fails the
# build if any CUDA runtime (nvidia-*, triton) or a CUDA-enabled torch got in anyway.
RUN pip install --no-cache-dir --require-hashes --no-deps -r requirements/bootstrap.lock \
 && python -m venv /opt/venv \
 && uv pip install --python /opt/venv/bin/python --require-hashes --no-deps --no-cache \
      --find-links https://download.pytorch.org/whl/cpu/torch/ -r requirements/runtime.lock \
 && /opt/venv/bin/python -c "import importlib.metadata as m, torch; \
bad = sorted(d.metadata['Name'] for d in m.distributions() if d.metadata['Name'].lower().startswith(('nvidia-', 'triton'))); \
assert torch.version.cuda is None and not bad, f'CUDA in the image: torch.version.cuda={torch.version.cuda} {bad}'"

# ---- 3. the runtime image: the venv, the project, the console; a non-root user with a writable home ---------------
FROM python:3.11-slim
RUN groupadd --system --gid 10001 cloudoptima \
 && useradd --system --uid 10001 --gid 10001 --create-home --home-dir /home/cloudoptima \
      --shell /usr/sbin/nologin cloudoptima
COPY --from=deps /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY cloudoptima cloudoptima
COPY cloudoptima_tools cloudoptima_tools
COPY cloudoptima_mcp cloudoptima_mcp
COPY cloudoptima_agents cloudoptima_agents
COPY cloudoptima_workflows cloudoptima_workflows
COPY cloudoptima_gateway cloudoptima_gateway
COPY cloudoptima_evals cloudoptima_evals
COPY cloudoptima_cli cloudoptima_cli
# The project itself, with the venv's pinned setuptools (runtime.lock includes requirements/build.in): offline.
RUN uv pip install --python /opt/venv/bin/python --no-deps --no-build-isolation --no-cache . \
 && rm -rf build ./*.egg-info
# The gateway serves the console at / from here (cloudoptima_gateway.console).
COPY --from=console /web/dist /app/web/dist
# Production mode: nothing generated, every secret and service URL must be given (cloudoptima.settings).
# The state directory (report files, caches) lives in the user's home, the only writable place.
ENV CLOUDOPTIMA_CONSOLE_DIR=/app/web/dist \
    CLOUDOPTIMA_MODE=production \
    HOME=/home/cloudoptima \
    CLOUDOPTIMA_STATE_DIR=/home/cloudoptima/.cloudoptima
USER 10001:10001
WORKDIR /home/cloudoptima
EXPOSE 8000 8081
ENTRYPOINT ["cloudoptima"]
CMD ["--help"]
