# The kit's workers (and its scripts, used by the one-shot n8n-import service).
FROM python:3.11.7-slim
WORKDIR /app
COPY pyproject.toml ./
COPY python_nodes ./python_nodes
COPY payload_schemas ./payload_schemas
COPY scripts ./scripts
COPY n8n ./n8n
RUN pip install --no-cache-dir -e .
ENV PYTHONUNBUFFERED=1
EXPOSE 8080
CMD ["gunicorn", "-c", "python_nodes/gunicorn_conf.py", "python_nodes.app:create_app()"]
