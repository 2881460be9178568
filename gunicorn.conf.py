"""gunicorn settings, read from the working directory (the Procfile's ``web`` process).

Everything can be tuned from the environment: PORT, WEB_CONCURRENCY,
GUNICORN_THREADS, GUNICORN_TIMEOUT, GUNICORN_GRACEFUL_TIMEOUT,
GUNICORN_MAX_REQUESTS, GUNICORN_MAX_REQUESTS_JITTER, FORWARDED_ALLOW_IPS,
TRUSTED_PROXY_COUNT, LOG_LEVEL, PROMETHEUS_MULTIPROC_DIR.
"""

import os
import shutil
from pathlib import Path

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
# A request stuck longer than this is killed and its worker replaced; the
# database transaction it held rolls back, so no money moves half-way. The
# database timeouts (portal.ops.db_timeouts) end every wait well before it, so
# a stalled database gets a 503 from a worker that survives.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# On SIGTERM workers finish what they serve for this long; under Kubernetes'
# terminationGracePeriodSeconds (45 in docs/deploy) minus the preStop sleep.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "25"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# Recycle workers now and then so a slow leak cannot grow forever. The jitter
# (half the limit by default) spreads the restarts: with an even load and no
# jitter every worker reaches the limit, and restarts, in the same second.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "1000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", str(max_requests // 2)))
# Whose X-Forwarded-Proto/-For gunicorn believes, consistent with the portal's
# TRUSTED_PROXY_COUNT: behind our proxies (count > 0) any peer is one of them,
# since the pods are reachable only through the cluster network; with no proxy
# in front, nobody but loopback. The client address in the access log (%(h)s)
# is the one portal.ops.client_ip.TrustedProxyMiddleware put in REMOTE_ADDR.
_trusted_proxy_count = int(os.environ.get("TRUSTED_PROXY_COUNT", "0") or "0")
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS") or (
    "*" if _trusted_proxy_count > 0 else "127.0.0.1,::1"
)
# The runtime control socket (gunicornc) is not used in containers, and two
# servers on one host would fight over its default path.
control_socket_disable = os.environ.get("GUNICORN_CONTROL_SOCKET", "") != "1"
worker_tmp_dir = "/dev/shm" if Path("/dev/shm").is_dir() else None

loglevel = os.environ.get("LOG_LEVEL", "info").lower()
accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms'
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "portal.ops.logs.JsonFormatter"}},
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stdout",
        },
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stderr",
        },
    },
    # gunicorn merges this over its defaults, whose root logger names a handler
    # that would no longer exist.
    "root": {"handlers": ["stderr"], "level": "INFO"},
    "loggers": {
        "gunicorn.error": {"handlers": ["stderr"], "level": loglevel.upper(), "propagate": False},
        "gunicorn.access": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
    },
}


def on_starting(server):
    # Metric files of a previous run would be summed into this one's.
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        Path(directory).mkdir(parents=True, exist_ok=True)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
