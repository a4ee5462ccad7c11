FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY cloudoptima cloudoptima
COPY tools tools
COPY mcp_servers mcp_servers
COPY agents agents
COPY temporal_workflows temporal_workflows
COPY gateway gateway
COPY evals evals
RUN pip install --no-cache-dir .
USER nobody
