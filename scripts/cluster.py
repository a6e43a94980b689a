#!/usr/bin/env python3
"""The production layout on one machine: two app hosts behind nginx, a Celery worker, PostgreSQL, Redis and
an S3-compatible store (moto_server).

    python scripts/cluster.py run     # start everything, print the URLs, stop everything on Ctrl-C (make cluster)
    python scripts/cluster.py start   # the same, but leave it running in the background and return
    python scripts/cluster.py stop    # stop what `start`/`run` left running in the run folder (make cluster-stop)

Every process runs in its own process group; their ids, ports and logs are recorded in
``<run folder>/state.json`` so that ``stop`` (and the cluster test, which kills one app host) end exactly
those processes. Only 127.0.0.1 is used. The database is created afresh (``flask prepare``: migrations,
roles, demo world) unless ``--keep-db`` is given. Stdlib only, plus boto3 (pinned) for the bucket.
"""
from __future__ import annotations

import argparse
import grp
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = ROOT / ".venv" / "bin"
PG = "postgresql://postgres@127.0.0.1:5432"


def log(message: str) -> None:
    print(f"[cluster] {message}", flush=True)


# ---------------------------------------------------------------------------------------------------------
# system pieces: nginx, Redis, PostgreSQL
# ---------------------------------------------------------------------------------------------------------


def apt_install(*packages: str) -> None:
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = sudo + ["apt-get", "install", "-y", "-qq", "-o", "DPkg::Lock::Timeout=300", *packages]
    if subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL).returncode != 0:
        subprocess.run(sudo + ["apt-get", "update", "-qq"], env=env, check=True)
        subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)


def ensure_command(command: str, package: str) -> str:
    path = shutil.which(command) or shutil.which(command, path="/usr/sbin:/usr/bin:/sbin:/bin")
    if path:
        return path
    log(f"installing Debian package {package}")
    apt_install(package)
    path = shutil.which(command, path="/usr/sbin:/usr/bin:/sbin:/bin")
    if not path:
        raise SystemExit(f"{command} not found after installing {package}")
    return path


def ensure_postgres() -> None:
    if subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"]).returncode == 0:
        return
    version = sorted(os.listdir("/etc/postgresql"))[0]
    log("starting PostgreSQL")
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"], check=True)
    for _ in range(30):
        if subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"]).returncode == 0:
            return
        time.sleep(1)
    raise SystemExit("PostgreSQL does not answer on 127.0.0.1:5432")


def psql(sql: str, database: str = "postgres") -> str:
    return subprocess.run(["psql", "-q", "-X", "-h", "127.0.0.1", "-U", "postgres", "-d", database, "-tAc", sql],
                          check=True, capture_output=True, text=True).stdout.strip()


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def choose_port(wanted: int, taken: set) -> int:
    """The wanted port, or (when something else listens there) a free one the kernel picks."""
    if wanted not in taken and port_free(wanted):
        taken.add(wanted)
        return wanted
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port not in taken:
            log(f"port {wanted} is in use: using {port} instead")
            taken.add(port)
            return port


def wait_port(port: int, proc: subprocess.Popen, name: str, logfile: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited ({proc.returncode}):\n{tail(logfile)}")
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{name} does not listen on 127.0.0.1:{port}:\n{tail(logfile)}")


def wait_http(url: str, proc: subprocess.Popen, name: str, logfile: Path, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited ({proc.returncode}):\n{tail(logfile)}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status < 500:
                    return
        except urllib.error.HTTPError as exc:
            if exc.code < 500:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{name} does not answer {url}:\n{tail(logfile)}")


def tail(path: Path, size: int = 3000) -> str:
    try:
        return path.read_text(errors="replace")[-size:]
    except OSError:
        return ""


# ---------------------------------------------------------------------------------------------------------
# the cluster
# ---------------------------------------------------------------------------------------------------------

NGINX_CONF = """\
# generated by scripts/cluster.py — the reverse proxy of the one-machine cluster
{user}worker_processes 1;
daemon off;
pid {run}/nginx.pid;
error_log {run}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    client_body_temp_path {run}/tmp/body;
    proxy_temp_path {run}/tmp/proxy;
    fastcgi_temp_path {run}/tmp/fastcgi;
    uwsgi_temp_path {run}/tmp/uwsgi;
    scgi_temp_path {run}/tmp/scgi;
    # one id per request: the client's X-Request-ID, or a fresh one
    map $http_x_request_id $req_id {{
        default $http_x_request_id;
        ""      $request_id;
    }}
    log_format main '$remote_addr [$time_local] "$request" $status $body_bytes_sent $request_time '
                    'upstream=$upstream_addr upstream_status=$upstream_status req_id=$req_id';
    access_log {run}/access.log main;
    upstream jijiao {{
        # a host that refused or failed a request is left alone for 5 s, then tried again
{servers}
    }}
    server {{
        listen 127.0.0.1:{port};
        server_name localhost;
        client_max_body_size 21m;          # MAX_UPLOAD_BYTES (20 MB) + 1 MB of form fields
        client_body_buffer_size 21m;       # bodies and answers stay in memory: the workers never need
        proxy_max_temp_file_size 0;        # to write into the checkout
        location / {{
            proxy_pass http://jijiao;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Request-ID $req_id;
            # the app echoes the id; nginx answers with it itself, so a 502 of its own carries it too
            proxy_hide_header X-Request-ID;
            add_header X-Request-ID $req_id always;
            # a request a host could not answer goes to the other host — but never a POST (or any
            # non-idempotent request) that may have reached the app: no "non_idempotent" here
            proxy_next_upstream error timeout http_502 http_503;
            proxy_next_upstream_tries 2;
            proxy_connect_timeout 2s;
            proxy_read_timeout 120s;
        }}
    }}
}}
"""


class Cluster:
    def __init__(self, args):
        self.run_dir = (ROOT / args.run_dir).resolve() if not os.path.isabs(args.run_dir) else Path(args.run_dir)
        self.db = args.db
        self.port_base = args.port_base
        self.redis_db = args.redis_db
        self.keep_db = getattr(args, "keep_db", False)
        self.workers = getattr(args, "workers", 2)
        self.state_path = self.run_dir / "state.json"
        self.procs: dict[str, dict] = {}

    # --- state -------------------------------------------------------------------------------------------
    def load_state(self) -> dict | None:
        try:
            return json.loads(self.state_path.read_text())
        except (OSError, ValueError):
            return None

    def save_state(self, extra: dict) -> None:
        state = {"components": self.procs, **extra}
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2, ensure_ascii=False))
        tmp.replace(self.state_path)

    # --- processes ---------------------------------------------------------------------------------------
    def spawn(self, name: str, cmd: list, env: dict, marker: str) -> subprocess.Popen:
        logfile = self.run_dir / f"{name}.log"
        with open(logfile, "ab") as out:
            proc = subprocess.Popen(cmd, cwd=str(ROOT), env=env, stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
        self.procs[name] = {"pid": proc.pid, "pgid": proc.pid, "log": str(logfile), "marker": marker}
        self.save_state({})
        return proc

    # --- environment -------------------------------------------------------------------------------------
    def app_env(self, name: str, ports: dict) -> dict:
        instance = self.run_dir / name
        instance.mkdir(parents=True, exist_ok=True)
        redis_url = f"redis://127.0.0.1:6379/{self.redis_db}"
        env = dict(os.environ)
        env.update({
            "DATABASE_URL": f"{PG}/{self.db}",
            "SECRET_KEY": self.secret_key,
            "DEMO_DATA": "0",
            # plain HTTP on 127.0.0.1: a real deployment terminates HTTPS at nginx and keeps this at 1
            "SESSION_COOKIE_SECURE": "0",
            "REDIS_URL": redis_url,
            "RATELIMIT_STORAGE_URI": redis_url,
            "CELERY_BROKER_URL": redis_url,
            "CELERY_QUEUE": f"jijiao-{self.run_dir.name}",
            "STORAGE_BACKEND": "s3",
            "S3_ENDPOINT_URL": f"http://127.0.0.1:{ports['s3']}",
            "S3_BUCKET": "jijiao-files",
            "S3_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "cluster-local",
            "AWS_SECRET_ACCESS_KEY": "cluster-local-secret",
            "METRICS_ALLOW": "127.0.0.1",
            # nginx in front: its X-Forwarded-For names the client (rate limits, audit addresses)
            "TRUSTED_PROXIES": "1",
            # each host its own instance folder and local file folder: only the S3 store is shared
            "JIJIAO_INSTANCE": str(instance),
            "STORAGE_ROOT": str(instance / "files"),
            # the demo world is small: exports above 100 rows run as jobs on the worker
            "EXPORT_SYNC_MAX_ROWS": "100",
            "PYTHONPATH": str(ROOT),
        })
        env.pop("TEST_DATABASE_URL", None)
        return env

    # --- start -------------------------------------------------------------------------------------------
    def start(self) -> dict:
        stop_recorded(self.run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        for command in ("gunicorn", "celery", "flask", "moto_server"):
            if not (VENV_BIN / command).exists():
                raise SystemExit(f".venv/bin/{command} is missing: run `make install-dev` first")
        nginx = ensure_command("nginx", "nginx")
        ensure_postgres()
        subprocess.run(["bash", str(ROOT / "scripts" / "ensure_redis.sh")], check=True)
        subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", "6379", "-n", str(self.redis_db), "flushdb"],
                       check=True, stdout=subprocess.DEVNULL)
        key_file = self.run_dir / "secret_key"
        if not key_file.exists():
            key_file.write_text(secrets.token_hex(32))
            key_file.chmod(0o600)
        self.secret_key = key_file.read_text().strip()

        taken: set = set()
        ports = {"nginx": choose_port(self.port_base, taken), "host_a": choose_port(self.port_base + 1, taken),
                 "host_b": choose_port(self.port_base + 2, taken), "s3": choose_port(self.port_base + 10, taken)}
        urls = {"nginx": f"http://127.0.0.1:{ports['nginx']}", "host_a": f"http://127.0.0.1:{ports['host_a']}",
                "host_b": f"http://127.0.0.1:{ports['host_b']}", "s3": f"http://127.0.0.1:{ports['s3']}"}
        extra = {"ports": ports, "urls": urls, "database": f"{PG}/{self.db}", "run_dir": str(self.run_dir),
                 "redis_url": f"redis://127.0.0.1:6379/{self.redis_db}"}

        # S3-compatible store
        s3_env = dict(os.environ, AWS_ACCESS_KEY_ID="cluster-local", AWS_SECRET_ACCESS_KEY="cluster-local-secret")
        proc = self.spawn("s3", [str(VENV_BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(ports["s3"])], s3_env,
                          "moto_server")
        wait_port(ports["s3"], proc, "moto_server", self.run_dir / "s3.log")
        self.create_bucket(urls["s3"])
        self.save_state(extra)

        # database: fresh, migrated, roles and demo world
        env = self.app_env("prepare", ports)
        if not self.keep_db or not psql(f"SELECT 1 FROM pg_database WHERE datname = '{self.db}'"):
            log(f"creating database {self.db}")
            psql(f'DROP DATABASE IF EXISTS "{self.db}" WITH (FORCE)')
            psql(f'CREATE DATABASE "{self.db}"')
        log("flask prepare (migrations, roles, demo world)")
        prepared = subprocess.run([str(VENV_BIN / "flask"), "--app", "app:create_app", "prepare"], cwd=str(ROOT),
                                  env=env, capture_output=True, text=True)
        if prepared.returncode != 0:
            raise RuntimeError("flask prepare failed:\n" + (prepared.stdout + prepared.stderr)[-3000:])

        # two app hosts
        gunicorn_conf = ROOT / "gunicorn.conf.py"
        for name in ("host_a", "host_b"):
            env = self.app_env(name, ports)
            bind = f"127.0.0.1:{ports[name]}"
            metrics = self.run_dir / name / "metrics"
            # /metrics adds up the counters of every worker of the host (gunicorn.conf.py empties the folder)
            env.update({"BIND": bind, "WEB_CONCURRENCY": str(self.workers), "PROMETHEUS_MULTIPROC_DIR": str(metrics)})
            cmd = [str(VENV_BIN / "gunicorn")]
            if gunicorn_conf.exists():
                cmd += ["-c", str(gunicorn_conf)]
            cmd += ["--bind", bind, "--workers", str(self.workers), "--name", f"jijiao-{name}", "app:create_app()"]
            self.spawn(name, cmd, env, "gunicorn")
        # the Celery worker
        env = self.app_env("worker", ports)
        self.spawn("worker", [str(VENV_BIN / "celery"), "-A", "app.jobs.worker", "worker", "-Q", env["CELERY_QUEUE"],
                              "-c", "2", "-n", f"cluster-worker-{self.run_dir.name}@%h", "--loglevel", "INFO",
                              "--without-gossip", "--without-mingle"], env, "celery")
        # nginx
        nginx_dir = self.run_dir / "nginx"
        for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (nginx_dir / "tmp" / sub).mkdir(parents=True, exist_ok=True)
        user = ""
        if os.geteuid() == 0:  # workers drop root; Debian's group of "nobody" is "nogroup"
            group = "nogroup"
            try:
                grp.getgrnam(group)
            except KeyError:
                group = "nobody"
            user = f"user nobody {group};\n"
        servers = "\n".join(f"        server 127.0.0.1:{ports[name]} max_fails=1 fail_timeout=5s;"
                            for name in ("host_a", "host_b"))
        conf = nginx_dir / "nginx.conf"
        conf.write_text(NGINX_CONF.format(user=user, run=nginx_dir, servers=servers, port=ports["nginx"]))
        where = ["-p", str(nginx_dir), "-c", str(conf), "-e", str(nginx_dir / "error.log")]
        check = subprocess.run([nginx, "-t", "-q", *where], capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError("nginx configuration refused:\n" + check.stderr)
        proc = self.spawn("nginx", [nginx, *where], dict(os.environ), "nginx")
        wait_port(ports["nginx"], proc, "nginx", nginx_dir / "error.log")
        self.save_state(extra)

        # wait until everything answers
        for name in ("host_a", "host_b"):
            pid = self.procs[name]["pid"]
            wait_http(urls[name] + "/login/", _Pid(pid), name, Path(self.procs[name]["log"]))
        deadline = time.monotonic() + 90
        worker_log = Path(self.procs["worker"]["log"])
        while "ready." not in tail(worker_log, 100000):
            if time.monotonic() > deadline or not _Pid(self.procs["worker"]["pid"]).alive():
                raise RuntimeError("the Celery worker did not start:\n" + tail(worker_log))
            time.sleep(0.3)
        wait_http(urls["nginx"] + "/login/", _Pid(self.procs["nginx"]["pid"]), "nginx", nginx_dir / "error.log")
        self.save_state(extra)
        return self.load_state()

    def create_bucket(self, endpoint: str) -> None:
        import boto3

        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                              aws_access_key_id="cluster-local", aws_secret_access_key="cluster-local-secret")
        client.create_bucket(Bucket="jijiao-files")


class _Pid:
    """A Popen-like liveness check for a process we started (poll() is None while it runs)."""

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode = None

    def alive(self) -> bool:
        return process_alive(self.pid)

    def poll(self):
        return None if self.alive() else -1


def process_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def ours(component: dict) -> bool:
    """The recorded process still runs the program we started (a recycled pid is left alone)."""
    try:
        cmdline = Path(f"/proc/{component['pid']}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False
    return component.get("marker", "") in cmdline


def stop_component(name: str, component: dict, sig=signal.SIGTERM, wait: float = 15) -> None:
    pgid = component["pgid"]
    if not ours(component):
        # the leader is gone; its group may still hold children (gunicorn workers, celery pool)
        try:
            os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        return
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and process_alive(component["pid"]):
        time.sleep(0.1)
    try:
        os.killpg(pgid, signal.SIGKILL)  # whatever is left of the group
    except ProcessLookupError:
        pass


def stop_recorded(run_dir: Path) -> bool:
    state_path = run_dir / "state.json"
    try:
        state = json.loads(state_path.read_text())
    except (OSError, ValueError):
        return False
    order = ["nginx", "host_a", "host_b", "worker", "s3"]
    components = state.get("components", {})
    for name in sorted(components, key=lambda n: order.index(n) if n in order else 99):
        stop_component(name, components[name])
    state_path.unlink(missing_ok=True)
    return True


def print_urls(state: dict) -> None:
    urls = state["urls"]
    print(f"""
继教管理平台 cluster on this machine (run folder {os.path.relpath(state['run_dir'], ROOT)}):
  nginx (use this)    {urls['nginx']}/
  app host A          {urls['host_a']}/      (gunicorn, process groups recorded in state.json)
  app host B          {urls['host_b']}/
  S3 store (moto)     {urls['s3']}/   bucket jijiao-files
  Celery worker       queue jijiao-{Path(state['run_dir']).name} on {state['redis_url']}
  PostgreSQL          {state['database']}
  logs                {os.path.relpath(state['run_dir'], ROOT)}/*.log, nginx/access.log
Demo accounts: see README (e.g. 420102198503150020 / Demo@2026, user type 主管部门).""", flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["run", "start", "stop"])
    parser.add_argument("--run-dir", default=os.environ.get("CLUSTER_RUN_DIR", "run/cluster"))
    parser.add_argument("--db", default=os.environ.get("CLUSTER_DB", "jijiao_cluster"))
    parser.add_argument("--port-base", type=int, default=int(os.environ.get("CLUSTER_PORT_BASE", 8100)),
                        help="nginx on this port, the hosts on +1 and +2, the S3 store on +10")
    parser.add_argument("--redis-db", type=int, default=int(os.environ.get("CLUSTER_REDIS_DB", 5)))
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per app host")
    parser.add_argument("--keep-db", action="store_true", help="re-use the database instead of creating it afresh")
    args = parser.parse_args(argv)
    cluster = Cluster(args)
    if args.command == "stop":
        log("stopped" if stop_recorded(cluster.run_dir) else "nothing recorded as running")
        return 0
    try:
        state = cluster.start()
    except BaseException as exc:
        log(f"start failed: {exc}")
        stop_recorded(cluster.run_dir)
        return 1
    print_urls(state)
    if args.command == "start":
        return 0
    print("Ctrl-C stops everything.", flush=True)
    stop = {"now": False}

    def _stop(*_):
        stop["now"] = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    exited: set = set()
    try:
        while not stop["now"]:
            for name, component in state["components"].items():
                if name not in exited and not process_alive(component["pid"]):
                    log(f"{name} has exited (see {component['log']})")
                    exited.add(name)
            time.sleep(1)
    finally:
        log("stopping")
        stop_recorded(cluster.run_dir)
        log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
