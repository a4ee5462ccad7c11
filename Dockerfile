FROM python:3.11-slim
WORKDIR /app
# Install exactly the locked versions (hashes checked); torch is the CPU build from PyTorch's CPU index.
COPY requirements requirements
RUN pip install --no-cache-dir --require-hashes --no-deps -r requirements/bootstrap.lock \
 && uv pip install --system --require-hashes --no-deps --no-cache \
      --find-links https://download.pytorch.org/whl/cpu/torch/ -r requirements/runtime.lock
COPY pyproject.toml README.md ./
COPY cloudoptima cloudoptima
COPY tools tools
COPY mcp_servers mcp_servers
COPY agents agents
COPY temporal_workflows temporal_workflows
COPY gateway gateway
COPY evals evals
RUN uv pip install --system --no-deps --no-build-isolation --no-cache .
USER nobody
