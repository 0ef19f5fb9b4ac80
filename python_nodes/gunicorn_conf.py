"""gunicorn settings for the workers: ``gunicorn -c python_nodes/gunicorn_conf.py "python_nodes.app:create_app()"``."""
import os
import shutil
import tempfile

bind = os.environ.get("KIT_BIND", "127.0.0.1:8080")
workers = int(os.environ.get("KIT_WORKERS", "2"))
threads = int(os.environ.get("KIT_THREADS", "4"))
# gthread, answering what gunicorn refuses itself (a request line over 4094 bytes...) in the kit's JSON error shape.
worker_class = "python_nodes.gunicorn_worker.JsonErrorWorker"
timeout = 60
graceful_timeout = 10
keepalive = 5
# No reuse_port: the processes share one listening socket, so a reload never resets queued webhooks (test_reload.py).
accesslog = None  # the app logs each request as JSON with its correlation id
errorlog = "-"
# No control socket (gunicornc): its default path is one per user, so every gunicorn on the machine (tests, a second
# kit) would take it over from the last; reload with SIGHUP to the master, as test_reload.py does.
control_socket_disable = True
# Metrics from all worker processes are merged through files in this folder.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="kit-prom-"))


def on_starting(server):
    folder = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder, exist_ok=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
